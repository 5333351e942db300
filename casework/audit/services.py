"""Append events to the hash chain and verify it."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context, request
from sqlalchemy import select

from casework.audit.ddl import GENESIS_HASH
from casework.audit.models import AuditChainHead, AuditEvent
from casework.db_types import utcnow
from casework.extensions import db

HASHED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_name", "agency_id", "source_ip", "event",
    "object_type", "object_id", "trigger", "from_state", "to_state", "outcome", "payload",
)


def _canonical(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def event_digest(event: AuditEvent, prev_hash: str) -> str:
    """SHA-256 over the previous hash and the event's fields in canonical JSON."""
    body = {name: _canonical(getattr(event, name)) for name in HASHED_FIELDS}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + "\n" + text).encode("utf-8")).hexdigest()


def _source_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def _object_ref(obj) -> tuple[str | None, int | None]:
    if obj is None:
        return None, None
    return getattr(obj, "audit_type", obj.__tablename__), obj.id


def record_event(
    event: str,
    actor=None,
    obj=None,
    *,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    outcome: str = "ok",
    payload: dict | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the current transaction (flushes, never commits)."""
    session = db.session
    if obj is not None and obj.id is None:
        session.flush()
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
    ).scalar_one()
    object_type, object_id = _object_ref(obj)
    entry = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=actor_name or getattr(actor, "username", None),
        agency_id=getattr(actor, "agency_id", None),
        source_ip=_source_ip(),
        event=event,
        object_type=object_type,
        object_id=object_id,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        outcome=outcome,
        payload=_json_safe(payload or {}),
        prev_hash=head.last_hash,
    )
    entry.hash = event_digest(entry, head.last_hash)
    session.add(entry)
    head.last_seq = entry.seq
    head.last_hash = entry.hash
    session.flush()
    return entry


def _json_safe(payload: dict) -> dict:
    return json.loads(json.dumps(payload, ensure_ascii=False, default=str))


@dataclass
class ChainReport:
    checked: int
    broken_event_id: int | None = None
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_event_id is None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Recompute every hash in sequence order; report the first event that does not match."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            select(AuditEvent).where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq).limit(batch_size)
        ).scalars().all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != expected_seq:
                return ChainReport(checked, ev.id, ev.seq, f"sequence gap: expected {expected_seq}")
            if ev.prev_hash != prev_hash:
                return ChainReport(checked, ev.id, ev.seq, "previous hash does not match")
            if event_digest(ev, prev_hash) != ev.hash:
                return ChainReport(checked, ev.id, ev.seq, "content does not match its hash")
            prev_hash = ev.hash
            expected_seq += 1
            checked += 1
            last_id = ev.id
        db.session.expire_all()
    head = db.session.get(AuditChainHead, 1)
    if head is not None and (head.last_seq != checked or head.last_hash != prev_hash):
        return ChainReport(checked, last_id or None, checked, "chain head does not match the last event")
    return ChainReport(checked)
