"""A comment is never edited in place: a correction is a new comment that supersedes it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.accounts.models import User
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db


class Comment(db.Model):
    """A note on a referral, or on one assignment of it (then read only by those who may read that
    assignment's details)."""

    __tablename__ = "comments"
    audit_type = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list] = mapped_column(JSON, default=list)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()
    supersedes: Mapped[Comment | None] = relationship(remote_side=[id])
