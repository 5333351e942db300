"""Login manager wiring, idle timeout and security headers."""
from __future__ import annotations

import functools
from datetime import datetime, timezone

from flask import Flask, flash, jsonify, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from casework.accounts.models import User
from casework.extensions import db, login_manager


# Once per request: built once, so a request only binds the id (its agency is joined too).
@functools.cache
def _user_by_id():
    return select(User).options(joinedload(User.role_rows)).where(User.id == bindparam("user_id"))


@login_manager.user_loader
def load_user(user_id: str):
    ident, _, token = user_id.partition(":")
    if not ident.isdigit():
        return None
    user = db.session.execute(_user_by_id(), {"user_id": int(ident)}).unique().scalar_one_or_none()
    if user is None or not user.active or not token or token != user.session_token:
        return None
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


def register_session_hooks(app: Flask) -> None:
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
        if not session.permanent:
            session.permanent = True
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'",
        )
        return response
