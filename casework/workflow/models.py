"""Clocks (time limits per subject and stage), extensions, reminders (催办), rule overrides, reconsiderations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db


class Clock(db.Model):
    """One running (or stopped) time limit of a referral or an assignment."""

    __tablename__ = "clocks"
    audit_type = "clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    responsible_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    overdue: Mapped[bool] = mapped_column(default=False, index=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    calendar_note: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    responsible_agency: Mapped[Agency] = relationship()
    extensions: Mapped[list[ClockExtension]] = relationship(back_populates="clock", order_by="ClockExtension.id")

    __table_args__ = (db.Index("ix_clocks_subject", "subject_type", "subject_id"),)
    __mapper_args__ = {"version_id_col": version}

    @property
    def running(self) -> bool:
        return self.stopped_at is None


class ClockExtension(db.Model):
    """A request for more time on one clock; a second person of the approver role decides."""

    __tablename__ = "clock_extensions"
    audit_type = "clock_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("clocks.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="requested")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    clock: Mapped[Clock] = relationship(back_populates="extensions")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}


class Reminder(db.Model):
    """A queued 催办: one row for the responsible agency and one per approver there."""

    __tablename__ = "reminders"
    audit_type = "reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("clocks.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    clock: Mapped[Clock] = relationship()
    agency: Mapped[Agency] = relationship()
    recipient: Mapped[User | None] = relationship()


class ClockRuleOverride(db.Model):
    """An administrator's change to a clock rule declared in workflows/clocks.toml."""

    __tablename__ = "clock_rule_overrides"
    audit_type = "clock_rule_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40), unique=True)
    unit: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Reconsideration(db.Model):
    """The referring department's 复议 request against a refusal, and the agency's answer."""

    __tablename__ = "reconsiderations"
    audit_type = "reconsideration"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    __mapper_args__ = {"version_id_col": version}
