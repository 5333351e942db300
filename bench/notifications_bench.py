"""Notifications: what telling the next desk adds to a transition, and how fast a worker sends mail.

    python bench/notifications_bench.py [--steps 300] [--mails 2000]

1. Builds a throw-away SQLite database with the demo's agencies and users, routes referrals to the
   police, receives them, then fires ``decline_filing`` (a step that tells the desk's approvers, no notice issued)
   in alternating blocks with the notification hook on and off, and prints the median cost per step
   of each and their ratio (target: notifications add at most 15 %).
2. Queues ``--mails`` deliveries and lets one worker send them to a local SMTP sink (aiosmtpd on
   127.0.0.1), printing mails/s (target: at least 200) next to plain smtplib sends of the same
   messages over one connection in the same run.
"""
from __future__ import annotations

import argparse
import smtplib
import socket
import subprocess
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from casework import create_app  # noqa: E402
from casework.accounts.models import User, UserRole  # noqa: E402
from casework.demo import create_agencies  # noqa: E402
from casework.extensions import db  # noqa: E402
from casework.migrate import upgrade  # noqa: E402
from casework.notifications.delivery import deliver_pending  # noqa: E402
from casework.notifications.mail import transport_for  # noqa: E402
from casework.notifications.models import MailDelivery, Notification  # noqa: E402
from casework.notifications.services import notify_transition  # noqa: E402
from casework.unit_of_work import unit_of_work  # noqa: E402
from casework.workflow import engine  # noqa: E402
from tests.factories import make_referral  # noqa: E402
from tests.smtp_sink import free_port  # noqa: E402

ROLES = {"education": ("intake_officer", "assessor", "approver"), "other": ("case_officer", "approver")}


def build(app) -> dict[str, User]:
    upgrade(app)
    with app.app_context():
        agencies = create_agencies()
        for agency in agencies.values():
            for role in ROLES["education" if agency.kind == "education" else "other"]:
                for n in ("", "2"):  # two of each, so that a step by one tells the other
                    db.session.add(User(username=f"{agency.code}.{role}{n}", display_name=role, agency=agency,
                                        password_hash="x", role_rows=[UserRole(role=role)]))
        db.session.commit()


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def received_assignments(count: int) -> list[int]:
    """Referrals routed to 广东省公安厅 and received there; returns the assignments' ids."""
    ids = []
    police = db.session.scalar(select(User.agency_id).where(User.username == "psb-44.case_officer"))
    for _ in range(count):
        referral = make_referral(user("edu-44.intake_officer"))
        db.session.commit()
        for trigger, who, data in (
                ("submit", "edu-44.intake_officer", {}), ("start_assessment", "edu-44.assessor", {}),
                ("assess", "edu-44.assessor", {"conclusion": "refer", "severity": "high", "opinion": "构成代刷",
                                               "agencies": [police], f"reason_{police}": "主管"}),
                ("approve_assessment", "edu-44.approver", {}),
                ("route", "edu-44.assessor", {"agencies": [police], f"reason_{police}": "主管"})):
            with unit_of_work():
                engine.fire(referral, trigger, data, user(who))
        assignment = referral.assignments[0]
        with unit_of_work():
            engine.fire(assignment, "receive", {}, user("psb-44.case_officer"))
        ids.append(assignment.id)
    return ids


def time_steps(ids: list[int], notify: bool) -> list[float]:
    from casework.assignments.models import Assignment

    hooks = engine.AFTER_TRANSITION
    saved = list(hooks)
    hooks[:] = [h for h in hooks if notify or h is not notify_transition]
    try:
        times = []
        for assignment_id in ids:
            assignment = db.session.get(Assignment, assignment_id)
            officer = user("psb-44.case_officer")
            start = time.perf_counter()
            with unit_of_work():
                engine.fire(assignment, "decline_filing", {"reason": "未达到立案标准"}, officer)
            times.append(time.perf_counter() - start)
        return times
    finally:
        hooks[:] = saved


def transition_cost(app, steps: int, block: int = 10) -> None:
    with app.app_context():
        app.config["ISSUE_NOTICES"] = False
        ids = received_assignments(steps)
        on, off = [], []
        for start in range(0, len(ids), 2 * block):
            off += time_steps(ids[start:start + block], notify=False)
            on += time_steps(ids[start + block:start + 2 * block], notify=True)
        told = db.session.scalar(select(db.func.count()).select_from(Notification).where(Notification.trigger == "decline_filing"))
    median_on, median_off = statistics.median(on) * 1000, statistics.median(off) * 1000
    print(f"transition decline_filing: {median_off:.2f} ms without notifications, {median_on:.2f} ms with "
          f"({told} notifications written): +{(median_on / median_off - 1) * 100:.1f} % (target ≤ 15 %)")


def queue_mails(count: int) -> None:
    recipient = db.session.scalar(select(User.id).order_by(User.id))
    now = datetime.now(timezone.utc)
    db.session.execute(insert(Notification), [
        {"recipient_id": recipient, "kind": "to_act", "number": f"XS2026-{i:06d}", "title": "投递测速",
         "link": "/referrals/1", "created_at": now, "dedupe_key": f"bench:{i}"} for i in range(count)])
    ids = db.session.scalars(select(Notification.id).where(Notification.dedupe_key.like("bench:%"))).all()
    db.session.execute(insert(MailDelivery), [
        {"notification_id": nid, "recipient_id": recipient, "address": f"n{nid}@example.gov.cn", "state": "pending",
         "attempts": 0, "next_attempt_at": now, "last_error": "", "created_at": now} for nid in ids])
    db.session.commit()


@contextmanager
def sink_process():
    """aiosmtpd's discarding sink in its own process on 127.0.0.1 (so it does not share our GIL)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                                "-l", f"127.0.0.1:{port}"])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def mail_rate(app, count: int) -> None:
    with app.app_context():
        app.config["PUBLIC_BASE_URL"] = "https://casework.example.gov.cn"
        queue_mails(count)
        with sink_process() as port:
            start = time.perf_counter()
            report = deliver_pending(transport_for(f"smtp://127.0.0.1:{port}"))
            worker_seconds = time.perf_counter() - start
            start = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as connection:
                for i in range(count):
                    message = EmailMessage()
                    message["From"], message["To"], message["Subject"] = "a@b.cn", f"raw{i}@example.gov.cn", "raw"
                    message.set_content("raw")
                    connection.send_message(message)
            raw_seconds = time.perf_counter() - start
    print(f"worker: {report.sent} mails in {worker_seconds:.2f} s = {report.sent / worker_seconds:.0f} mails/s "
          f"(target ≥ 200); plain smtplib to the same sink: {count / raw_seconds:.0f} mails/s; "
          f"worker at {raw_seconds / worker_seconds * 100:.0f} % of it")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--mails", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="casework-notify-bench-") as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite", "SECRET_KEY": "bench",
                          "EVIDENCE_DIR": f"{tmp}/evidence", "MAIL_URL": ""})
        build(app)
        transition_cost(app, args.steps)
        mail_rate(app, args.mails)
    return 0


if __name__ == "__main__":
    sys.exit(main())
