"""A user's own work: the inbox tabs with their counts (``casework.inbox``) and the items due soon
and overdue, each with the working days left (negative once overdue)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from casework.accounts.models import User
from casework.calendar.periods import HolidayCalendar
from casework.calendar.store import current_calendar
from casework.inbox.desk import Desk
from casework.inbox.tabs import Tab
from casework.referrals.queries import InboxRow
from casework.web.i18n import local_time

LISTED = 10


@dataclass
class DueItem:
    row: InboxRow
    working_days_left: int


@dataclass
class OwnWork:
    tabs: list[Tab]
    due_soon: list[DueItem]
    overdue: list[DueItem]


def working_days_left(calendar: HolidayCalendar, today: date, due: date) -> int:
    """Working days after ``today`` up to ``due`` (0: due today); once past, minus the working
    days since ``due``."""
    step = 1 if due >= today else -1
    day, counted = today, 0
    while day != due:
        day += timedelta(days=step)
        counted += calendar.is_working_day(day if step > 0 else day + timedelta(days=1))
    return counted * step


def _items(rows: list[InboxRow], calendar: HolidayCalendar, today: date) -> list[DueItem]:
    return [DueItem(row, working_days_left(calendar, today, local_time(row.due_at).date()))
            for row in rows[:LISTED] if row.due_at is not None]


def own_work(user: User, now: datetime) -> OwnWork:
    """The desk's tab counts and the first items of its "due soon" and "overdue" tabs."""
    desk = Desk(user, now)
    calendar, today = current_calendar(), local_time(now).date()
    return OwnWork(desk.tabs_with_counts(), _items(desk.page("due_soon").rows, calendar, today),
                   _items(desk.page("overdue").rows, calendar, today))
