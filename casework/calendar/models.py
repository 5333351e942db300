"""Each year's public holidays and make-up working days (调休), entered as data."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db

DAY_KINDS = ("holiday", "workday")  # a public holiday (rest), a make-up working day on a weekend


class CalendarYear(db.Model):
    """A year whose arrangement is known; a year without a row is counted provisionally (Mon–Fri)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200), default="")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CalendarDay(db.Model):
    """One day that differs from the Monday–Friday week: a holiday, or a weekend working day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(40), default="")
