"""Document numbers (发文字号): per issuing agency, series and year, without gaps.

The counter row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises
writers anyway) and advanced in the caller's transaction, so a notice that fails to be
issued rolls its number back with it.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from casework.agencies.models import Agency
from casework.errors import DomainError
from casework.extensions import db
from casework.notices.models import NoticeCounter

SERIES_CODE_WORD = {"letter": "函", "opinion": "研", "receipt": "收", "decision": "决"}
LEFT_BRACKET, RIGHT_BRACKET = "\u3014", "\u3015"


class NoNumberPrefix(DomainError):
    status = 422


def code_word(agency: Agency, series: str) -> str:
    """The agency's 机关代字 for a series: 粤网信函 for letters, 粤网信收 for receipts ..."""
    prefix = (agency.number_prefix or "").strip()
    if not prefix:
        raise NoNumberPrefix(f"{agency.name} has no document-number prefix (机关代字); "
                             f"an administrator must set one before it can issue notices")
    word = SERIES_CODE_WORD[series]
    return prefix if prefix.endswith(word) else prefix.removesuffix("函") + word


def format_number(word: str, year: int, serial: int) -> str:
    return f"{word}{LEFT_BRACKET}{year}{RIGHT_BRACKET}{serial}号"


def _locked_counter(agency_id: int, series: str, year: int) -> NoticeCounter:
    query = (select(NoticeCounter)
             .where(NoticeCounter.agency_id == agency_id, NoticeCounter.series == series,
                    NoticeCounter.year == year)
             .with_for_update())
    counter = db.session.scalar(query)
    if counter is not None:
        return counter
    try:
        with db.session.begin_nested():
            db.session.add(NoticeCounter(agency_id=agency_id, series=series, year=year, last_serial=0))
    except IntegrityError:
        pass  # another transaction created it first; lock theirs below
    return db.session.scalar(query.execution_options(populate_existing=True))


def take_number(agency: Agency, series: str, year: int) -> tuple[int, str]:
    """Advance the counter and return (serial, document number); the caller's transaction owns it."""
    word = code_word(agency, series)
    counter = _locked_counter(agency.id, series, year)
    counter.last_serial += 1
    db.session.flush()
    return counter.last_serial, format_number(word, year, counter.last_serial)
