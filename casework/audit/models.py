"""Audit events, chained by keyed hashes; the database refuses to change or delete them (an event
is sealed once: its sequence number, previous hash, key id and hash are set at commit)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.db_types import UTCDateTime
from casework.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    agency_id: Mapped[int | None] = mapped_column(Integer)
    source_ip: Mapped[str | None] = mapped_column(String(45))
    event: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    trigger: Mapped[str | None] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (db.Index("ix_audit_events_object", "object_type", "object_id"),)


class AuditChainHead(db.Model):
    """One row: the last sequence number and hash. Locked only while a commit seals its events."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
