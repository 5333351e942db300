"""Pages that only read: the inbox, search, the referral page and the like.

A view marked ``@read_only`` never writes: during its GET request a flush with changes, or an
INSERT, UPDATE or DELETE run through the session, raises. (Statements run directly on a
``Connection`` are not checked; no read-only page does so.)
On PostgreSQL its statements run without a surrounding transaction (autocommit): under read
committed (PostgreSQL's default, which Casework keeps) every statement of a transaction takes its
own snapshot anyway, so BEGIN and ROLLBACK would add two round trips per page and nothing else.
On SQLite its transaction begins deferred (a read snapshot) instead of taking the write lock as
every other transaction does (``casework/db_engine.py``).
"""
from __future__ import annotations

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from casework.db_engine import SQLITE_DEFERRED
from casework.extensions import db

READ_ONLY = "casework_read_only"
READS_FIRST = "casework_reads_first"


class WriteInReadOnlyRequest(RuntimeError):
    """A view marked ``@read_only`` tried to write."""


_READ_ONLY_OPTIONS = {"postgresql": {"isolation_level": "AUTOCOMMIT"}, "sqlite": {SQLITE_DEFERRED: True}}
_READS_FIRST_OPTIONS = {"sqlite": {SQLITE_DEFERRED: True}}


def _begin_with(options_by_dialect: dict) -> None:
    """Open the request's first connection with the options its dialect needs (if not open yet)."""
    bind = db.session.get_bind()
    if not isinstance(bind, Engine) or db.session().in_transaction():
        return
    options = options_by_dialect.get(bind.dialect.name)
    if options:
        db.session.connection(execution_options=options)


def read_only(view):
    """Mark a view as one that only reads."""
    setattr(view, READ_ONLY, True)
    return view


def reads_first(view):
    """Mark a view whose first transaction only reads (a long one: building an export) and which
    writes afterwards in a transaction of its own; on SQLite the first begins deferred."""
    setattr(view, READS_FIRST, True)
    return view


def register_read_only_requests(app: Flask) -> None:
    @app.before_request
    def begin_read_only():
        view = app.view_functions.get(request.endpoint or "")
        if request.method not in ("GET", "HEAD"):
            return
        if getattr(view, READ_ONLY, False):
            db.session.info[READ_ONLY] = True
            _begin_with(_READ_ONLY_OPTIONS)
        elif getattr(view, READS_FIRST, False):
            _begin_with(_READS_FIRST_OPTIONS)

    @app.teardown_request
    def end_read_only(_exc):
        db.session.info.pop(READ_ONLY, None)


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _context, _instances) -> None:
    if session.info.get(READ_ONLY) and (
            session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty)):
        raise WriteInReadOnlyRequest("a read-only page tried to write")


@event.listens_for(Session, "do_orm_execute")
def _refuse_statements(state) -> None:
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise WriteInReadOnlyRequest("a read-only page tried to write")
