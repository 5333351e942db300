"""``casework worker``: the one long-running process a deployment needs besides the web server. Each
round runs the periodic jobs that are due (sweep, target checks, digests) and sends the mail outbox."""
from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy.exc import DBAPIError

from casework.admin.denials import report_pending_denials
from casework.db_types import utcnow
from casework.extensions import db
from casework.notifications.delivery import DeliveryReport, deliver_digests, deliver_pending
from casework.notifications.mail import transport_for
from casework.notifications.reminders import notify_due_soon
from casework.notifications.schedule import register_job, run_due_jobs
from casework.targets.cli import check_targets
from casework.targets.checkers import CheckOptions
from casework.unit_of_work import database_unavailable, unit_of_work
from casework.workflow.sweep import sweep


@dataclass
class RoundReport:
    jobs: list[tuple[str, str]] = field(default_factory=list)
    mail: DeliveryReport = field(default_factory=DeliveryReport)

    def __str__(self) -> str:
        jobs = "; ".join(f"{name}: {result}" for name, result in self.jobs)
        mail = f"mail: {self.mail.sent} sent, {self.mail.retried} to retry, {self.mail.failed} failed"
        return f"{jobs}; {mail}" if jobs else mail


def mail_transport():
    url = current_app.config.get("MAIL_URL")
    return transport_for(url, current_app.config["MAIL_TIMEOUT"]) if url else None


def run_round(now: datetime | None = None) -> RoundReport:
    """One round: the due periodic jobs, then every due mail."""
    report = RoundReport(jobs=run_due_jobs(now))
    transport = mail_transport()
    if transport is not None:
        report.mail = deliver_pending(transport)
    db.session.remove()
    return report


def run_forever(poll_seconds: float, echo) -> None:
    """Rounds until SIGTERM or SIGINT; a round in progress finishes first."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        report = round_unless_database_unavailable(echo)
        if report and (report.jobs or report.mail.sent or report.mail.retried or report.mail.failed):
            echo(f"{utcnow():%Y-%m-%d %H:%M:%S}Z {report}")
        stop.wait(poll_seconds)


def round_unless_database_unavailable(echo) -> RoundReport | None:
    """One round; a database that cannot serve now (restarting, connection lost) skips the round with
    one line instead of stopping the worker (what was not recorded is claimed again after its lease)."""
    try:
        return run_round()
    except DBAPIError as error:
        if not database_unavailable(error):
            raise
        db.session.remove()
        echo(f"{utcnow():%Y-%m-%d %H:%M:%S}Z database unavailable, round skipped: {str(error.orig)[:200]}")
        return None


def _sweep_job(now: datetime) -> str:
    with unit_of_work():
        report = sweep(now)
        soon = notify_due_soon(now)
    return f"{report.overdue} overdue, {report.expired} windows closed, {soon} told of deadlines within a working day"


def _check_targets_job(now: datetime) -> str:
    app = current_app
    options = CheckOptions(timeout=5.0, deadline=15.0, allow_private=bool(app.config.get("TARGET_CHECK_ALLOW_PRIVATE")))
    counts = check_targets(options, timedelta(minutes=app.config["CHECK_TARGETS_MINUTES"]), 8)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing due"


def _digest_job(now: datetime) -> str:
    transport = mail_transport()
    if transport is None:
        return "no mail configured"
    report = deliver_digests(transport, now)
    return f"{report.sent} digests sent, {report.retried} to retry, {report.failed} failed"


def _access_denials_job(now: datetime) -> str:
    with unit_of_work():
        reported = report_pending_denials()
    return f"{reported} access-denial windows reported"


def register_worker_jobs(app: Flask) -> None:
    """The periodic jobs: sweep and quiet access-denial windows every minute, target checks at the
    configured interval, digests hourly."""
    register_job("sweep", timedelta(minutes=1), _sweep_job)
    register_job("access_denials", timedelta(minutes=1), _access_denials_job)
    register_job("check_targets", timedelta(minutes=app.config["CHECK_TARGETS_MINUTES"]), _check_targets_job)
    register_job("digests", timedelta(hours=1), _digest_job)
