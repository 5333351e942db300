"""Account services: create users, authenticate in steps (password, second factor), passwords, sessions."""
from __future__ import annotations

import secrets

from sqlalchemy import delete, select

from casework.accounts import lockout, totp
from casework.accounts.counters import count_failed_login
from casework.text import _
from casework.accounts.models import PasswordHistory, RecoveryCode, User, UserRole
from casework.accounts.passwords import (
    dummy_hash, hash_password, needs_rehash, password_problem, temporary_password, verify_password,
)
from casework.accounts.policy import current_policy
from casework.accounts.roles import Role, check_role_combination
from casework.accounts.sessions import end_all_sessions, session_for_token, start_session
from casework.agencies.models import Agency
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import DomainError, NotAllowed, ValidationFailed
from casework.extensions import db


def create_user(data: dict, actor: User | None) -> User:
    """Create an account. ``data``: username, display_name, agency_code, roles, password, and
    ``must_change_password`` (default true: the first login asks for a new password)."""
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
    if problem := policy_password_problem(data.get("password") or ""):
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors, "; ".join(f"{k}: {v}" for k, v in errors.items()))
    user = User(
        username=username,
        display_name=(data.get("display_name") or username).strip(),
        agency=agency,
        password_hash=hash_password(data["password"]),
        must_change_password=data.get("must_change_password", True) is not False,
        locale=data.get("locale") or "zh",
        role_rows=[UserRole(role=r) for r in sorted(roles)],
    )
    db.session.add(user)
    db.session.flush()
    _remember_password(user)
    record_event("user.create", actor, user, payload={"username": username, "roles": sorted(roles),
                                                       "agency": agency.code},
                 actor_name=None if actor else "cli")
    return user


class LoginRefused(DomainError):
    status = 401


GENERIC_REFUSAL = "invalid username or password, or the account is locked"


def authenticate(username: str, password: str, source: str = "") -> User:
    """Check the password (the first step of a login); count failures per account and source.

    Never reveals which check failed. Failure bookkeeping is flushed before raising so the caller
    can commit it. A user who passes still has to pass the second factor (``check_second_factor``)
    when enrolled, then ``complete_login`` opens the session.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(dummy_hash(), password)
        count_failed_login(source)
        record_event("auth.login", None, outcome="refused", actor_name=username[:64],
                     payload={"reason": "unknown user", "source": source[:64]})
        raise LoginRefused(GENERIC_REFUSAL)
    if lockout.is_locked(user, source):
        count_failed_login(source)
        record_event("auth.login", user, user, outcome="refused", payload={"reason": "locked",
                                                                           "source": source[:64]})
        raise LoginRefused(GENERIC_REFUSAL)
    if not user.active or not verify_password(user.password_hash, password):
        lockout.count_failure(user, source, "inactive" if not user.active else "bad password")
        raise LoginRefused(GENERIC_REFUSAL)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_second_factor(user: User, code: str, source: str = "") -> str:
    """The second step: a code of the authenticator or an unused recovery code.

    Returns ``"totp"`` or ``"recovery"``; a wrong code counts as a failed login from ``source``.
    """
    if lockout.is_locked(user, source) or not user.active:
        count_failed_login(source)
        record_event("auth.login", user, user, outcome="refused", payload={"reason": "locked",
                                                                           "source": source[:64]})
        raise LoginRefused(GENERIC_REFUSAL)
    if totp.accept_code(user, code):
        return "totp"
    if totp.use_recovery_code(user, code):
        record_event("auth.recovery_code", user, user, payload={"left": totp.recovery_codes_left(user)})
        return "recovery"
    lockout.count_failure(user, source, "bad second factor")
    raise LoginRefused("the code is wrong or was already used")


def complete_login(user: User, source: str, user_agent: str, second_factor: str | None) -> str:
    """Open a new session for a user who passed every step; returns its token. Audited."""
    lockout.clear_failures(user, source)
    user.last_login_at = utcnow()
    token = start_session(user, source, user_agent)
    record_event("auth.login", user, user, payload={"second_factor": second_factor, "source": source[:64]})
    return token


def end_session(user: User, token: str | None, reason: str = "logout") -> None:
    """End the session of ``token`` (logout); the cookie stops working everywhere it was copied."""
    row = session_for_token(user.id, token) if token else None
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason
    record_event("auth.logout", user, user, payload={"reason": reason})


def policy_password_problem(password: str) -> str | None:
    policy = current_policy()
    return password_problem(password, policy.password_min_length, policy.password_min_classes)


def _remember_password(user: User) -> None:
    """Keep the current hash in the history and forget those beyond the policy's count."""
    keep = max(current_policy().password_history, 1)
    db.session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    db.session.flush()
    old = db.session.scalars(select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
                             .order_by(PasswordHistory.id.desc()).offset(keep)).all()
    if old:
        db.session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(old)))


