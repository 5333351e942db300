"""The keyed, anchored audit chain: every kind of tampering is found by ``casework audit verify``
(with the append-only triggers dropped first, as anyone with the owner's rights could), keys
rotate, checkpoints are signed, and the chain head is locked only while a commit seals."""
from __future__ import annotations

import json
import os
import socket

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from casework.audit.checkpoints import latest_checkpoint
from casework.audit.ddl import GENESIS_HASH, drop_append_only
from casework.audit.keys import KeyRing, parse_key_ring
from casework.audit.models import AuditChainHead, AuditEvent
from casework.audit.services import event_digest, record_event, verify_chain
from casework.audit.settings import audit_settings
from casework.extensions import db

EVENTS = 6


@pytest.fixture
def chain(app, db_session, tmp_path, monkeypatch):
    """Six committed events and a checkpoint of them in a directory of this test's own."""
    settings = audit_settings()
    monkeypatch.setattr(settings, "checkpoint_dir", tmp_path / "checkpoints")
    for n in range(EVENTS):
        record_event("test.event", None, actor_name=f"user-{n}", payload={"n": n})
        db.session.commit()
    result = cli(app, "audit", "checkpoint")
    assert result.exit_code == 0, result.output
    return settings


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def sql(statement: str, **params) -> None:
    db.session.execute(text(statement), params)


def last_seq() -> int:
    return db.session.scalar(select(AuditChainHead.last_seq))


def seq_hash(seq: int) -> str:
    return db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


def edit_a_row():
    sql("UPDATE audit_events SET actor_name = 'mallory' WHERE seq = :s", s=last_seq() - 3)


def delete_a_middle_row():
    sql("DELETE FROM audit_events WHERE seq = :s", s=last_seq() - 3)


def delete_the_tail_and_rewind_the_head():
    keep = last_seq() - 2
    sql("DELETE FROM audit_events WHERE seq > :s", s=keep)
    sql("UPDATE audit_chain_head SET last_seq = :s, last_hash = :h", s=keep, h=seq_hash(keep))


def delete_the_head_row():
    sql("DELETE FROM audit_chain_head")


def delete_everything():
    sql("DELETE FROM audit_events")
    sql("UPDATE audit_chain_head SET last_seq = 0, last_hash = :h", h=GENESIS_HASH)


def _recompute(keys: KeyRing | None) -> None:
    """Change an old row's actor, then recompute every hash from the genesis onwards."""
    sql("UPDATE audit_events SET actor_name = 'mallory' WHERE seq = :s", s=last_seq() - 4)
    prev = GENESIS_HASH
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all():
        db.session.refresh(event)
        event.key_id = keys.current_id if keys else None
        digest = event_digest(event, prev, keys)
        sql("UPDATE audit_events SET prev_hash = :p, hash = :h, key_id = :k WHERE id = :i",
            p=prev, h=digest, k=event.key_id, i=event.id)
        prev = digest
    sql("UPDATE audit_chain_head SET last_hash = :h", h=prev)
    db.session.expire_all()


def recompute_with_plain_sha256():
    _recompute(None)


def recompute_with_a_guessed_key():
    _recompute(KeyRing("test-1", {"test-1": b"guess" * 8}))


def reorder_two_rows():
    a, b = last_seq() - 3, last_seq() - 2
    sql("UPDATE audit_events SET seq = -1 WHERE seq = :a", a=a)
    sql("UPDATE audit_events SET seq = :a WHERE seq = :b", a=a, b=b)
    sql("UPDATE audit_events SET seq = :b WHERE seq = -1", b=b)


@pytest.mark.parametrize("tamper, finding", [
    (edit_a_row, "content does not match its hash"),
    (delete_a_middle_row, "sequence gap"),
    (delete_the_tail_and_rewind_the_head, "events were removed"),
    (delete_the_head_row, "chain head row is missing"),
    (delete_everything, "events were removed"),
    (recompute_with_plain_sha256, "checkpoint"),
    (recompute_with_a_guessed_key, "content does not match its hash"),
    (reorder_two_rows, "previous hash does not match"),
])
def test_verify_finds_tampering(app, chain, tamper, finding):
    assert cli(app, "audit", "verify").exit_code == 0
    drop_append_only(db.session.connection())
    tamper()
    result = cli(app, "audit", "verify")
    assert result.exit_code != 0
    assert "audit chain broken" in result.output and finding in result.output, result.output
    assert not verify_chain().ok


def test_an_intact_chain_reports_its_checkpoint(app, chain):
    result = cli(app, "audit", "verify")
    assert result.exit_code == 0 and f"up to checkpoint seq {last_seq()}" in result.output


