"""Referrals (线索) opened by an education department, and their assessments (研判意见)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db
from workflows import declarations

REFERRAL_SOURCES = ("university_report", "platform_report", "monitoring_lead", "public_tip")
BEHAVIOURS = ("brushing", "proxy_study", "exam_brushing", "proxy_exam", "selling_answers", "selling_accounts")


class Referral(db.Model):
    __tablename__ = "referrals"
    audit_type = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    origin_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True, active_history=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(32), default=declarations().lifecycle("referral").initial, index=True,
                                       active_history=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    overdue: Mapped[bool] = mapped_column(default=False, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    origin_agency: Mapped[Agency] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    assignments: Mapped[list["Assignment"]] = relationship(  # noqa: F821
        back_populates="referral", order_by="Assignment.id"
    )
    target_links: Mapped[list["ReferralTarget"]] = relationship(  # noqa: F821
        back_populates="referral", order_by="ReferralTarget.id", cascade="all, delete-orphan"
    )
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="referral", order_by="Assessment.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def assessment(self) -> Assessment | None:
        return self.assessments[-1] if self.assessments else None

    @property
    def targets(self):
        return [link.target for link in self.target_links]


class Assessment(db.Model):
    """The education department's 研判意见; approved by a second person."""

    __tablename__ = "assessments"
    audit_type = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    conclusion: Mapped[str] = mapped_column(String(32))
    behaviours: Mapped[list] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(16), default="medium")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    opinion: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[list] = mapped_column(JSON, default=list)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approval_opinion: Mapped[str] = mapped_column(Text, default="", server_default="")  # the approver's 审批意见
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    referral: Mapped[Referral] = relationship(back_populates="assessments")
    assessor: Mapped[User] = relationship(foreign_keys=[assessor_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    __mapper_args__ = {"version_id_col": version}
