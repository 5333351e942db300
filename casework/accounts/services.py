"""Account services: create users, authenticate with lockout, end sessions."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from casework.accounts.models import User, UserRole
from casework.accounts.passwords import (
    DUMMY_HASH, hash_password, needs_rehash, password_problem, verify_password,
)
from casework.accounts.roles import Role, check_role_combination
from casework.agencies.models import Agency
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import DomainError, NotAllowed, ValidationFailed
from casework.extensions import db


def create_user(data: dict, actor: User | None) -> User:
    """Create an account. ``data``: username, display_name, agency_code, roles, password."""
    errors = {}
    username = (data.get("username") or "").strip()
    if not username or len(username) > 64:
        errors["username"] = "username is required (at most 64 characters)"
    elif db.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = f"user {username!r} already exists"
    agency = db.session.scalar(select(Agency).where(Agency.code == data.get("agency_code")))
    if agency is None:
        errors["agency_code"] = f"no agency with code {data.get('agency_code')!r}"
    roles = set(data.get("roles") or [])
    unknown = roles - {r.value for r in Role}
    if not roles or unknown:
        errors["roles"] = f"unknown roles: {sorted(unknown)}" if unknown else "at least one role"
    elif problem := check_role_combination(roles):
        errors["roles"] = problem
    if problem := password_problem(data.get("password") or ""):
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors, "; ".join(f"{k}: {v}" for k, v in errors.items()))
    user = User(
        username=username,
        display_name=(data.get("display_name") or username).strip(),
        agency=agency,
        password_hash=hash_password(data["password"]),
        locale=data.get("locale") or "zh",
        session_token=secrets.token_hex(16),
        role_rows=[UserRole(role=r) for r in sorted(roles)],
    )
    db.session.add(user)
    db.session.flush()
    record_event("user.create", actor, user, payload={"username": username, "roles": sorted(roles),
                                                       "agency": agency.code},
                 actor_name=None if actor else "cli")
    return user


class LoginRefused(DomainError):
    status = 401


GENERIC_REFUSAL = "invalid username or password, or the account is locked"


def authenticate(username: str, password: str) -> User:
    """Check the password; count failures and lock after too many. Never reveals which failed.

    Failure bookkeeping is flushed before raising so the caller can commit it.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    now = utcnow()
    if user is None:
        verify_password(DUMMY_HASH, password)
        record_event("auth.login", None, outcome="refused", actor_name=username[:64],
                     payload={"reason": "unknown user"})
        raise LoginRefused(GENERIC_REFUSAL)
    if user.locked_until and user.locked_until > now:
        record_event("auth.login", user, user, outcome="refused", payload={"reason": "locked"})
        raise LoginRefused(GENERIC_REFUSAL)
    if not user.active or not verify_password(user.password_hash, password):
        _count_failure(user, now)
        raise LoginRefused(GENERIC_REFUSAL)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    user.session_token = secrets.token_hex(16)
    record_event("auth.login", user, user)
    return user


def _count_failure(user: User, now) -> None:
    user.failed_logins += 1
    payload = {"reason": "inactive" if not user.active else "bad password",
               "failures": user.failed_logins}
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
        payload["locked_until"] = user.locked_until.isoformat()
        record_event("auth.lock", user, user, outcome="locked", payload=payload)
    record_event("auth.login", user, user, outcome="refused", payload=payload)


def end_session(user: User, reason: str = "logout") -> None:
    """Invalidate the user's session everywhere by rotating the session token."""
    user.session_token = secrets.token_hex(16)
    record_event("auth.logout", user, user, payload={"reason": reason})


def anonymise_user(user: User, data: dict, actor: User | None) -> User:
    """Remove a departed user's personal details and disable the account.

    The row stays (cases and audit events point at it) and the audit events keep their
    recorded actor name and hash: the trail is never rewritten.
    """
    if actor is not None and not actor.has_role("security_admin"):
        raise NotAllowed("only a security administrator anonymises accounts",
                         audit={"event": "user.anonymise", "actor": actor, "obj": user})
    user.username = f"anonymised-{user.id}"
    user.display_name = f"已注销用户 {user.id}"
    user.active = False
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    user.session_token = secrets.token_hex(16)
    record_event("user.anonymise", actor, user, payload={"reason": (data.get("reason") or "")[:200]},
                 actor_name=None if actor else "cli")
    db.session.flush()
    return user
