"""Append events to the keyed hash chain, seal them at commit, and verify the chain.

``record_event`` inserts the event without a place in the chain. Just before the outermost commit,
``seal_chain`` locks the one chain-head row, gives the transaction's events their sequence numbers,
previous hashes and HMACs, and advances the head (on PostgreSQL in one statement), so the lock is
held for two round trips and the commit, never while a transaction does its domain work or renders
a notice.
"""
from __future__ import annotations

import hashlib
import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Flask, has_request_context, request
from sqlalchemy import bindparam, event, func, inspect, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from casework.audit.checkpoints import Checkpoint, CheckpointError, checkpoint_and_mail, latest_checkpoint
from casework.audit.ddl import GENESIS_HASH
from casework.audit.keys import KeyRing
from casework.audit.models import AuditChainHead, AuditEvent
from casework.audit.settings import audit_settings, build_settings
from casework.db_session import before_outermost_commit
from casework.db_types import utcnow
from casework.extensions import db

HASHED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_name", "agency_id", "source_ip", "event",
    "object_type", "object_id", "trigger", "from_state", "to_state", "outcome", "payload",
)
UNSEALED = "casework_audit_unsealed"
SEALED = "casework_audit_sealed"
ONE_STATEMENT_SEALS = 1000
log = logging.getLogger("casework.audit")


def _canonical(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def _event_text(event: AuditEvent, prev_hash: str, with_key_id: bool) -> str:
    body = {name: _canonical(getattr(event, name)) for name in HASHED_FIELDS}
    if with_key_id:
        body["key_id"] = event.key_id
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return prev_hash + "\n" + text


def event_digest(event: AuditEvent, prev_hash: str, keys: KeyRing | None = None) -> str:
    """HMAC-SHA-256 with the event's key over the previous hash and the event's fields (canonical
    JSON); events from before keyed hashing (no key id) keep their plain SHA-256."""
    if event.key_id is None:
        return hashlib.sha256(_event_text(event, prev_hash, False).encode("utf-8")).hexdigest()
    return (keys or audit_settings().keys).sign(_event_text(event, prev_hash, True), event.key_id)


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
    """Add one event in the current transaction (flushes, never commits); it takes its place in
    the chain when the transaction commits."""
    session = db.session
    if obj is not None and obj.id is None:
        session.flush()
    object_type, object_id = _object_ref(obj)
    entry = AuditEvent(
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
    )
    session.add(entry)
    session.flush()
    session.info.setdefault(UNSEALED, []).append(entry)
    return entry


def _json_safe(payload: dict) -> dict:
    return json.loads(json.dumps(payload, ensure_ascii=False, default=str))


# --- sealing at commit -----------------------------------------------------------------------

def seal_chain(session: Session) -> None:
    """Give this transaction's events their place in the chain (runs last before the commit)."""
    pending = [e for e in session.info.pop(UNSEALED, []) if inspect(e).persistent]
    if not pending:
        return
    keys = audit_settings().keys
    head = session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)
                           .where(AuditChainHead.id == 1).with_for_update()).one_or_none()
    if head is None:
        raise RuntimeError("the audit chain head row is missing: the audit trail has been tampered with")
    seq, prev_hash = head
    rows = []
    for entry in sorted(pending, key=lambda e: e.id):
        seq += 1
        for name, value in (("seq", seq), ("prev_hash", prev_hash), ("key_id", keys.current_id)):
            set_committed_value(entry, name, value)
        set_committed_value(entry, "hash", event_digest(entry, prev_hash, keys))
        prev_hash = entry.hash
        rows.append({"b_id": entry.id, "b_seq": seq, "b_prev": entry.prev_hash, "b_hash": entry.hash,
                     "b_key": keys.current_id})
    _write_seals(session, rows, seq, prev_hash)
    session.info[SEALED] = (seq, prev_hash)


def _write_seals(session: Session, rows: list[dict], last_seq: int, last_hash: str) -> None:
    """Store the seals and advance the head: one statement on PostgreSQL (up to a thousand events),
    two elsewhere."""
    head = {"last_seq": last_seq, "last_hash": last_hash}
    if session.get_bind().dialect.name == "postgresql" and len(rows) <= ONE_STATEMENT_SEALS:
        values = ", ".join(f"(CAST(:id{i} AS BIGINT), CAST(:seq{i} AS BIGINT), :prev{i}, :hash{i})"
                           for i in range(len(rows)))
        params = {f"{name}{i}": row[f"b_{name}"] for i, row in enumerate(rows)
                  for name in ("id", "seq", "prev", "hash")}
        session.execute(text(
            "WITH sealed AS (UPDATE audit_events AS e SET seq = v.seq, prev_hash = v.prev, hash = v.hash, "
            f"key_id = :key FROM (VALUES {values}) AS v(id, seq, prev, hash) WHERE e.id = v.id) "
            "UPDATE audit_chain_head SET last_seq = :last_seq, last_hash = :last_hash WHERE id = 1"),
            {**params, **head, "key": rows[0]["b_key"]})
        return
    events = AuditEvent.__table__
    session.execute(update(events).where(events.c.id == bindparam("b_id")).values(
        seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash"),
        key_id=bindparam("b_key")), rows)
    session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(**head))


