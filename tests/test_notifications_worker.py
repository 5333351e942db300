"""The worker: periodic jobs run once per period, ``casework worker --once``, and two workers over one
outbox on PostgreSQL deliver every mail exactly once."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, insert, select

from casework import create_app
from casework.accounts.models import User
from casework.extensions import db
from casework.notifications.delivery import deliver_pending
from casework.notifications.mail import transport_for
from casework.notifications.models import JobRun, MailDelivery, Notification
from casework.notifications.schedule import JOBS, register_job, run_due_jobs
from casework.notifications.worker import round_unless_database_unavailable
from tests.smtp_sink import smtp_sink

ON_POSTGRES = os.environ.get("CASEWORK_DATABASE_URL", "").startswith("postgresql")


def test_a_periodic_job_runs_once_per_period(db_session, monkeypatch):
    runs = []
    monkeypatch.setattr("casework.notifications.schedule.JOBS", {})
    register_job("probe", timedelta(minutes=1), lambda now: runs.append(now) or "probed")
    minute = datetime(2026, 11, 30, 2, 0, 5, tzinfo=timezone.utc)
    assert run_due_jobs(minute) == [("probe", "probed")]
    assert run_due_jobs(minute + timedelta(seconds=30)) == []
    assert run_due_jobs(minute + timedelta(seconds=60)) == [("probe", "probed")]
    row = db.session.get(JobRun, "probe")
    assert len(runs) == 2 and row.last_result == "probed" and row.last_finished_at is not None


def test_the_worker_registers_sweep_target_checks_and_digests(app):
    assert {"sweep", "check_targets", "digests"} <= set(JOBS)
    assert JOBS["sweep"].period == timedelta(minutes=1)


def test_worker_once_runs_one_round(app, db_session):
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "mail:" in result.output


def _queue(count: int, recipient_id: int) -> None:
    now = datetime.now(timezone.utc)
    db.session.execute(insert(Notification), [
        {"recipient_id": recipient_id, "kind": "to_act", "number": f"XS2026-{i:06d}", "title": "并发投递",
         "link": "/referrals/1", "created_at": now, "dedupe_key": f"bench:{i}"} for i in range(count)])
    ids = db.session.scalars(select(Notification.id).where(Notification.dedupe_key.like("bench:%"))).all()
    db.session.execute(insert(MailDelivery), [
        {"notification_id": nid, "recipient_id": recipient_id, "address": f"n{nid}@example.gov.cn",
         "state": "pending", "attempts": 0, "next_attempt_at": now, "last_error": "", "created_at": now}
        for nid in ids])
    db.session.commit()


def _cleanup() -> None:
    db.session.execute(delete(MailDelivery).where(MailDelivery.address.like("n%@example.gov.cn")))
    db.session.execute(delete(Notification).where(Notification.dedupe_key.like("bench:%")))
    db.session.commit()


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL in CASEWORK_DATABASE_URL")
def test_two_workers_deliver_each_of_500_mails_exactly_once(app):
    with app.app_context():
        recipient = db.session.scalar(select(User.id).order_by(User.id))
        _queue(500, recipient)
    reports = {}
    try:
        with smtp_sink() as (sink, url):
            def work(name: str) -> None:
                with app.app_context():
                    reports[name] = deliver_pending(transport_for(url), worker=name, batch=25)
                    db.session.remove()

            threads = [threading.Thread(target=work, args=(name,)) for name in ("worker-a", "worker-b")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        addresses = [m["To"] for m in sink.messages]
        assert len(addresses) == 500 and len(set(addresses)) == 500
        assert reports["worker-a"].sent + reports["worker-b"].sent == 500
        assert reports["worker-a"].sent > 0 and reports["worker-b"].sent > 0
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(MailDelivery).where(
                MailDelivery.address.like("n%@example.gov.cn"), MailDelivery.state == "sent")) == 500
    finally:
        with app.app_context():
            _cleanup()


def test_a_database_that_cannot_serve_skips_the_round_and_the_worker_goes_on(tmp_path):
    """The drill's PostgreSQL restart stopped the worker: now the round is skipped with one line."""
    unreachable = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://casework:x@127.0.0.1:9/none",
                              "SECRET_KEY": "worker-test", "MAIL_URL": "", "EVIDENCE_DIR": str(tmp_path)})
    said = []
    with unreachable.app_context():
        assert round_unless_database_unavailable(said.append) is None
    assert len(said) == 1 and "database unavailable, round skipped" in said[0]
