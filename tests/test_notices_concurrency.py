"""Concurrent issuing on PostgreSQL: numbers stay gap-free and unique.

Runs on a fresh database created for the test and dropped afterwards (audit rows cannot be
deleted, so nothing is left in the shared test database).
"""
from __future__ import annotations

import os
import secrets
import threading

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from casework import create_app
from casework.assignments.models import Assignment
from casework.extensions import db
from casework.notices.models import Notice, NoticeCounter
from casework.notices.services import issue_notice
from casework.referrals.models import Referral
from casework.unit_of_work import unit_of_work
from tests import conftest
from tests.factories import assignment_row, find_user, referral_row

DATABASE_URL = os.environ.get("CASEWORK_DATABASE_URL", "")
THREADS, PER_THREAD = 4, 5


@pytest.fixture
def fresh_postgres(tmp_path):
    admin_url = make_url(DATABASE_URL)
    name = f"casework_notices_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    app = create_app(conftest.test_config(tmp_path, admin_url.set(database=name).render_as_string(hide_password=False)))
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.skipif(not DATABASE_URL.startswith("postgresql"), reason="needs PostgreSQL in CASEWORK_DATABASE_URL")
def test_concurrent_issuing_keeps_numbers_gap_free(fresh_postgres):
    from casework.migrate import upgrade

    app = fresh_postgres
    upgrade(app)
    with app.app_context():
        conftest.seed_agencies_and_users()
        referral = referral_row("edu-11")
        ids = [assignment_row(referral, "psb-11", state="received").id for _ in range(THREADS * PER_THREAD)]
        db.session.commit()
        db.session.remove()
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(mine: list[int]) -> None:
        try:
            with app.app_context():
                start.wait()
                for assignment_id in mine:
                    with unit_of_work():
                        issue_notice("receipt", db.session.get(Assignment, assignment_id),
                                     find_user("psb-11.case_officer"))
                db.session.remove()
        except BaseException as exc:  # reported below, with the thread's exception
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(ids[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    with app.app_context():
        serials = sorted(db.session.scalars(select(Notice.serial).where(Notice.kind == "receipt")))
        numbers = db.session.scalars(select(Notice.document_number)).all()
        counter = db.session.scalar(select(NoticeCounter.last_serial).where(NoticeCounter.series == "receipt"))
        db.session.remove()
    assert serials == list(range(1, THREADS * PER_THREAD + 1))
    assert len(set(numbers)) == len(numbers) and counter == THREADS * PER_THREAD


@pytest.mark.skipif(not DATABASE_URL.startswith("postgresql"), reason="needs PostgreSQL in CASEWORK_DATABASE_URL")
def test_a_notice_being_issued_does_not_stall_another_agencys_step(fresh_postgres):
    """While one transaction has issued (numbered, rendered) a notice and not yet committed, another
    agency's audited step commits without waiting: the audit chain is taken only at commit."""
    from casework.migrate import upgrade
    from casework.workflow.engine import fire

    app = fresh_postgres
    upgrade(app)
    with app.app_context():
        conftest.seed_agencies_and_users()
        assignment_id = assignment_row(referral_row("edu-11"), "psb-11", state="received").id
        other_id = referral_row("edu-44", state="submitted").id
        db.session.commit()
        db.session.remove()
    issued, release, errors = threading.Event(), threading.Event(), []

    def issuer() -> None:
        try:
            with app.app_context(), unit_of_work():
                issue_notice("receipt", db.session.get(Assignment, assignment_id), find_user("psb-11.case_officer"))
                issued.set()
                release.wait(timeout=60)
        except BaseException as exc:  # reported below
            errors.append(exc)
            issued.set()

    thread = threading.Thread(target=issuer)
    thread.start()
    try:
        assert issued.wait(timeout=120) and not errors, errors
        with app.app_context():
            with unit_of_work():
                db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
                fire(db.session.get(Referral, other_id), "start_assessment", {}, find_user("edu-44.assessor"))
            assert db.session.get(Referral, other_id).state == "under_assessment"
            db.session.remove()
    finally:
        release.set()
        thread.join(timeout=120)
    assert not errors, errors
