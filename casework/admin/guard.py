"""Who may open the administrators' pages: each page names the one role it belongs to; anyone
else is answered 404, as for objects outside their scope."""
from __future__ import annotations

import functools

from flask import abort
from flask_login import current_user, login_required


def may_administer(user, role: str) -> bool:
    """The predicate behind every administrator's page: the user holds ``role``."""
    return bool(user.is_authenticated and user.has_role(role))


def role_required(role: str):
    """Decorator: signed in and holding ``role``, else 404."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not may_administer(current_user, role):
                abort(404)
            return view(*args, **kwargs)

        return login_required(wrapper)

    return decorate
