"""Notifications (the bell), their e-mail deliveries (a transactional outbox), mail settings and
the periodic jobs' last runs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.accounts.models import User
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db


class Notification(db.Model):
    """One thing one user is told: written in the transaction of the change that caused it."""

    __tablename__ = "notifications"
    audit_type = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    trigger: Mapped[str | None] = mapped_column(String(64))
    agency_kind: Mapped[str | None] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(32), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dedupe_key: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

    __table_args__ = (
        db.Index("ix_notifications_recipient_unread", "recipient_id", "read_at", "id"),
        UniqueConstraint("recipient_id", "dedupe_key"),
    )


class MailDelivery(db.Model):
    """The e-mail of one notification: sent at most once, retried with back-off, or failed with a reason.

    ``state``: pending (to send), held (for the recipient's daily digest), sent, failed. A worker
    claims rows for a short lease (``claimed_until``) so that several workers never send one twice.
    """

    __tablename__ = "mail_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    address: Mapped[str] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    notification: Mapped[Notification] = relationship()

    __table_args__ = (db.Index("ix_mail_deliveries_due", "state", "next_attempt_at"),)


class MailSettings(db.Model):
    """A user's address and how they want e-mail: immediately, a daily digest at an hour (CST), or off."""

    __tablename__ = "mail_settings"
    audit_type = "mail_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    mode: Mapped[str] = mapped_column(String(16), default="immediate")
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def id(self) -> int:
        return self.user_id


class JobRun(db.Model):
    """When a periodic job last ran; its row lock lets one worker of several run it per period."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str] = mapped_column(String(300), default="")
