"""Logged-in sessions, one row per browser: listed and ended by their user and the security administrator."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from casework.accounts.models import User, UserSession
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.extensions import db


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(user: User, address: str, user_agent: str) -> str:
    """Open a session for ``user``; returns the token that goes into the signed cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=token_hash(token), address=(address or "")[:64],
                               user_agent=(user_agent or "")[:200]))
    user.current_session_token = token
    return token


def open_sessions(user: User) -> list[UserSession]:
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                        UserSession.ended_at.is_(None))
                              .order_by(UserSession.created_at.desc())).all()


def session_for_token(user_id: int, token: str) -> UserSession | None:
    return db.session.scalar(select(UserSession).where(UserSession.user_id == user_id,
                                                       UserSession.token_hash == token_hash(token)))


def end_session_row(row: UserSession, reason: str, actor: User | None) -> None:
    """End one session (its cookie stops working at the next request); audited."""
    if row.ended_at is not None:
        return
    row.ended_at = utcnow()
    row.end_reason = reason[:32]
    record_event("auth.session_end", actor, db.session.get(User, row.user_id),
                 payload={"session": row.id, "reason": reason})


def end_all_sessions(user: User, reason: str, actor: User | None, keep_token: str | None = None) -> int:
    """End every open session of ``user`` (but the one of ``keep_token``); returns how many. Audited."""
    condition = [UserSession.user_id == user.id, UserSession.ended_at.is_(None)]
    if keep_token:
        condition.append(UserSession.token_hash != token_hash(keep_token))
    ended = db.session.execute(
        update(UserSession).where(*condition)
        .values(ended_at=utcnow(), end_reason=reason[:32])
        .execution_options(synchronize_session=False)).rowcount
    record_event("auth.sessions_end", actor, user, payload={"reason": reason, "sessions": ended})
    return ended