def test_each_event_names_its_key_and_old_keys_still_verify_after_rotation(app, chain, monkeypatch):
    old = chain.keys
    rotated = parse_key_ring(f"test-1:{old.secrets['test-1'].decode()}\ntest-2:{'2b' * 32}", "test")
    monkeypatch.setattr(chain, "keys", rotated)
    record_event("test.after_rotation", None, actor_name="someone")
    db.session.commit()
    key_ids = db.session.scalars(select(AuditEvent.key_id).order_by(AuditEvent.seq.desc()).limit(2)).all()
    assert key_ids == ["test-2", "test-1"]
    assert verify_chain().ok
    monkeypatch.setattr(chain, "keys", parse_key_ring(f"test-2:{'2b' * 32}", "test"))
    report = verify_chain()
    assert not report.ok and "key 'test-1'" in report.reason  # the checkpoint and old events need it


def test_a_checkpoint_with_a_bad_signature_or_unreadable_is_a_failure(app, chain):
    path = latest_checkpoint(chain.checkpoint_dir, chain.keys).path
    fields = json.loads(path.read_text())
    path.write_text(json.dumps({**fields, "seq": fields["seq"] - 1}))
    assert "bad signature" in cli(app, "audit", "verify").output
    path.write_text("{not json")
    result = cli(app, "audit", "verify")
    assert result.exit_code != 0 and "cannot be read" in result.output


def test_no_checkpoint_is_written_of_a_broken_chain(app, chain):
    drop_append_only(db.session.connection())
    edit_a_row()
    result = cli(app, "audit", "checkpoint")
    assert result.exit_code != 0 and "no checkpoint written" in result.output


def test_rotate_key_appends_a_key_to_the_key_file(app, tmp_path, monkeypatch):
    key_file = tmp_path / "keys"
    key_file.write_text(f"old-1:{'a1' * 32}\n")
    monkeypatch.setitem(app.config, "AUDIT_KEYS", None)
    monkeypatch.delenv("CASEWORK_AUDIT_KEY", raising=False)
    monkeypatch.setenv("CASEWORK_AUDIT_KEY_FILE", str(key_file))
    result = cli(app, "audit", "rotate-key")
    assert result.exit_code == 0, result.output
    ring = parse_key_ring(key_file.read_text(), "keys")
    assert set(ring.secrets) > {"old-1"} and ring.current_id != "old-1"


def test_the_checkpoint_is_mailed_to_the_audit_administrator(app, chain, monkeypatch):
    controller_module = pytest.importorskip("aiosmtpd.controller")
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = controller_module.Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setattr(chain, "smtp_url", f"smtp://127.0.0.1:{port}")
        monkeypatch.setattr(chain, "mail_to", ["auditor@example.gov.cn"])
        monkeypatch.setattr(chain, "mail_from", "casework@example.gov.cn")
        result = cli(app, "audit", "checkpoint")
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert [r.rcpt_tos for r in received] == [["auditor@example.gov.cn"]]
    assert b'"chain_hash"' in received[0].content


@pytest.mark.skipif(not os.environ.get("CASEWORK_DATABASE_URL", "").startswith("postgresql"),
                    reason="row locks need PostgreSQL")
def test_the_chain_head_is_locked_only_while_the_commit_seals(app, db_session):
    other = create_engine(os.environ["CASEWORK_DATABASE_URL"])
    probe = "SELECT last_seq FROM audit_chain_head WHERE id = 1 FOR UPDATE NOWAIT"
    try:
        record_event("test.event", None, actor_name="someone")
        with other.connect() as conn:
            conn.exec_driver_sql("SET lock_timeout = '1s'")
            conn.exec_driver_sql(probe)  # not locked while the transaction works
            conn.rollback()
        db.session.commit()  # seals: the outer test transaction now holds the head's lock
        with other.connect() as conn, pytest.raises(OperationalError):
            conn.exec_driver_sql(probe)
    finally:
        other.dispose()


def test_a_checkpoint_is_written_after_the_first_commit_of_each_interval(app, db_session, tmp_path, monkeypatch):
    settings = audit_settings()
    monkeypatch.setattr(settings, "checkpoint_dir", tmp_path / "interval")
    monkeypatch.setattr(settings, "checkpoint_seconds", 3600)
    monkeypatch.setattr(settings, "last_checkpoint", None)
    record_event("test.event", None, actor_name="first")
    db.session.commit()
    record_event("test.event", None, actor_name="second")
    db.session.commit()
    written = latest_checkpoint(settings.checkpoint_dir, settings.keys)
    assert len(list(settings.checkpoint_dir.iterdir())) == 1
    assert written.seq == last_seq() - 1 and written.chain_hash == seq_hash(written.seq)
