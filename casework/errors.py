"""Domain errors: services raise them; views and the API turn them into answers."""
from __future__ import annotations

from casework.text import _


class DomainError(Exception):
    """A rule of the domain refused the request. ``audit`` describes the refused attempt."""

    status = 422

    def __init__(self, message: str, *, audit: dict | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.audit = audit
        self.field = field


class NotAllowed(DomainError):
    status = 403


class ConflictError(DomainError):
    """Someone else changed the object meanwhile (optimistic locking). The message is always the
    same, in the user's language: ``ConflictError()``."""

    status = 409

    def __init__(self, message: str | None = None, *, audit: dict | None = None, field: str | None = None):
        super().__init__(message or _("changed by someone else, reload"), audit=audit, field=field)


class ValidationFailed(DomainError):
    status = 400
    default_message = "invalid input"

    def __init__(self, errors: dict[str, str] | list[str], message: str = default_message):
        super().__init__(message)
        self.errors = errors
