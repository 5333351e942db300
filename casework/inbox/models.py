"""The inbox's own tables: open-work counters per desk and state, and each desk's token."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import db


class DeskCount(db.Model):
    """How many referrals an education department originated, or how many assignments an agency
    holds, are in one state now (``casework.inbox.counts`` keeps it in step)."""

    __tablename__ = "desk_counts"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class DeskToken(db.Model):
    """A random value renewed with every change a desk lists (``casework.inbox.tokens``)."""

    __tablename__ = "desk_tokens"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
