"""The registry of brushing targets: one entry per target across all referrals."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.accounts.models import User
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db
from workflows import declarations

TARGET_KINDS = tuple(declarations().target_kinds)  # declared in workflows/kinds.toml
TARGET_KIND_ZH = {kind: label.zh for kind, label in declarations().target_kinds.items()}  # as notices name them

TARGET_STATUSES = ("unknown", "online", "offline")
CHECK_METHODS = ("http", "manual")


class Target(db.Model):
    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("kind", "key"),)
    audit_type = "target"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(512), index=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2048))
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    registrable_domain: Mapped[str | None] = mapped_column(String(255), index=True)
    package_name: Mapped[str | None] = mapped_column(String(255), index=True)
    store: Mapped[str | None] = mapped_column(String(64))
    developer: Mapped[str | None] = mapped_column(String(200))
    platform: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(200), index=True)
    icp_number: Mapped[str | None] = mapped_column(String(64))
    ip_addresses: Mapped[list] = mapped_column(JSON, default=list)
    operator_name: Mapped[str | None] = mapped_column(String(200))
    operator_uscc: Mapped[str | None] = mapped_column(String(18))
    contact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    status_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offline_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    back_online: Mapped[bool] = mapped_column(default=False, index=True)
    back_online_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    referral_links: Mapped[list[ReferralTarget]] = relationship(back_populates="target")
    checks: Mapped[list[TargetStatusCheck]] = relationship(
        back_populates="target", order_by="TargetStatusCheck.id.desc()"
    )

    __mapper_args__ = {"version_id_col": version}


class TargetStatusCheck(db.Model):
    """One observation of a target: online, offline or unknown, how and by whom."""

    __tablename__ = "target_status_checks"
    audit_type = "target_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    method: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    http_status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(String(2048))
    redirects: Mapped[list] = mapped_column(JSON, default=list)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    back_online: Mapped[bool] = mapped_column(default=False)

    target: Mapped[Target] = relationship(back_populates="checks")
    checked_by: Mapped[User | None] = relationship()
    evidence: Mapped["Evidence | None"] = relationship()  # noqa: F821


class ReferralTarget(db.Model):
    """A target as named in one referral."""

    __tablename__ = "referral_targets"
    __table_args__ = (UniqueConstraint("referral_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped["Referral"] = relationship(back_populates="target_links")  # noqa: F821
    target: Mapped[Target] = relationship(back_populates="referral_links", lazy="joined")
    added_by: Mapped[User | None] = relationship()
