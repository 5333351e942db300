"""Agency seal images (印章) printed on notices: one PNG per agency, kept with its SHA-256."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, mapped_column

from casework.agencies.models import Agency
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db


class AgencySeal(db.Model):
    """The current seal image of one agency (a new upload replaces it; the audit trail keeps the hashes)."""

    __tablename__ = "agency_seals"
    audit_type = "agency_seal"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), unique=True)
    image: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def seal_record(agency: Agency) -> AgencySeal | None:
    return db.session.scalar(select(AgencySeal).where(AgencySeal.agency_id == agency.id))


def seal_for(agency: Agency) -> tuple[bytes, str] | None:
    """The agency's seal as (PNG bytes, SHA-256 hex), or None when none was uploaded."""
    seal = seal_record(agency)
    return (seal.image, seal.sha256) if seal is not None else None
