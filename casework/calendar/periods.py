"""Legal periods counted on a holiday calendar.

The day the period starts is not counted. A working-day period counts working days only; a
calendar-day period counts every day, and when its last day is a rest day or a public holiday it
ends on the next working day (期间届满的最后一日是节假日的，以节假日后的第一日为期间届满的日期).
A day in a year the calendar does not know is counted Monday to Friday, and the result says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class HolidayCalendar:
    """Holidays and make-up working days of the ``years`` whose arrangement is known."""

    years: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def knows(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


@dataclass(frozen=True)
class PeriodEnd:
    day: date
    provisional_years: tuple[int, ...] = field(default=())

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)


def _next_working_day(calendar: HolidayCalendar, day: date, unknown: set[int]) -> date:
    while True:
        if not calendar.knows(day.year):
            unknown.add(day.year)
        if calendar.is_working_day(day):
            return day
        day += timedelta(days=1)


def working_days_end(calendar: HolidayCalendar, start: date, amount: int) -> PeriodEnd:
    """The last day of ``amount`` working days after ``start`` (start not counted)."""
    day, counted, unknown = start, 0, set()
    while counted < amount:
        day += timedelta(days=1)
        if not calendar.knows(day.year):
            unknown.add(day.year)
        counted += calendar.is_working_day(day)
    return PeriodEnd(day, tuple(sorted(unknown)))


def calendar_days_end(calendar: HolidayCalendar, start: date, amount: int) -> PeriodEnd:
    """``start`` + ``amount`` days, moved to the next working day when that is a rest day or holiday."""
    unknown: set[int] = set()
    day = _next_working_day(calendar, start + timedelta(days=amount), unknown)
    return PeriodEnd(day, tuple(sorted(unknown)))


RULE_TEXT = {
    "working_days": ("{n}个工作日", "{n} working days"),
    "calendar_days": ("{n}日（期满遇节假日顺延）", "{n} days (extended past a holiday at the end)"),
    "hours": ("{n}小时", "{n} hours"),
}
PROVISIONAL_ZH = "暂按工作日计算"
PROVISIONAL_EN = "provisional: counted Monday to Friday"


def rule_text(unit: str, amount: int, locale: str | None = "zh") -> str:
    """How a period is counted, as the referral page and the clock rules state it: "30日（期满遇节假日顺延）"."""
    zh, en = RULE_TEXT[unit]
    return (en if (locale or "zh").startswith("en") else zh).format(n=amount)
