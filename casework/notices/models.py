"""Notices (公文): rendered once, numbered without gaps, stored with their hash, never changed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db


class Notice(db.Model):
    """One issued notice. The PDF bytes live in the row (``pdf``), so they share its transaction.

    A correction is a new notice whose ``supersedes_id`` names the old one; the old row is
    never updated, ``superseded_by`` is derived from the newer row.
    """

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("issuer_agency_id", "series", "year", "serial"),)
    audit_type = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    series: Mapped[str] = mapped_column(String(16))
    issuer_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    recipient_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    copy_agency_ids: Mapped[list] = mapped_column(JSON, default=list)
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    document_number: Mapped[str] = mapped_column(String(64), unique=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    page_count: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), unique=True)

    issuer: Mapped[Agency] = relationship(foreign_keys=[issuer_agency_id], lazy="joined")
    recipient: Mapped[Agency | None] = relationship(foreign_keys=[recipient_agency_id])
    issued_by: Mapped[User | None] = relationship()
    referral: Mapped["Referral"] = relationship()  # noqa: F821
    assignment: Mapped["Assignment | None"] = relationship()  # noqa: F821
    supersedes: Mapped[Notice | None] = relationship(
        remote_side=[id], back_populates="superseded_by", foreign_keys=[supersedes_id]
    )
    superseded_by: Mapped[Notice | None] = relationship(
        back_populates="supersedes", foreign_keys=[supersedes_id], uselist=False
    )


class NoticeCounter(db.Model):
    """The last serial used per issuing agency, series and year; locked while a number is taken."""

    __tablename__ = "notice_counters"
    __table_args__ = (UniqueConstraint("agency_id", "series", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    series: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    last_serial: Mapped[int] = mapped_column(Integer, default=0)
