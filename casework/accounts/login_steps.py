"""The steps of a login after the password: second factor, forced password change, enrolment.

Between the steps the signed session cookie holds only the user's id, when the password was
accepted and what has been done since; nobody is logged in until every step is passed.
"""
from __future__ import annotations

import time

from flask import session

from casework.accounts.models import User
from casework.accounts.policy import two_factor_required
from casework.extensions import db

PENDING_LOGIN = "pending_login"
PENDING_SECONDS = 10 * 60


def begin(user: User) -> None:
    session.clear()
    session[PENDING_LOGIN] = {"user_id": user.id, "at": time.time(), "factor": None}


def state() -> dict | None:
    """The login in progress, or None (none, or older than ten minutes)."""
    pending = session.get(PENDING_LOGIN)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    return pending


def update(**changes) -> None:
    session[PENDING_LOGIN] = {**session[PENDING_LOGIN], **changes}


def pending_user() -> User | None:
    pending = state()
    user = db.session.get(User, pending["user_id"]) if pending else None
    return user if user is not None and user.active else None


def next_step(user: User, pending: dict) -> str | None:
    """The endpoint of the next step still to pass, or None when the login can be completed."""
    if user.totp_enrolled and not pending.get("factor"):
        return "accounts.login_code"
    if user.must_change_password:
        return "accounts.login_password"
    if not user.totp_enrolled and two_factor_required(user):
        return "accounts.login_enrol"
    return None
