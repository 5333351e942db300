"""The step-up re-check: the most sensitive actions need a second factor given in the last minutes.

``has_recent_second_factor(user)`` is the predicate; ``require_recent_second_factor`` the view
decorator (pages are sent to the code form and back; the API answers 403 with a JSON body).
Approving a disposition, changing roles and exporting the audit trail use it.
"""
from __future__ import annotations

import functools
import time
from urllib.parse import urlsplit

from flask import flash, jsonify, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from casework.accounts.policy import two_factor_required

STEP_UP_SECONDS = 5 * 60
SECOND_FACTOR_AT = "second_factor_at"
# Workflow steps fired from the referral page or the API that need the re-check.
STEP_UP_TRIGGERS = frozenset({"approve_disposition"})


def mark_second_factor(now: float | None = None) -> None:
    """Record in the session that its user has just given a second factor."""
    session[SECOND_FACTOR_AT] = time.time() if now is None else now


def has_recent_second_factor(user) -> bool:
    """True when ``user`` gave a code within ``STEP_UP_SECONDS`` in this session.

    A user with no authenticator passes only when no second factor is required of them (there is
    nothing to re-check); one who must enrol cannot be logged in without one.
    """
    if not user.is_authenticated:
        return False
    if not user.totp_enrolled:
        return not two_factor_required(user)
    return time.time() - session.get(SECOND_FACTOR_AT, 0) <= STEP_UP_SECONDS


def _return_path() -> str:
    """Where to come back after the re-check: this page for a GET, the page the form was on for a POST."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/"


def step_up_answer():
    """The answer to a request that needs a fresh second factor."""
    if request.path.startswith("/api/"):
        return jsonify({"error": "confirm with a code from your authenticator first",
                        "confirm_url": url_for("accounts.confirm")}), 403
    flash(_l("For this step, confirm with a code from your authenticator app first, then repeat it."), "warning")
    return redirect(url_for("accounts.confirm", next=_return_path()))


def require_recent_second_factor(view):
    """Decorator: the view runs only after a second factor given within the last five minutes."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_user.is_authenticated and not has_recent_second_factor(current_user):
            return step_up_answer()
        return view(*args, **kwargs)

    return wrapper
