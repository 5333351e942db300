"""Evidence files attached to a referral: content-addressed, hashed, immutable once attached."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.accounts.models import User
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db


class Evidence(db.Model):
    __tablename__ = "evidence"
    audit_type = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id"), index=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped["Referral"] = relationship()  # noqa: F821
    target: Mapped["Target | None"] = relationship()  # noqa: F821
    uploaded_by: Mapped[User] = relationship()


class EvidenceImmutable(Exception):
    pass


@event.listens_for(Evidence, "before_update")
def _refuse_update(mapper, connection, target) -> None:
    raise EvidenceImmutable("evidence is immutable once attached")


@event.listens_for(Evidence, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:
    raise EvidenceImmutable("evidence is immutable once attached")
