"""One commit per request or command: commit on success, roll back on any error.

Refused attempts (a ``DomainError`` carrying ``audit``) are recorded in their own
transaction after the rollback, so that the refusal is on the trail and nothing
of the attempt is. Side effects registered with ``after_commit`` run only once the
commit has succeeded.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Callable

from flask import g, has_app_context
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from casework.audit.services import record_event
from casework.errors import ConflictError, DomainError
from casework.extensions import db


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current unit of work has committed."""
    g.setdefault("casework_after_commit", []).append(callback)


def _run_after_commit() -> None:
    callbacks = g.pop("casework_after_commit", []) if has_app_context() else []
    for callback in callbacks:
        callback()


def _record_refusal(error: DomainError) -> None:
    audit = dict(error.audit)
    event = audit.pop("event")
    audit.setdefault("outcome", "refused")
    audit.setdefault("payload", {})["reason"] = error.message
    record_event(event, **audit)
    db.session.commit()


@contextmanager
def unit_of_work():
    """Wrap one request's or command's changes in a single transaction."""
    try:
        yield db.session
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        g.pop("casework_after_commit", None)
        raise ConflictError() from exc
    except DBAPIError as exc:
        db.session.rollback()
        g.pop("casework_after_commit", None)
        if _lost_a_race(exc):
            raise ConflictError() from exc
        raise
    except DomainError as error:
        db.session.rollback()
        g.pop("casework_after_commit", None)
        if error.audit:
            _record_refusal(error)
        raise
    except BaseException:
        db.session.rollback()
        g.pop("casework_after_commit", None)
        raise
    _run_after_commit()


def _lost_a_race(exc: DBAPIError) -> bool:
    """PostgreSQL gave up on this transaction to let a concurrent one finish (deadlock, serialization)."""
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


def transactional(view):
    """Decorator for views that change state."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with unit_of_work():
            return view(*args, **kwargs)

    return wrapper
