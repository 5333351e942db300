"""Pages that only read: the inbox, search, the referral page and the like.

A view marked ``@read_only`` never writes: during its GET request a flush with changes, or an
INSERT, UPDATE or DELETE run through the session, raises. (Statements run directly on a
``Connection`` are not checked; no read-only page does so.)
On PostgreSQL its statements run without a surrounding transaction (autocommit): under read
committed (PostgreSQL's default, which Casework keeps) every statement of a transaction takes its
own snapshot anyway, so BEGIN and ROLLBACK would add two round trips per page and nothing else.
"""
from __future__ import annotations

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from casework.extensions import db

READ_ONLY = "casework_read_only"


class WriteInReadOnlyRequest(RuntimeError):
    """A view marked ``@read_only`` tried to write."""


def read_only(view):
    """Mark a view as one that only reads."""
    setattr(view, READ_ONLY, True)
    return view


def register_read_only_requests(app: Flask) -> None:
    @app.before_request
    def begin_read_only():
        view = app.view_functions.get(request.endpoint or "")
        if request.method not in ("GET", "HEAD") or not getattr(view, READ_ONLY, False):
            return
        db.session.info[READ_ONLY] = True
        bind = db.session.get_bind()
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql" and not db.session().in_transaction():
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

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
