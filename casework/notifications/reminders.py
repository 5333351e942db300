"""Due soon and overdue (催办) as notifications: the sweep tells the desk that has to act, once per clock."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from casework.assignments.models import Assignment
from casework.extensions import db
from casework.notifications.services import notify_clock
from casework.referrals.models import Referral
from casework.workflow.clocks import compute_due
from casework.workflow.models import Clock

SUBJECTS = {"referral": Referral, "assignment": Assignment}


def notify_due_soon(now: datetime) -> int:
    """Tell the desks whose running clocks end within one working day (each clock once)."""
    horizon = compute_due(now, "working_days", 1).at
    clocks = db.session.scalars(select(Clock).where(
        Clock.stopped_at.is_(None), Clock.overdue.is_(False), Clock.due_at >= now, Clock.due_at <= horizon)
        .order_by(Clock.id)).all()
    told = 0
    for clock in clocks:
        subject = db.session.get(SUBJECTS[clock.subject_type], clock.subject_id)
        told += len(notify_clock(clock, subject, "due_soon"))
    return told


def notify_overdue(clock: Clock, subject) -> int:
    """Tell the desk whose clock ran out (催办)."""
    return len(notify_clock(clock, subject, "overdue"))
