"""Due dates from clock rules: calendar days, working days (the holiday calendar, casework.calendar) or hours.

Periods are counted by ``casework.calendar.periods`` on the stored holiday calendar. A due date in a
year the calendar does not know is counted Monday to Friday; the clock's ``calendar_note`` says so
("暂按工作日计算…") until that year is entered and the clock is recounted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from casework.calendar import periods
from casework.calendar.store import current_calendar
from casework.db_types import utcnow
from casework.extensions import db
from casework.text import CST
from casework.workflow.models import Clock, ClockExtension, ClockRuleOverride
from workflows import ClockRule, declarations


@dataclass(frozen=True)
class Due:
    at: datetime
    note: str = ""  # "暂按工作日计算（…）" when a year it reaches into has no holiday arrangement


def provisional_note(years) -> str:
    return f"{periods.PROVISIONAL_ZH}（{'、'.join(f'{y}年' for y in years)}节假日安排未录入）"


def is_working_day(day: date, calendar: periods.HolidayCalendar | None = None) -> tuple[bool, bool]:
    """(working?, from a known holiday arrangement?). Unknown years count Monday to Friday."""
    calendar = calendar or current_calendar()
    return calendar.is_working_day(day), calendar.knows(day.year)


def _end_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=CST).astimezone(ZoneInfo("UTC"))


def compute_due(start: datetime, unit: str, amount: int, calendar: periods.HolidayCalendar | None = None) -> Due:
    """The moment a time limit of ``amount`` ``unit`` starting at ``start`` runs out (start day not
    counted; a calendar-day period ending on a rest day or holiday runs to the next working day)."""
    if unit == "hours":
        return Due(start + timedelta(hours=amount))
    calendar = calendar or current_calendar()
    day = start.astimezone(CST).date()
    count = periods.calendar_days_end if unit == "calendar_days" else periods.working_days_end
    end = count(calendar, day, amount)
    return Due(_end_of_local_day(end.day), provisional_note(end.provisional_years) if end.provisional else "")


def rule_terms(clock: Clock, locale: str | None = "zh") -> str:
    """How the clock counts, and whether its due date is provisional: "30日（期满遇节假日顺延）"."""
    text = periods.rule_text(clock.unit, clock.amount, locale)
    if clock.calendar_note:
        text += " · " + (periods.PROVISIONAL_ZH if (locale or "zh").startswith("zh") else periods.PROVISIONAL_EN)
    return text


def recount_clock(clock: Clock) -> None:
    """Count the clock again from its start on the current calendar, approved extensions on top."""
    due = compute_due(clock.started_at, clock.unit, clock.amount)
    for request in clock.extensions:
        if request.state == "approved":
            due = compute_due(due.at, clock.unit, request.amount)
    clock.due_at, clock.calendar_note = due.at, due.note
    if clock.overdue and clock.due_at > utcnow():
        clock.overdue = False


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
    """The subject's running clocks with their extension requests, in one query."""
    if subject.id is None:
        return []
    kind, ident = subject_ref(subject)
    return list(db.session.scalars(
        select(Clock).options(joinedload(Clock.extensions))
        .where(Clock.subject_type == kind, Clock.subject_id == ident, Clock.stopped_at.is_(None))
        .order_by(Clock.id)
    ).unique())


def running_clock(subject, rule: str, running: list[Clock] | None = None) -> Clock | None:
    """The running clock of ``rule`` (among ``running`` when the caller has loaded them)."""
    return next((c for c in (running_clocks(subject) if running is None else running) if c.rule == rule), None)


def start_clock(subject, rule_name: str, *, now: datetime | None = None, running: list[Clock] | None = None) -> Clock:
    """Start ``rule_name`` on ``subject`` (a running clock of the same rule is restarted). Given the
    subject's ``running`` clocks, keeps that list current and leaves the insert to the next flush."""
    stop_clock(subject, rule_name, now=now, running=running)
    now = now or utcnow()
    rule = effective_rule(rule_name)
    due = compute_due(now, rule.unit, rule.amount)
    kind, ident = subject_ref(subject)
    clock = Clock(subject_type=kind, subject_id=ident, rule=rule.name, unit=rule.unit, amount=rule.amount,
                  responsible_agency_id=responsible_agency_id(subject, rule), started_at=now,
                  due_at=due.at, calendar_note=due.note)
    db.session.add(clock)
    if running is None:
        db.session.flush()
    else:
        running.append(clock)
    return clock


def stop_clock(subject, rule_name: str, *, now: datetime | None = None,
               running: list[Clock] | None = None) -> Clock | None:
    clock = running_clock(subject, rule_name, running)
    if clock is not None:
        if running is not None:
            running.remove(clock)
        clock.stopped_at = now or utcnow()
        for request in clock.extensions:
            if request.state == "requested":
                request.state = "lapsed"
    return clock


def sync_subject(subject, running: list[Clock] | None = None) -> None:
    """Copy the earliest running due date and the overdue flag onto the subject (inbox columns)."""
    clocks = running_clocks(subject) if running is None else running
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
    clock.calendar_note = due.note
    if clock.overdue and clock.due_at > utcnow():
        clock.overdue = False
