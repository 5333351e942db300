"""The schema exists only through Alembic; the models and the revisions agree."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from casework.audit.services import record_event
from casework.extensions import db
from casework.migrate import current_revision, head_revision


def test_test_database_is_at_head(app):
    assert current_revision(app) == head_revision(app)


def test_models_and_migrations_agree(app, db_session):
    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET event = 'forged' WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_database_refuses_to_change_audit_events(db_session, statement):
    event = record_event("test.event", None, payload={"x": 1})
    nested = db.session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement), {"id": event.id})
    nested.rollback()
