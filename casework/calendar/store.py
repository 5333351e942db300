"""The holiday calendar as stored: loading it (cached per process, reloaded when a year changes),
seeding it from the ``chinese_calendar`` library, reading and writing one year's arrangement."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import chinese_calendar
from flask import g, has_app_context
from sqlalchemy import delete, func, select

from casework.calendar.models import DAY_KINDS, CalendarDay, CalendarYear
from casework.calendar.periods import HolidayCalendar
from casework.db_types import utcnow
from casework.extensions import db

LIBRARY_SOURCE = "chinese_calendar"
LOCAL = ZoneInfo("Asia/Shanghai")
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节", "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

_lock = threading.Lock()
_cached: tuple[tuple, HolidayCalendar] | None = None


@dataclass(frozen=True)
class Arrangement:
    """One year's public holidays and make-up working days."""

    year: int
    holidays: dict[date, str]
    workdays: dict[date, str]


def library_years() -> list[int]:
    return sorted({d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays)})


def library_arrangement(year: int) -> Arrangement:
    """What the installed ``chinese_calendar`` says about ``year``."""
    def named(days: dict) -> dict[date, str]:
        return {d: HOLIDAY_NAMES_ZH.get(str(n), str(n)) for d, n in sorted(days.items()) if d.year == year}
    return Arrangement(year, named(chinese_calendar.holidays), named(chinese_calendar.workdays))


def library_calendar() -> HolidayCalendar:
    """The library's calendar alone (no database): for checks against the official arrangement."""
    return HolidayCalendar(frozenset(library_years()), frozenset(chinese_calendar.holidays),
                           frozenset(chinese_calendar.workdays))


# The calendar's tables as Core tables: reading them needs no ORM mapper set up, so the start-up
# check (``calendar.startup``) does not configure every mapper of the app before it serves.
YEARS, DAYS = CalendarYear.__table__, CalendarDay.__table__


def _signature() -> tuple:
    return tuple(db.session.connection().execute(select(func.count(), func.max(YEARS.c.entered_at))).one())


def current_calendar() -> HolidayCalendar:
    """The stored calendar; loaded once per process and again after any year is entered
    (one small query per application context tells)."""
    global _cached
    if has_app_context() and "holiday_calendar" in g:
        return g.holiday_calendar
    signature = _signature()
    with _lock:
        if _cached is None or _cached[0] != signature:
            connection = db.session.connection()
            years = frozenset(connection.scalars(select(YEARS.c.year)))
            rows = connection.execute(select(DAYS.c.day, DAYS.c.kind)).all()
            _cached = (signature, HolidayCalendar(
                years, frozenset(d for d, k in rows if k == "holiday"), frozenset(d for d, k in rows if k == "workday")))
        calendar = _cached[1]
    g.holiday_calendar = calendar
    return calendar


def provisional_due(moment: datetime | None) -> bool:
    """Whether a due date falls in a year whose holiday arrangement is not entered (counted Mon–Fri)."""
    return moment is not None and not current_calendar().knows(moment.astimezone(LOCAL).year)


def forget_loaded_calendar() -> None:
    """After a year is written in this context: the next lookup reads the database again."""
    global _cached
    g.pop("holiday_calendar", None)
    with _lock:
        _cached = None


def stored_years() -> list[CalendarYear]:
    return list(db.session.scalars(select(CalendarYear).order_by(CalendarYear.year)))


def day_counts() -> dict[int, tuple[int, int]]:
    """{year: (holidays, make-up working days)} of every stored year, in one query."""
    counts: dict[int, list[int]] = {}
    rows = db.session.execute(select(CalendarDay.year, CalendarDay.kind, func.count())
                              .group_by(CalendarDay.year, CalendarDay.kind))
    for year, kind, number in rows:
        counts.setdefault(year, [0, 0])[DAY_KINDS.index(kind)] = number
    return {year: tuple(pair) for year, pair in counts.items()}


def stored_arrangement(year: int) -> Arrangement | None:
    if db.session.get(CalendarYear, year) is None:
        return None
    rows = db.session.scalars(select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day))
    holidays, workdays = {}, {}
    for row in rows:
        (holidays if row.kind == "holiday" else workdays)[row.day] = row.name
    return Arrangement(year, holidays, workdays)


def write_arrangement(arrangement: Arrangement, source: str, actor=None) -> CalendarYear:
    """Replace the stored days of the arrangement's year (flushes)."""
    db.session.execute(delete(CalendarDay).where(CalendarDay.year == arrangement.year))
    row = db.session.get(CalendarYear, arrangement.year)
    if row is None:
        row = CalendarYear(year=arrangement.year)
        db.session.add(row)
    row.source = source[:200]
    row.entered_at = utcnow()
    row.entered_by_id = getattr(actor, "id", None)
    db.session.flush()
    for kind, days in zip(DAY_KINDS, (arrangement.holidays, arrangement.workdays)):
        db.session.add_all(CalendarDay(day=d, year=arrangement.year, kind=kind, name=name[:40])
                           for d, name in days.items())
    db.session.flush()
    forget_loaded_calendar()
    return row
