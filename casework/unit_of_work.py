"""One commit per request or command: commit on success, roll back on any error.

Refused attempts (a ``DomainError`` carrying ``audit``) are recorded in their own
transaction after the rollback, so that the refusal is on the trail and nothing
of the attempt is. Side effects registered with ``after_commit`` run only once the
commit has succeeded.

A database that cannot serve the request now (SQLite's write lock still held by another
transaction after the busy wait, PostgreSQL restarting or unreachable, the connection pool
exhausted) is answered 503 with ``Retry-After``, never 500; nothing of the request was saved.
A transaction PostgreSQL cancelled to let a concurrent one finish is a 409 with ``Retry-After``.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Callable

from flask import Flask, g, has_app_context, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

from casework.audit.services import record_event
from casework.errors import ConflictError, DomainError
from casework.extensions import db

RETRY_AFTER_SECONDS = 3
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
# PostgreSQL error classes meaning "not now": connection exception, insufficient resources (too many
# connections), operator intervention (shutting down, starting up, statement cancelled).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


# In both languages: choosing one would load the user, from the database that cannot answer.
UNAVAILABLE_ZH = "数据库繁忙或正在重启，本次操作未保存。请几秒钟后重试。"
UNAVAILABLE_EN = "The database is busy or restarting, so nothing was saved. Try again in a few seconds."


class Unavailable(DomainError):
    """The request cannot be served now (503, ``Retry-After``); trying again later may work."""

    status = 503

    def messages(self) -> list[str]:
        """The paragraphs of the answer's page."""
        return [self.message]


class DatabaseUnavailable(Unavailable):
    """The database cannot serve this request now; nothing was saved."""

    def __init__(self):
        super().__init__(UNAVAILABLE_EN)

    def messages(self) -> list[str]:
        return [UNAVAILABLE_ZH, UNAVAILABLE_EN]


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current unit of work has committed."""
    g.setdefault("casework_after_commit", []).append(callback)


def _run_after_commit() -> None:
    callbacks = g.pop("casework_after_commit", []) if has_app_context() else []
    for callback in callbacks:
        callback()


def _record_refusal(error: DomainError) -> None:
    audit = dict(error.audit)
    event = audit.pop("event")
    audit.setdefault("outcome", "refused")
    audit.setdefault("payload", {})["reason"] = error.message
    record_event(event, **audit)
    db.session.commit()


@contextmanager
def unit_of_work():
    """Wrap one request's or command's changes in a single transaction."""
    try:
        yield db.session
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        g.pop("casework_after_commit", None)
        raise ConflictError() from exc
    except DBAPIError as exc:
        db.session.rollback()
        g.pop("casework_after_commit", None)
        if _lost_a_race(exc):
            raise ConflictError() from exc
        if database_unavailable(exc):
            raise DatabaseUnavailable() from exc
        raise
    except DomainError as error:
        db.session.rollback()
        g.pop("casework_after_commit", None)
        if error.audit:
            _record_refusal(error)
        raise
    except BaseException:
        db.session.rollback()
        g.pop("casework_after_commit", None)
        raise
    _run_after_commit()


def _lost_a_race(exc: DBAPIError) -> bool:
    """PostgreSQL gave up on this transaction to let a concurrent one finish (deadlock, serialization)."""
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


def database_unavailable(exc: DBAPIError) -> bool:
    """The error says "not now" (a lock not had in time, a lost or refused connection), not "wrong"."""
    if exc.connection_invalidated:
        return True
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:
        return isinstance(exc, OperationalError)  # psycopg's failed connection attempt carries none
    return sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES


def register_unavailable_answers(app: Flask) -> None:
    """503 for a database that cannot serve now, also outside a unit of work (loading the user, a
    read-only page); every 503 and 409 answer says when to try again (``Retry-After``)."""

    @app.errorhandler(Unavailable)
    def unavailable(error: Unavailable):
        db.session.rollback()  # a lost connection leaves the session's transaction invalid
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify({"error": error.message, "retry_after": RETRY_AFTER_SECONDS}), 503
        # Rendered without the context processors: Flask-Login's would load the user from the database.
        page = app.jinja_env.get_template("errors/unavailable.html")
        return page.render(messages=error.messages(), request=request), 503

    @app.errorhandler(DBAPIError)
    def driver_error(error: DBAPIError):
        if not database_unavailable(error):
            raise error
        return unavailable(DatabaseUnavailable())

    @app.errorhandler(PoolTimeout)
    def pool_exhausted(_error):
        return unavailable(DatabaseUnavailable())

    @app.after_request
    def retry_after(response):
        if response.status_code in (409, 503):
            response.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        return response


def transactional(view):
    """Decorator for views that change state."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with unit_of_work():
            return view(*args, **kwargs)

    return wrapper
