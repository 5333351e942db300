"""Due dates from clock rules: calendar days, working days (official holiday calendar) or hours.

Working days come from ``chinese_calendar`` (holidays and make-up working days, 调休). For a
year the package does not cover, Monday to Friday counts, and the clock records that.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select

from casework.db_types import utcnow
from casework.extensions import db
from casework.text import CST
from casework.workflow.models import Clock, ClockExtension, ClockRuleOverride
from workflows import ClockRule, declarations


@dataclass(frozen=True)
class Due:
    at: datetime
    note: str = ""


OFFICIAL_YEARS = frozenset(d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays))


def is_working_day(day: date) -> tuple[bool, bool]:
    """(working?, from the official calendar?). Years the package does not cover count Monday to Friday."""
    if day.year in OFFICIAL_YEARS:
        return chinese_calendar.is_workday(day), True
    return day.weekday() < 5, False


def _end_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=CST).astimezone(ZoneInfo("UTC"))


def compute_due(start: datetime, unit: str, amount: int) -> Due:
    """The moment a time limit of ``amount`` ``unit`` starting at ``start`` runs out."""
    if unit == "hours":
        return Due(start + timedelta(hours=amount))
    day = start.astimezone(CST).date()
    if unit == "calendar_days":
        return Due(_end_of_local_day(day + timedelta(days=amount)))
    counted, fallback_years = 0, set()
    while counted < amount:
        day += timedelta(days=1)
        working, official = is_working_day(day)
        if not official:
            fallback_years.add(day.year)
        counted += working
    note = ""
    if fallback_years:
        years = ", ".join(str(y) for y in sorted(fallback_years))
        note = f"no official holiday calendar for {years}: Monday to Friday counted"
    return Due(_end_of_local_day(day), note)


def effective_rule(name: str) -> ClockRule:
    """The declared rule with the administrator's override, if any, applied."""
    rule = declarations().clocks[name]
    override = db.session.scalar(select(ClockRuleOverride).where(ClockRuleOverride.rule == name))
    if override is None:
        return rule
    return ClockRule(rule.name, rule.subject, override.unit, override.amount, rule.responsible, rule.label,
                     rule.remind, rule.on_expiry)


def subject_ref(subject) -> tuple[str, int]:
    return subject.audit_type, subject.id


def responsible_agency_id(subject, rule: ClockRule) -> int:
    if subject.audit_type == "referral" or rule.responsible == "origin":
        referral = getattr(subject, "referral", subject)
        return referral.origin_agency_id
    return subject.agency_id


def running_clocks(subject) -> list[Clock]:
    if subject.id is None:
        return []
    kind, ident = subject_ref(subject)
    return list(db.session.scalars(
        select(Clock).where(Clock.subject_type == kind, Clock.subject_id == ident, Clock.stopped_at.is_(None))
        .order_by(Clock.id)
    ))


def running_clock(subject, rule: str) -> Clock | None:
    return next((c for c in running_clocks(subject) if c.rule == rule), None)


def start_clock(subject, rule_name: str, *, now: datetime | None = None) -> Clock:
    """Start ``rule_name`` on ``subject`` (a running clock of the same rule is restarted)."""
    stop_clock(subject, rule_name, now=now)
    now = now or utcnow()
    rule = effective_rule(rule_name)
    due = compute_due(now, rule.unit, rule.amount)
    kind, ident = subject_ref(subject)
    clock = Clock(subject_type=kind, subject_id=ident, rule=rule.name, unit=rule.unit, amount=rule.amount,
                  responsible_agency_id=responsible_agency_id(subject, rule), started_at=now,
                  due_at=due.at, calendar_note=due.note)
    db.session.add(clock)
    db.session.flush()
    return clock


def stop_clock(subject, rule_name: str, *, now: datetime | None = None) -> Clock | None:
    clock = running_clock(subject, rule_name)
    if clock is not None:
        clock.stopped_at = now or utcnow()
        for request in clock.extensions:
            if request.state == "requested":
                request.state = "lapsed"
    return clock


def sync_subject(subject) -> None:
    """Copy the earliest running due date and the overdue flag onto the subject (inbox columns)."""
    clocks = running_clocks(subject)
    due = min((c.due_at for c in clocks), default=None)
    overdue = any(c.overdue for c in clocks)
    if subject.due_at != due:
        subject.due_at = due
    if subject.overdue != overdue:
        subject.overdue = overdue


def extendable_clock(assignment) -> Clock | None:
    """The running clock the assignment's agency answers for (the one an extension applies to)."""
    return next((c for c in running_clocks(assignment) if c.responsible_agency_id == assignment.agency_id), None)


def pending_extension(assignment) -> ClockExtension | None:
    for clock in running_clocks(assignment):
        for request in clock.extensions:
            if request.state == "requested":
                return request
    return None


def extend_clock(clock: Clock, amount: int) -> None:
    due = compute_due(clock.due_at, clock.unit, amount)
    clock.due_at = due.at
    clock.calendar_note = due.note or clock.calendar_note
    if clock.overdue and clock.due_at > utcnow():
        clock.overdue = False
