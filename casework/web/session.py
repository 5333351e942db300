"""Login manager wiring, idle timeout, the step-up check of sensitive workflow steps, and the
registration of the throttle and the security headers."""
from __future__ import annotations

import functools
from datetime import datetime, timezone

from flask import Flask, flash, jsonify, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from casework.accounts.models import User, UserSession
from casework.accounts.sessions import token_hash
from casework.accounts.step_up import STEP_UP_TRIGGERS, has_recent_second_factor, step_up_answer
from casework.db_types import utcnow
from casework.extensions import db, login_manager
from casework.web.headers import register_security_headers
from casework.web.throttle import register_throttle

# Views that fire a workflow trigger by name (referral page forms and the API).
FIRING_ENDPOINTS = frozenset({"actions.fire_referral", "actions.fire_assignment", "workflow_api.fire_trigger"})


# Once per request: built once, so a request only binds the id and the token's hash.
@functools.cache
def _user_by_session():
    return (select(User).join(UserSession, UserSession.user_id == User.id)
            .options(joinedload(User.role_rows))
            .where(User.id == bindparam("user_id"), UserSession.token_hash == bindparam("token_hash"),
                   UserSession.ended_at.is_(None)))


@login_manager.user_loader
def load_user(user_id: str):
    ident, _, token = user_id.partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.execute(_user_by_session(), {"user_id": int(ident), "token_hash": token_hash(token)}
                              ).unique().scalar_one_or_none()
    if user is None or not user.active:
        return None
    user.current_session_token = token
    return user


# The session cookie is rewritten when ``last_seen`` moves by a minute, not on every request.
LAST_SEEN_RESOLUTION = 60

login_manager.login_view = "accounts.login"
login_manager.login_message = _l("Please log in.")
login_manager.session_protection = "strong"


def _api_request() -> bool:
    return request.path.startswith("/api/")


@login_manager.unauthorized_handler
def unauthorized():
    """The API answers 401 with a JSON body; pages send the browser to the login form."""
    if _api_request():
        return jsonify({"error": "log in first"}), 401
    flash(login_manager.login_message, "info")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def _record_last_seen(token: str | None) -> None:
    """Note in the sessions table that the session is in use (once a minute), committed at once."""
    if not token:
        return
    db.session.connection().execute(update(UserSession).where(UserSession.token_hash == token_hash(token))
                                    .values(last_seen_at=utcnow()))
    db.session.commit()


def _needs_step_up() -> bool:
    return (request.method == "POST" and request.endpoint in FIRING_ENDPOINTS
            and (request.view_args or {}).get("trigger") in STEP_UP_TRIGGERS
            and not has_recent_second_factor(current_user))


def register_session_hooks(app: Flask) -> None:
    register_throttle(app)

    @app.before_request
    def idle_timeout():
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = datetime.now(timezone.utc).timestamp()
        last = session.get("last_seen", now)
        if now - last > app.config["SESSION_IDLE_MINUTES"] * 60:
            logout_user()
            session.clear()
            if _api_request():
                return jsonify({"error": "the session expired after inactivity; log in again"}), 401
            flash(_l("Your session expired after inactivity. Please log in again."), "warning")
            return redirect(url_for("accounts.login", next=request.path))
        if now - last >= LAST_SEEN_RESOLUTION or "last_seen" not in session:
            session["last_seen"] = now
            _record_last_seen(current_user.current_session_token)
        if not session.permanent:
            session.permanent = True
        return None

    @app.before_request
    def step_up_for_sensitive_steps():
        """Approving a disposition (from the referral page or the API) needs a fresh second factor."""
        if current_user.is_authenticated and _needs_step_up():
            return step_up_answer()
        return None

    register_security_headers(app)
