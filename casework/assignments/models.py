"""Assignments: the referral as received by one agency, and its disposition (处置)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db
from workflows import declarations


class Assignment(db.Model):
    __tablename__ = "assignments"
    audit_type = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True, active_history=True)
    # the base lifecycle's initial state; ``create_assignment`` sets its variant's own
    state: Mapped[str] = mapped_column(String(32), default=declarations().lifecycle("assignment").initial, index=True,
                                       active_history=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    routing_reason: Mapped[str] = mapped_column(Text, default="")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    # the approver's 审批意见 on the last proposed refusal to file or no penalty
    approval_opinion: Mapped[str] = mapped_column(Text, default="", server_default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    overdue: Mapped[bool] = mapped_column(default=False, index=True)
    routed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    referral: Mapped["Referral"] = relationship(back_populates="assignments")  # noqa: F821
    agency: Mapped[Agency] = relationship(lazy="joined")
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    transferred_from: Mapped[Assignment | None] = relationship(remote_side=[id])
    dispositions: Mapped[list[Disposition]] = relationship(
        back_populates="assignment", order_by="Disposition.id"
    )
    notes: Mapped[list[AssignmentNote]] = relationship(order_by="AssignmentNote.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def disposition(self) -> Disposition | None:
        return self.dispositions[-1] if self.dispositions else None


class AssignmentNote(db.Model):
    """Investigation notes kept by the agency's officers."""

    __tablename__ = "assignment_notes"
    audit_type = "assignment_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()


class Disposition(db.Model):
    """A proposed disposal decision; a second person of the approver role approves it."""

    __tablename__ = "dispositions"
    audit_type = "disposition"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    assignment: Mapped[Assignment] = relationship(back_populates="dispositions")
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    actions: Mapped[list[DispositionAction]] = relationship(
        back_populates="disposition", order_by="DispositionAction.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class DispositionAction(db.Model):
    """One disposal action against one target, with its outcome once executed."""

    __tablename__ = "disposition_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    disposition_id: Mapped[int] = mapped_column(ForeignKey("dispositions.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    disposition: Mapped[Disposition] = relationship(back_populates="actions")
    target: Mapped["Target"] = relationship()  # noqa: F821