def _reuses_recent_password(user: User, password: str) -> bool:
    count = current_policy().password_history
    if count <= 0:
        return False
    hashes = db.session.scalars(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                                .order_by(PasswordHistory.id.desc()).limit(count)).all()
    return any(verify_password(h, password) for h in [user.password_hash, *hashes])


def change_password(user: User, data: dict, actor: User, keep_token: str | None = None) -> User:
    """Set a new password chosen by the user. ``data``: new_password, confirm, and current_password
    unless ``data["current_checked"]`` (the login flow has just checked it).

    Applies the policy (length, classes, none of the last N), clears a forced change, ends the
    user's other sessions. Audited.
    """
    errors = {}
    new = data.get("new_password") or ""
    if not data.get("current_checked") and not verify_password(user.password_hash, data.get("current_password") or ""):
        errors["current_password"] = _("the current password is wrong")
    if problem := policy_password_problem(new):
        errors["new_password"] = problem
    elif new != (data.get("confirm") or ""):
        errors["confirm"] = _("the two new passwords differ")
    elif _reuses_recent_password(user, new):
        errors["new_password"] = _("must differ from the last %(n)d passwords",
                                   n=max(current_policy().password_history, 1))
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    _remember_password(user)
    end_all_sessions(user, "password changed", actor, keep_token=keep_token)
    record_event("auth.password_change", actor, user)
    return user


def reset_password(user: User, data: dict, actor: User | None) -> str:
    """Give ``user`` a generated one-time password to be changed at the next login; ends the user's
    sessions and lifts login locks. Audited. Returns the temporary password, to be shown once.

    ``data``: optional ``reason``. ``actor``: a system or security administrator (None: the CLI).
    """
    if actor is not None and not actor.has_role(Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN):
        raise NotAllowed("only a system or security administrator resets passwords",
                         audit={"event": "user.password_reset", "actor": actor, "obj": user})
    policy = current_policy()
    password = temporary_password(policy.password_min_length)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    _remember_password(user)
    end_all_sessions(user, "password reset", actor)
    record_event("user.password_reset", actor, user, payload={"reason": (data.get("reason") or "")[:200]},
                 actor_name=None if actor else "cli")
    return password


def enrol_second_factor(user: User, secret: str, code: str) -> list[str]:
    """Confirm enrolment of an authenticator with its first code; returns ten recovery codes (shown once)."""
    step = totp.matching_step(secret, code)
    if step is None:
        raise ValidationFailed({"code": _("the code does not match; check the phone's clock and try again")})
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = step
    db.session.flush()
    codes = totp.new_recovery_codes(user)
    record_event("auth.2fa_enrol", user, user)
    return codes


def reset_second_factor(user: User, data: dict, actor: User) -> User:
    """Remove ``user``'s authenticator and recovery codes (lost phone); the user enrols again at the
    next login. Ends the user's sessions. Security administrator only; audited."""
    if not actor.has_role(Role.SECURITY_ADMIN):
        raise NotAllowed("only a security administrator resets a second factor",
                         audit={"event": "security.2fa_reset", "actor": actor, "obj": user})
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_all_sessions(user, "second factor reset", actor)
    record_event("security.2fa_reset", actor, user, payload={"reason": (data.get("reason") or "")[:200]})
    return user


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
    user.totp_secret = None
    end_all_sessions(user, "anonymised", actor)
    record_event("user.anonymise", actor, user, payload={"reason": (data.get("reason") or "")[:200]},
                 actor_name=None if actor else "cli")
    db.session.flush()
    return user
