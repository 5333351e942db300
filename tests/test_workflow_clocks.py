"""Clocks: working days across 国庆 and 春节 with make-up days, calendar days, hours, the Mon–Fri
fallback for uncovered years, administrator overrides, extensions, and the sweep (idempotent)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from casework.audit.models import AuditEvent
from casework.extensions import db
from casework.unit_of_work import unit_of_work
from casework.workflow.clocks import compute_due, running_clock, start_clock
from casework.workflow.models import Clock, ClockRuleOverride, Reminder
from casework.workflow.sweep import sweep
from tests.factories import (  # noqa: F401
    act, assignment_of, notices_switch, routed_referral,
)

CST = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CST)


def due_local(start: datetime, unit: str, amount: int):
    due = compute_due(start.astimezone(timezone.utc), unit, amount)
    return due.at.astimezone(CST).replace(tzinfo=None), due.note


# The official 2026 arrangement (国办发明电〔2025〕7号): 元旦 1–3 Jan (Sun 4 Jan worked); 春节 15–23 Feb
# (Sat 14 Feb and Sat 28 Feb worked); 劳动节 1–5 May (Sat 9 May worked); 中秋 25–27 Sep and 国庆 1–7 Oct
# (Sun 20 Sep and Sat 10 Oct worked).
WORKING_DAYS = [
    # 2025 National Day: 1–8 Oct off; Sunday 28 Sep and Saturday 11 Oct are make-up working days.
    (local(2025, 9, 26, 10), 1, datetime(2025, 9, 28, 23, 59, 59)),
    (local(2025, 9, 26, 10), 3, datetime(2025, 9, 30, 23, 59, 59)),
    (local(2025, 9, 30, 16), 1, datetime(2025, 10, 9, 23, 59, 59)),
    (local(2025, 9, 30, 16), 3, datetime(2025, 10, 11, 23, 59, 59)),
    # 2026 Spring Festival.
    (local(2026, 2, 13, 9), 1, datetime(2026, 2, 14, 23, 59, 59)),
    (local(2026, 2, 13, 9), 2, datetime(2026, 2, 24, 23, 59, 59)),
    (local(2026, 2, 24, 9), 4, datetime(2026, 2, 28, 23, 59, 59)),
    (local(2026, 2, 12, 9), 10, datetime(2026, 3, 4, 23, 59, 59)),
    # 2026 Mid-autumn and National Day: Sun 20 Sep worked, 25–27 Sep and 1–7 Oct off, Sat 10 Oct worked.
    (local(2026, 9, 18, 9), 1, datetime(2026, 9, 20, 23, 59, 59)),
    (local(2026, 9, 24, 9), 1, datetime(2026, 9, 28, 23, 59, 59)),
    (local(2026, 9, 28, 9), 3, datetime(2026, 10, 8, 23, 59, 59)),
    (local(2026, 9, 30, 9), 3, datetime(2026, 10, 10, 23, 59, 59)),
    (local(2026, 9, 30, 9), 10, datetime(2026, 10, 20, 23, 59, 59)),
    # An ordinary week: Friday + 3 working days skips the weekend.
    (local(2026, 11, 20, 9), 3, datetime(2026, 11, 25, 23, 59, 59)),
]
CALENDAR_DAYS = [
    # The period ends on a holiday: it runs to the first working day after it.
    (local(2026, 9, 28, 9), 3, datetime(2026, 10, 8, 23, 59, 59)),  # 1 Oct (国庆) → Thu 8 Oct
    (local(2026, 9, 30, 23, 30), 3, datetime(2026, 10, 8, 23, 59, 59)),  # 3 Oct (国庆, Saturday) → 8 Oct
    (local(2026, 9, 20, 9), 3, datetime(2026, 9, 23, 23, 59, 59)),  # an ordinary Wednesday
    (local(2026, 9, 22, 9), 3, datetime(2026, 9, 28, 23, 59, 59)),  # 25 Sep (中秋) → Mon 28 Sep
    (local(2026, 9, 7, 9), 30, datetime(2026, 10, 8, 23, 59, 59)),  # 7 Oct (国庆) → 8 Oct
    (local(2026, 9, 10, 9), 30, datetime(2026, 10, 10, 23, 59, 59)),  # Sat 10 Oct is a make-up working day
    (local(2026, 9, 11, 9), 30, datetime(2026, 10, 12, 23, 59, 59)),  # Sun 11 Oct → Mon 12 Oct
    (local(2026, 2, 12, 9), 3, datetime(2026, 2, 24, 23, 59, 59)),  # 15 Feb (春节) → Tue 24 Feb
    (local(2026, 2, 11, 9), 3, datetime(2026, 2, 14, 23, 59, 59)),  # Sat 14 Feb is a make-up working day
    (local(2026, 1, 20, 9), 30, datetime(2026, 2, 24, 23, 59, 59)),  # 19 Feb (春节) → 24 Feb
    (local(2026, 2, 23, 9), 4, datetime(2026, 2, 27, 23, 59, 59)),  # the start day is not counted
    (local(2026, 2, 26, 9), 2, datetime(2026, 2, 28, 23, 59, 59)),  # Sat 28 Feb is a make-up working day
    (local(2026, 2, 27, 9), 2, datetime(2026, 3, 2, 23, 59, 59)),  # Sun 1 Mar → Mon 2 Mar
]


@pytest.mark.parametrize("start, amount, expected", WORKING_DAYS)
def test_working_days_follow_the_official_calendar(db_session, start, amount, expected):
    assert due_local(start, "working_days", amount) == (expected, "")


@pytest.mark.parametrize("start, amount, expected", CALENDAR_DAYS)
def test_calendar_day_periods_ending_on_a_rest_day_run_to_the_next_working_day(db_session, start, amount, expected):
    assert due_local(start, "calendar_days", amount) == (expected, "")


@pytest.mark.parametrize("unit, table", [("working_days", WORKING_DAYS), ("calendar_days", CALENDAR_DAYS)])
def test_the_stored_calendar_matches_the_library(db_session, unit, table):
    """The seeded table and chinese_calendar (which knows 国办发明电〔2025〕7号) give the same dates."""
    from casework.calendar.store import library_calendar

    for start, amount, _expected in table:
        stored = compute_due(start.astimezone(timezone.utc), unit, amount)
        assert compute_due(start.astimezone(timezone.utc), unit, amount, library_calendar()) == stored


def test_hours_are_exact(db_session):
    start = local(2026, 11, 26, 0, 30)
    assert due_local(start, "hours", 24)[0] == datetime(2026, 11, 27, 0, 30)


def test_years_without_a_calendar_count_monday_to_friday_and_say_so(db_session):
    due, note = due_local(local(2026, 12, 30, 10), "working_days", 3)
    assert due == datetime(2027, 1, 4, 23, 59, 59)  # Thu 31 Dec, Fri 1 Jan (no 2027 data), Mon 4 Jan
    assert note.startswith("暂按工作日计算") and "2027年" in note


def test_clock_rows_record_the_provisional_count(db_session):
    referral = routed_referral("44", "cac-44")
    clock = start_clock(assignment_of(referral, "cac-44"), "feedback",
                        now=local(2026, 11, 28, 9).astimezone(timezone.utc))
    assert clock.due_at.astimezone(CST).date().isoformat() == "2026-12-28"
    assert clock.calendar_note == ""
    clock = start_clock(assignment_of(referral, "cac-44"), "acceptance",
                        now=local(2026, 12, 30, 9).astimezone(timezone.utc))
    assert "2027" in clock.calendar_note


def test_an_administrator_override_changes_new_clocks(db_session):
    db.session.add(ClockRuleOverride(rule="receipt", unit="hours", amount=12))
    db.session.commit()
    referral = routed_referral("44", "ca-44")
    clock = running_clock(assignment_of(referral, "ca-44"), "receipt")
    assert (clock.unit, clock.amount) == ("hours", 12)
    assert clock.due_at - clock.started_at == timedelta(hours=12)


def test_the_denormalised_due_date_follows_the_running_clock(db_session):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    receipt = running_clock(police, "receipt")
    assert police.due_at == receipt.due_at
    act(police, "receive", "psb-44.case_officer")
    filing = running_clock(police, "filing_decision")
    assert receipt.stopped_at is not None and filing.rule == "filing_decision"
    assert police.due_at == filing.due_at and not police.overdue


def test_an_extension_is_approved_by_a_second_person(db_session):
    referral = routed_referral("44", "cac-44")
    cyber = assignment_of(referral, "cac-44")
    act(cyber, "receive", "cac-44.case_officer")
    clock = running_clock(cyber, "acceptance")
    before = clock.due_at
    act(cyber, "request_extension", "cac-44.case_officer", amount=2, reason="需要核实")
    act(cyber, "approve_extension", "cac-44.approver")
    assert clock.due_at > before and cyber.due_at == clock.due_at
    assert clock.extensions[-1].state == "approved"


def _overdue(subject, rule: str, days: int = 1) -> Clock:
    clock = running_clock(subject, rule)
    clock.due_at = datetime.now(timezone.utc) - timedelta(days=days)
    db.session.commit()
    return clock


def _sweep():
    with unit_of_work():
        return sweep()


def test_sweep_marks_overdue_queues_reminders_and_is_idempotent(db_session):
    referral = routed_referral("44", "amr-44")
    market = assignment_of(referral, "amr-44")
    clock = _overdue(market, "receipt")
    events_before = db.session.scalar(select(func.count(AuditEvent.id)))

    first = _sweep()
    assert first.overdue >= 1
    assert clock.overdue and market.overdue
    reminders = db.session.scalars(select(Reminder).where(Reminder.clock_id == clock.id)).all()
    assert {r.agency_id for r in reminders} == {market.agency_id}
    recipients = {r.recipient.username for r in reminders if r.recipient}
    assert recipients == {"amr-44.approver", "amr-44.approver2"}
    assert any(r.recipient_id is None for r in reminders)

    events_after_first = db.session.scalar(select(func.count(AuditEvent.id)))
    assert events_after_first > events_before
    second = _sweep()
    assert (second.overdue, second.reminders) == (0, 0)
    assert db.session.scalar(select(func.count(Reminder.id)).where(Reminder.clock_id == clock.id)) == len(reminders)
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events_after_first


def test_sweep_closes_a_lapsed_reconsideration_window(db_session):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    act(police, "decline_filing", "psb-44.case_officer", reason="不予立案")
    act(police, "approve_decline_filing", "psb-44.approver")
    clock = _overdue(police, "reconsideration_window")
    report = _sweep()
    assert report.expired == 1
    assert police.state == "refusal_accepted" and clock.stopped_at is not None
    assert db.session.scalar(select(func.count(Reminder.id)).where(Reminder.clock_id == clock.id)) == 0
    assert referral.state == "closed"


def test_sweep_command_reports_counts(app, db_session):
    referral = routed_referral("44", "ca-44")
    _overdue(assignment_of(referral, "ca-44"), "receipt")
    result = app.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "clocks fell overdue" in result.output
