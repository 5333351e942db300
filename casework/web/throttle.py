"""Request limits per source address and per account, counted in the database.

Flask-Limiter keeps its counters in memory (one per process), Redis, Memcached or MongoDB; none of
the shared ones runs here, and per-process memory would multiply every limit by the number of
gunicorn workers. So the counters are rows of ``rate_counters`` in the application's own database:
one fixed window per key, raised by one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` that
SQLite and PostgreSQL share, committed at once so that a refused or failed request still counts.
Exceeding a limit answers 429 with a ``Retry-After`` header (a page, or JSON under /api/).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, current_app, jsonify, render_template, request, session
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from casework.accounts.models import RateCounter
from casework.extensions import db

# Form posts of the login steps (password, code, enrolment, forced change).
LOGIN_ENDPOINTS = frozenset({"accounts.login", "accounts.login_code", "accounts.login_enrol",
                             "accounts.login_password"})
DEFAULT_LIMITS = {
    "login_per_address": (20, 300),   # login form posts from one address per 5 minutes
    "api_per_address": (600, 60),     # API requests from one address per minute
    "api_per_account": (300, 60),     # API requests of one logged-in account per minute
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


def hit(key: str, limit: int, window: int, now: float | None = None) -> Verdict:
    """Count one request for ``key`` in the current fixed window of ``window`` seconds."""
    now = time.time() if now is None else now
    start = int(now // window) * window
    connection = db.session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    table = RateCounter.__table__
    statement = insert(table).values(key=key[:160], window_start=start, hits=1)
    statement = statement.on_conflict_do_update(index_elements=["key", "window_start"],
                                                set_={"hits": table.c.hits + 1}).returning(table.c.hits)
    hits = connection.execute(statement).scalar_one()
    if hits == 1:
        connection.execute(delete(table).where(table.c.key == key[:160], table.c.window_start < start))
    db.session.commit()
    return Verdict(hits <= limit, max(1, int(start + window - now + 0.999)))


def _limit(name: str) -> tuple[int, int]:
    return current_app.config.get("RATE_LIMITS", {}).get(name, DEFAULT_LIMITS[name])


def _session_user_id() -> str | None:
    """The account id in the signed session cookie (not loaded: counting needs no user row)."""
    ident = str(session.get("_user_id") or "").partition(":")[0]
    return ident if ident.isdigit() else None


def _checks() -> list[tuple[str, str]]:
    address = request.remote_addr or "unknown"
    if request.method == "POST" and request.endpoint in LOGIN_ENDPOINTS:
        return [("login_per_address", f"login:ip:{address}")]
    if request.path.startswith("/api/"):
        checks = [("api_per_address", f"api:ip:{address}")]
        if user_id := _session_user_id():
            checks.append(("api_per_account", f"api:user:{user_id}"))
        return checks
    return []


def too_many_requests(retry_after: int):
    if request.path.startswith("/api/"):
        response = jsonify({"error": f"too many requests; try again in {retry_after} s",
                            "retry_after": retry_after})
    else:
        response = current_app.make_response(render_template("accounts/too_many_requests.html",
                                                             retry_after=retry_after))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def register_throttle(app: Flask) -> None:
    @app.before_request
    def throttle():
        for name, key in _checks():
            limit, window = _limit(name)
            verdict = hit(key, limit, window)
            if not verdict.allowed:
                return too_many_requests(verdict.retry_after)
        return None
