"""Fixed-window counters in the database (``rate_counters``), shared by every app process.

Flask-Limiter keeps its counters in memory (one set per process), Redis, Memcached or MongoDB;
none of the shared ones runs here, and per-process memory would multiply every limit by the
number of gunicorn workers. So each counter is a row of the application's own database: one
fixed window per key, raised by one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` that
SQLite and PostgreSQL share. The previous window's row goes when a new window starts.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from casework.accounts.models import RateCounter
from casework.extensions import db

DEFAULT_LIMITS = {
    "login_per_address": (30, 900),   # failed login steps from one address per 15 minutes
    "api_per_address": (600, 60),     # API requests from one address per minute
    "api_per_account": (300, 60),     # API requests of one logged-in account per minute
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


def limit(name: str) -> tuple[int, int]:
    """(requests, seconds) of a named limit: ``RATE_LIMITS`` in the configuration, else the default."""
    return current_app.config.get("RATE_LIMITS", {}).get(name, DEFAULT_LIMITS[name])


def _window(window: int, now: float | None) -> tuple[float, int]:
    now = time.time() if now is None else now
    return now, int(now // window) * window


def _retry_after(start: int, window: int, now: float) -> int:
    return max(1, int(start + window - now + 0.999))


def hit(key: str, name: str, now: float | None = None) -> Verdict:
    """Count one event for ``key`` under the limit ``name`` (in the current transaction)."""
    most, window = limit(name)
    now, start = _window(window, now)
    key = key[:160]
    connection = db.session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    table = RateCounter.__table__
    statement = insert(table).values(key=key, window_start=start, hits=1)
    statement = statement.on_conflict_do_update(index_elements=["key", "window_start"],
                                                set_={"hits": table.c.hits + 1}).returning(table.c.hits)
    hits = connection.execute(statement).scalar_one()
    if hits == 1:
        connection.execute(delete(table).where(table.c.key == key, table.c.window_start < start))
    return Verdict(hits <= most, _retry_after(start, window, now))


def peek(key: str, name: str, now: float | None = None) -> Verdict:
    """Whether one more event for ``key`` is still within the limit ``name`` (counts nothing)."""
    most, window = limit(name)
    now, start = _window(window, now)
    table = RateCounter.__table__
    hits = db.session.connection().execute(
        select(table.c.hits).where(table.c.key == key[:160], table.c.window_start == start)).scalar() or 0
    return Verdict(hits < most, _retry_after(start, window, now))


def login_address_key(source: str) -> str:
    return f"login:ip:{source}"


def count_failed_login(source: str) -> None:
    """A failed login step from ``source``; enough of them close the login to that address for a while."""
    hit(login_address_key(source), "login_per_address")
