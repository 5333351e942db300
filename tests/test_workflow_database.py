"""Tests that need a database of their own (audit rows cannot be deleted, and the tests commit for real):
a tampered audit row makes ``casework audit verify`` fail naming it, and two concurrent firings on the
same object let exactly one win. On PostgreSQL (CASEWORK_DATABASE_URL) a fresh database is created
through the server and dropped afterwards; otherwise a temporary SQLite file is used."""
from __future__ import annotations

import os
import threading
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from casework import create_app
from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.audit.services import verify_chain
from casework.errors import ConflictError, DomainError
from casework.extensions import db
from casework.migrate import upgrade
from casework.referrals.models import Referral
from casework.unit_of_work import unit_of_work
from casework.workflow.engine import fire
from casework.workflow.models import Clock
from tests import conftest
from tests.factories import make_referral


@contextmanager
def fresh_app(tmp_path):
    """An app on a new, migrated, seeded database that is thrown away afterwards."""
    base = os.environ.get("CASEWORK_DATABASE_URL", "")
    admin, name = None, None
    if base.startswith("postgresql"):
        url = make_url(base)
        name = f"casework_wf_{uuid.uuid4().hex[:10]}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        target = url.set(database=name).render_as_string(hide_password=False)
    else:
        target = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    app = create_app({**conftest.test_config(tmp_path, target), "ISSUE_NOTICES": False})
    try:
        upgrade(app)
        with app.app_context():
            conftest.seed_agencies_and_users()
            db.session.commit()
            db.session.remove()
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _draft_referral(app) -> int:
    with app.app_context(), unit_of_work():
        referral = make_referral(_user("edu-44.intake_officer"))
        db.session.flush()
        ident = referral.id
    return ident


def _tamper(app, event_id: int) -> None:
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
            conn.exec_driver_sql(f"UPDATE audit_events SET to_state = 'closed' WHERE id = {event_id}")
            conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql(f"UPDATE audit_events SET to_state = 'closed' WHERE id = {event_id}")


def test_audit_verify_names_the_edited_event(tmp_path):
    with fresh_app(tmp_path) as app:
        ident = _draft_referral(app)
        with app.app_context():
            for trigger, username in (("submit", "edu-44.intake_officer"), ("start_assessment", "edu-44.assessor")):
                with unit_of_work():
                    fire(db.session.get(Referral, ident), trigger, {}, _user(username))
            victim = db.session.scalar(select(AuditEvent.id).where(AuditEvent.event == "referral.submit"))
            db.session.remove()
        runner = app.test_cli_runner()
        intact = runner.invoke(args=["audit", "verify"])
        assert intact.exit_code == 0, intact.output
        _tamper(app, victim)
        broken = runner.invoke(args=["audit", "verify"])
        assert broken.exit_code == 1
        assert f"event id {victim} " in broken.output and "content does not match" in broken.output


def test_two_officers_firing_at_once_one_wins_and_nothing_is_half_applied(tmp_path):
    with fresh_app(tmp_path) as app:
        ident = _draft_referral(app)
        barrier = threading.Barrier(2, timeout=30)
        results: list[str] = []
        versions: list[int] = []

        def officer(username: str) -> None:
            with app.app_context():
                try:
                    referral = db.session.get(Referral, ident)  # the page, read in a request of its own
                    assert referral.state == "draft"
                    seen = referral.version
                    db.session.rollback()
                    barrier.wait()
                    with unit_of_work():
                        referral = db.session.get(Referral, ident)
                        fire(referral, "submit", {}, _user(username), expected_version=seen)
                        versions.append(referral.version)
                    results.append("won")
                except ConflictError as error:
                    results.append(f"conflict: {error.message}")
                except DomainError:  # SQLite serialises writers: the second sees the first's commit
                    results.append("conflict: already submitted")
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=officer, args=("edu-44.intake_officer",)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(results)[1] == "won" and sorted(results)[0].startswith("conflict: ")
        with app.app_context():
            referral = db.session.get(Referral, ident)
            assert (referral.state, [referral.version]) == ("submitted", versions)
            submits = db.session.scalar(select(func.count(AuditEvent.id)).where(
                AuditEvent.event == "referral.submit", AuditEvent.object_id == ident, AuditEvent.outcome == "ok"))
            clocks = db.session.scalar(select(func.count(Clock.id)).where(Clock.subject_id == ident,
                                                                          Clock.subject_type == "referral"))
            assert (submits, clocks) == (1, 1)
            assert verify_chain().ok


@pytest.mark.skipif(not os.environ.get("CASEWORK_DATABASE_URL", "").startswith("postgresql"),
                    reason="the fresh-database path through the server needs PostgreSQL")
def test_fresh_postgres_databases_are_dropped(tmp_path):
    with fresh_app(tmp_path) as app:
        name = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    admin = create_engine(make_url(os.environ["CASEWORK_DATABASE_URL"]).set(database="postgres"))
    with admin.connect() as conn:
        left = conn.exec_driver_sql("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).scalar()
    admin.dispose()
    assert left == 0
