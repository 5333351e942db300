"""Access denials: 404s on object pages, recorded per user and rate-limited.

Every denial is counted in ``access_denial_windows``; an ``access.denied`` audit event is written at
most once per user per window (``ACCESS_DENIAL_WINDOW_MINUTES``, default 10), carrying the number of
denials since the previous event and a few sample paths. Probing shows on the trail without one
event per probe; ``report_pending_denials`` writes what a quiet window left unreported.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import JSON, ForeignKey, Integer, select
from sqlalchemy.orm import Mapped, mapped_column

from casework.accounts.models import User
from casework.audit.services import record_event
from casework.db_types import UTCDateTime, utcnow
from casework.db_upsert import upsert
from casework.extensions import db

SAMPLE_PATHS = 5
PATH_LIMIT = 200
DEFAULT_WINDOW_MINUTES = 10


class AccessDenialWindow(db.Model):
    """One row per user: denials not yet on the trail, and when the last event was written."""

    __tablename__ = "access_denial_windows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    unreported: Mapped[int] = mapped_column(Integer, default=0)
    sample_paths: Mapped[list] = mapped_column(JSON, default=list)
    first_unreported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def window() -> timedelta:
    return timedelta(minutes=max(int(current_app.config.get("ACCESS_DENIAL_WINDOW_MINUTES", DEFAULT_WINDOW_MINUTES)), 1))


def note_access_denial(user, data: dict, actor=None) -> bool:
    """Count one denial of ``user`` on ``data["path"]``; write the audit event when the user's window
    allows it. Returns whether an event was written. Flushes, never commits."""
    now = data.get("now") or utcnow()
    path = _clean_path(data.get("path") or "")
    table = AccessDenialWindow.__table__
    upsert(db.session.connection(), table,
           {"user_id": user.id, "unreported": 1, "sample_paths": [], "first_unreported_at": now},
           ["user_id"], lambda excluded: {"unreported": table.c.unreported + 1})
    row = db.session.execute(
        select(AccessDenialWindow).where(AccessDenialWindow.user_id == user.id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if row.first_unreported_at is None:
        row.first_unreported_at = now
    if path not in row.sample_paths and len(row.sample_paths) < SAMPLE_PATHS:
        row.sample_paths = [*row.sample_paths, path]
    if row.last_reported_at is not None and now - row.last_reported_at < window():
        db.session.flush()
        return False
    _report(row, user, now)
    return True


def report_pending_denials(data: dict | None = None, actor=None) -> int:
    """Write the events that quiet windows left unreported (denials counted since a user's last
    event, once that event is a window old). Returns how many events were written."""
    now = (data or {}).get("now") or utcnow()
    rows = db.session.scalars(
        select(AccessDenialWindow).where(AccessDenialWindow.unreported > 0).with_for_update()
    ).all()
    written = 0
    for row in rows:
        if row.last_reported_at is None or now - row.last_reported_at >= window():
            user = db.session.get(User, row.user_id)
            _report(row, user, now)
            written += 1
    return written


def _report(row: AccessDenialWindow, user, now: datetime) -> None:
    record_event("access.denied", user, outcome="refused", payload={
        "count": row.unreported, "sample_paths": row.sample_paths,
        "since": row.first_unreported_at.isoformat() if row.first_unreported_at else None,
        "window_minutes": int(window().total_seconds() // 60)})
    row.unreported = 0
    row.sample_paths = []
    row.first_unreported_at = None
    row.last_reported_at = now
    db.session.flush()


def _clean_path(path: str) -> str:
    return "".join(ch for ch in path if ch.isprintable())[:PATH_LIMIT]