def _forget_unsealed(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(UNSEALED, None)
        session.info.pop(SEALED, None)


def _checkpoint_when_due(session: Session) -> None:
    """After a commit that sealed events: write the interval checkpoint if one is due."""
    sealed = session.info.pop(SEALED, None)
    if sealed is None:
        return
    settings = audit_settings()
    if settings.checkpoint_due():
        try:
            checkpoint_and_mail(settings, *sealed)
        except (OSError, smtplib.SMTPException) as error:
            log.error("audit checkpoint at seq %s not written or not mailed: %s", sealed[0], error)


def init_audit(app: Flask) -> None:
    """Load the key ring and checkpoint settings; seal the chain at every outermost commit."""
    app.extensions["casework_audit"] = build_settings(app)
    if seal_chain not in _installed:
        before_outermost_commit(seal_chain)
        event.listen(Session, "after_soft_rollback", _forget_unsealed)
        event.listen(Session, "after_commit", _checkpoint_when_due)
        _installed.append(seal_chain)


_installed: list = []


# --- verifying -------------------------------------------------------------------------------

@dataclass
class ChainReport:
    checked: int
    broken_event_id: int | None = None
    broken_seq: int | None = None
    reason: str | None = None
    checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass
class _Walk:
    checked: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS_HASH
    keyed: bool = False
    failure: ChainReport | None = None


def _problem(row, walk: _Walk, keys: KeyRing, anchor: Checkpoint | None) -> str | None:
    if row.seq != walk.checked + 1:
        return f"sequence gap: expected {walk.checked + 1}"
    if row.prev_hash != walk.last_hash:
        return "previous hash does not match"
    if row.key_id is None and walk.keyed:
        return "an event without a key id follows keyed events"
    if row.key_id is not None and not keys.knows(row.key_id):
        return f"signed with key {row.key_id!r}, which is not in the key ring"
    if event_digest(row, walk.last_hash, keys) != row.hash:
        return "content does not match its hash"
    if anchor is not None and row.seq == anchor.seq and row.hash != anchor.chain_hash:
        return f"hash differs from checkpoint {anchor.path.name}"
    return None


def _check_events(keys: KeyRing, anchor: Checkpoint | None, batch_size: int) -> _Walk:
    walk = _Walk()
    events = AuditEvent.__table__
    while True:
        rows = db.session.execute(select(events).where(events.c.seq > walk.checked)
                                  .order_by(events.c.seq).limit(batch_size)).all()
        if not rows:
            return walk
        for row in rows:
            problem = _problem(row, walk, keys, anchor)
            if problem:
                walk.failure = ChainReport(walk.checked, row.id, row.seq, problem, anchor)
                return walk
            walk.checked += 1
            walk.last_id, walk.last_hash = row.id, row.hash
            walk.keyed = walk.keyed or row.key_id is not None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Recompute every HMAC in sequence order, then compare the chain's end with the head row and
    the latest signed checkpoint; report the first thing that does not hold."""
    settings = audit_settings()
    keys = settings.keys
    try:
        anchor = latest_checkpoint(settings.checkpoint_dir, keys)
    except CheckpointError as error:
        return ChainReport(0, reason=str(error))
    head = db.session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)
                              .where(AuditChainHead.id == 1)).one_or_none()
    if head is None:
        return ChainReport(0, reason="the chain head row is missing", checkpoint=anchor)
    own = [e.id for e in db.session.info.get(UNSEALED, []) if inspect(e).persistent]
    unsealed = db.session.scalar(select(func.min(AuditEvent.id)).where(
        AuditEvent.seq.is_(None), AuditEvent.id.not_in(own)))  # this transaction's own are sealed at commit
    if unsealed is not None:
        return ChainReport(0, unsealed, None, "event has no place in the chain (never sealed)", anchor)
    walk = _check_events(keys, anchor, batch_size)
    if walk.failure is not None:
        return walk.failure
    checked = walk.checked
    if head.last_seq != checked or head.last_hash != walk.last_hash:
        return ChainReport(checked, walk.last_id, checked or None,
                           f"chain head (seq {head.last_seq}) does not match the last event (seq {checked})", anchor)
    if anchor is not None and checked < anchor.seq:
        return ChainReport(checked, walk.last_id, checked or None,
                           f"the chain ends at seq {checked} but checkpoint {anchor.path.name} "
                           f"records seq {anchor.seq}: events were removed", anchor)
    return ChainReport(checked, checkpoint=anchor)


def checkpoint_chain() -> tuple[ChainReport, Path | None]:
    """Verify the chain, then write (and mail, where configured) a checkpoint of its head.
    A broken chain gets no checkpoint: the report says why."""
    report = verify_chain()
    if not report.ok:
        return report, None
    head = db.session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)
                              .where(AuditChainHead.id == 1)).one()
    return report, checkpoint_and_mail(audit_settings(), head.last_seq, head.last_hash)
