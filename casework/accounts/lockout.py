"""Failed logins counted per account and source address; a lock shuts that pair out only.

A stranger who knows an officer's user name can lock the officer out of the stranger's own
address, not out of the officer's; every failure also counts against its address
(``casework.accounts.counters``), which bounds how fast anyone can guess across accounts.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from casework.accounts.counters import count_failed_login
from casework.accounts.models import LoginLock, User
from casework.accounts.policy import current_policy
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.extensions import db


def _row(user: User, source: str) -> LoginLock | None:
    return db.session.scalar(select(LoginLock).where(LoginLock.user_id == user.id,
                                                     LoginLock.source == source[:64]))


def is_locked(user: User, source: str) -> bool:
    row = _row(user, source)
    return bool(row and row.locked_until and row.locked_until > utcnow())


def count_failure(user: User, source: str, reason: str) -> None:
    """Count one failure of ``user`` from ``source``; lock the pair at the policy's limit. Audited."""
    count_failed_login(source)
    policy = current_policy()
    now = utcnow()
    row = _row(user, source)
    if row is None:
        row = LoginLock(user_id=user.id, source=source[:64], failures=0)
        db.session.add(row)
    if row.locked_until and row.locked_until <= now:
        row.locked_until = None
    row.failures = (row.failures or 0) + 1
    row.updated_at = now
    payload = {"reason": reason, "failures": row.failures, "source": source[:64]}
    if row.failures >= policy.lockout_failures:
        row.locked_until = now + timedelta(minutes=policy.lockout_minutes)
        row.failures = 0
        payload["locked_until"] = row.locked_until.isoformat()
        record_event("auth.lock", user, user, outcome="locked", payload=payload)
    record_event("auth.login", user, user, outcome="refused", payload=payload)
    db.session.flush()


def clear_failures(user: User, source: str) -> None:
    db.session.execute(delete(LoginLock).where(LoginLock.user_id == user.id, LoginLock.source == source[:64]))


def current_locks() -> list[LoginLock]:
    return db.session.scalars(select(LoginLock).where(LoginLock.locked_until > utcnow())
                              .order_by(LoginLock.locked_until.desc()).limit(500)).all()


def locked_sources(user: User) -> list[LoginLock]:
    return db.session.scalars(select(LoginLock).where(LoginLock.user_id == user.id,
                                                      LoginLock.locked_until > utcnow())).all()


def unlock_user(user: User, data: dict, actor: User) -> int:
    """Lift every lock and failure count of ``user`` (all sources); audited. Returns locks lifted."""
    lifted = len(locked_sources(user))
    db.session.execute(delete(LoginLock).where(LoginLock.user_id == user.id))
    record_event("security.unlock", actor, user, payload={"locks": lifted,
                                                          "reason": (data.get("reason") or "")[:200]})
    return lifted
