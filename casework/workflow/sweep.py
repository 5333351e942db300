"""``casework sweep``: mark what fell overdue, record it, queue reminders (催办); safe to run every minute.

Each running clock is handled once when it passes its due date (its ``overdue`` flag is the marker),
so running the sweep again changes nothing until another clock runs out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from casework.accounts.models import User, UserRole
from casework.assignments.models import Assignment
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import DomainError
from casework.extensions import db
from casework.notifications.reminders import notify_overdue
from casework.referrals.models import Referral
from casework.workflow import clocks
from casework.workflow.engine import fire_system, issue_notice
from casework.workflow.models import Clock, Reminder
from workflows import declarations

SUBJECTS = {"referral": Referral, "assignment": Assignment}


@dataclass
class SweepReport:
    overdue: int = 0
    reminders: int = 0
    expired: int = 0


def subject_of(clock: Clock):
    return db.session.get(SUBJECTS[clock.subject_type], clock.subject_id)


def sweep(now: datetime | None = None) -> SweepReport:
    """Handle every running clock that ran out and has not been handled yet (flushes, never commits)."""
    now = now or utcnow()
    report = SweepReport()
    due = db.session.scalars(
        select(Clock).where(Clock.stopped_at.is_(None), Clock.overdue.is_(False), Clock.due_at < now)
        .order_by(Clock.due_at, Clock.id).with_for_update(skip_locked=True)
    ).all()
    for clock in due:
        rule = declarations().clocks[clock.rule]
        subject = subject_of(clock)
        clock.overdue = True
        clock.overdue_at = now
        record_event("clock.overdue", None, clock, actor_name="system",
                     payload={"rule": clock.rule, "subject": f"{clock.subject_type}:{clock.subject_id}",
                              "due_at": clock.due_at.isoformat()})
        report.overdue += 1
        if rule.on_expiry:
            report.expired += _expire(clock, subject, rule.on_expiry)
        if rule.remind:
            report.reminders += _queue_reminders(clock, subject)
            notify_overdue(clock, subject)
        clocks.sync_subject(subject)
    db.session.flush()
    return report


def _expire(clock: Clock, subject, trigger: str) -> int:
    """Fire the rule's expiry trigger; a refusal is recorded and the sweep goes on."""
    try:
        with db.session.begin_nested():
            fire_system(subject, trigger, {"clock_id": clock.id})
    except DomainError as error:
        record_event("clock.expiry_refused", None, clock, actor_name="system", outcome="refused",
                     payload={"trigger": trigger, "reason": error.message})
        return 0
    return 1


def _queue_reminders(clock: Clock, subject) -> int:
    approvers = db.session.scalars(
        select(User).join(UserRole).where(User.agency_id == clock.responsible_agency_id, User.active.is_(True),
                                          UserRole.role == "approver").order_by(User.id)
    ).all()
    rows = [Reminder(clock=clock, agency_id=clock.responsible_agency_id)]
    rows += [Reminder(clock=clock, agency_id=clock.responsible_agency_id, recipient_id=u.id) for u in approvers]
    db.session.add_all(rows)
    db.session.flush()
    record_event("reminder.queue", None, clock, actor_name="system",
                 payload={"agency_id": clock.responsible_agency_id, "recipients": [u.id for u in approvers]})
    issue_notice("reminder_letter", subject, None, {"clock": clock.rule, "due_at": clock.due_at.isoformat(),
                                                    "responsible_agency_id": clock.responsible_agency_id})
    return len(rows)
