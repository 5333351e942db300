"""Entering a year's holiday arrangement, and what follows: due dates counted provisionally in that
year are recomputed, each change audited."""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from casework.assignments.models import Assignment
from casework.audit.services import record_event
from casework.calendar import store
from casework.calendar.store import Arrangement
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.referrals.models import Referral
from casework.text import CST
from casework.workflow import clocks
from casework.workflow.models import Clock

SUBJECTS = {"referral": Referral, "assignment": Assignment}
KIND_WORDS = {"holiday": "holiday", "休": "holiday", "假": "holiday", "放假": "holiday",
              "workday": "workday", "班": "workday", "上班": "workday", "调休上班": "workday"}
WARN_FROM_MONTH = 11  # from 1 November, next year's missing arrangement is a warning


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed({"days": message}, message)


def plain_text(value: str, what: str, limit: int) -> str:
    """``value`` stripped, refused when it carries control characters or lone surrogates or is too long."""
    value = (value or "").strip()
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise _refuse(f"{what} contains control characters")
    if len(value) > limit:
        raise _refuse(f"{what} is longer than {limit} characters")
    return value


@dataclass
class Entered:
    year: int
    holidays: int
    workdays: int
    recomputed: int


def parse_arrangement(text: str) -> list[Arrangement]:
    """Lines ``YYYY-MM-DD,holiday|workday[,name]`` (``#`` starts a comment; 休/班 accepted for the kind),
    grouped by year. Raises ``ValidationFailed`` naming the first bad line."""
    by_year: dict[int, Arrangement] = {}
    seen: set[date] = set()
    reader, rows = csv.reader(io.StringIO(text), strict=True), []
    try:
        rows.extend((reader.line_num, row) for row in reader)
    except csv.Error as exc:
        raise _refuse(f"line {reader.line_num}: {exc}") from None
    for number, row in rows:
        cells = [c.strip() for c in row]
        if not cells or not cells[0] or cells[0].startswith("#"):
            continue
        if len(cells) < 2:
            raise _refuse(f"line {number}: expected date,kind[,name]")
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            raise _refuse(f"line {number}: {cells[0][:20]!r} is not a date like 2027-01-01") from None
        kind = KIND_WORDS.get(cells[1].lower())
        if kind is None:
            raise _refuse(f"line {number}: kind must be holiday or workday")
        if day in seen:
            raise _refuse(f"line {number}: {day} is listed twice")
        if kind == "workday" and day.weekday() < 5:
            raise _refuse(f"line {number}: {day} is a weekday; a make-up working day falls on a weekend")
        seen.add(day)
        entry = by_year.setdefault(day.year, Arrangement(day.year, {}, {}))
        name = plain_text(cells[2], f"line {number}: the name", 40) if len(cells) > 2 else ""
        (entry.holidays if kind == "holiday" else entry.workdays)[day] = name
    if not by_year:
        raise _refuse("no days given")
    for entry in by_year.values():
        if not entry.holidays:
            raise _refuse(f"{entry.year}: a year's arrangement lists its public holidays")
    return sorted(by_year.values(), key=lambda a: a.year)


def format_arrangement(arrangement: Arrangement) -> str:
    """The import format, one day a line in date order."""
    days = [(d, "holiday", n) for d, n in arrangement.holidays.items()]
    days += [(d, "workday", n) for d, n in arrangement.workdays.items()]
    return "".join(f"{d.isoformat()},{kind},{name}\n" for d, kind, name in sorted(days))


def enter_arrangement(arrangement: Arrangement, source: str, actor) -> Entered:
    """Store one year's arrangement (replacing what was stored), audit it, and recompute every running
    clock whose due date was counted provisionally in that year (flushes)."""
    if not 1949 < arrangement.year < 2200:
        raise _refuse(f"{arrangement.year}: not a year this calendar can hold")
    source = plain_text(source, "the source", 200)
    replaced = store.stored_arrangement(arrangement.year) is not None
    store.write_arrangement(arrangement, source, actor)
    record_event("calendar.year_entered", actor, payload={
        "year": arrangement.year, "source": source, "replaced": replaced,
        "holidays": [d.isoformat() for d in arrangement.holidays],
        "workdays": [d.isoformat() for d in arrangement.workdays]})
    recomputed = recompute_clocks(arrangement.year, actor, corrected=replaced)
    return Entered(arrangement.year, len(arrangement.holidays), len(arrangement.workdays), recomputed)


def provisional_clocks(year: int | None = None) -> list[Clock]:
    """Running clocks whose due date was counted Monday–Friday for want of a calendar (of ``year``)."""
    query = select(Clock).where(Clock.stopped_at.is_(None), Clock.calendar_note != "").order_by(Clock.due_at)
    found = list(db.session.scalars(query))
    return [c for c in found if year is None or str(year) in c.calendar_note]


def _counted_in(clock: Clock, year: int) -> bool:
    return clock.unit != "hours" and clock.started_at.astimezone(CST).year <= year <= clock.due_at.astimezone(CST).year


def recompute_clocks(year: int, actor, *, corrected: bool = False) -> int:
    """Recount the running clocks counted provisionally in ``year`` (and, when a stored arrangement was
    ``corrected``, every running day-counted clock whose period reaches into it); approved extensions are
    counted again on top. Each recount is audited with the due date before and after."""
    changed = 0
    candidates = provisional_clocks(year)
    if corrected:
        running = db.session.scalars(select(Clock).where(Clock.stopped_at.is_(None)).order_by(Clock.due_at))
        candidates += [c for c in running if c not in candidates and _counted_in(c, year)]
    for clock in candidates:
        before, note = clock.due_at, clock.calendar_note
        clocks.recount_clock(clock)
        if (before, note) == (clock.due_at, clock.calendar_note):
            continue
        subject = db.session.get(SUBJECTS[clock.subject_type], clock.subject_id)
        if subject is not None:
            clocks.sync_subject(subject)
        record_event("clock.recomputed", actor, clock, payload={
            "rule": clock.rule, "year": year, "from": before.isoformat(), "to": clock.due_at.isoformat(),
            "provisional": bool(clock.calendar_note)})
        changed += 1
    return changed


def seed_from_library(actor=None, *, replace: bool = False) -> list[int]:
    """Enter every year the installed ``chinese_calendar`` knows and the table lacks (all, with
    ``replace``); returns the years entered."""
    have = {row.year for row in store.stored_years()}
    entered = []
    for year in store.library_years():
        if replace or year not in have:
            enter_arrangement(store.library_arrangement(year), store.LIBRARY_SOURCE, actor)
            entered.append(year)
    return entered


def missing_next_year(today: date) -> int | None:
    """Next year, when from 1 November its arrangement is not entered yet."""
    if today.month < WARN_FROM_MONTH:
        return None
    year = today.year + 1
    return None if store.current_calendar().knows(year) else year


def local_today() -> date:
    return (datetime.now(CST)).date()

