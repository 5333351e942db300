"""The backup → restore → verify drill on the configured kind of database (SQLite or PostgreSQL),
in databases of its own, and the one-line refusals of bad input."""
from __future__ import annotations

import json
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import make_url

from casework import create_app
from casework.audit.models import AuditEvent
from casework.audit.services import record_event
from casework.evidence.storage import store_bytes
from casework.extensions import db
from casework.notices.models import Notice
from casework.notices.services import issue_notice
from tests import conftest
from tests.factories import assignment_row, find_user, referral_row

DATABASE_URL = os.environ.get("CASEWORK_DATABASE_URL", "")


@contextmanager
def fresh_database(tmp_path: Path, name: str):
    """The URL of a new, empty database of the configured kind, dropped afterwards."""
    if not DATABASE_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / f'{name}.sqlite'}"
        return
    admin_url = make_url(DATABASE_URL)
    database = f"casework_backup_{name}_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    try:
        yield admin_url.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


def make_app(tmp_path: Path, url: str, evidence: str):
    return create_app({**conftest.test_config(tmp_path, url), "EVIDENCE_DIR": str(tmp_path / evidence)})


@pytest.fixture
def source_and_target(tmp_path):
    """A filled source (notices, evidence files, audit events) and an empty target."""
    from casework.migrate import upgrade

    with fresh_database(tmp_path, "src") as source_url, fresh_database(tmp_path, "dst") as target_url:
        source = make_app(tmp_path, source_url, "src-evidence")
        upgrade(source)
        with source.app_context():
            conftest.seed_agencies_and_users()
            referral = referral_row("edu-44")
            issue_notice("referral_letter", assignment_row(referral, "cac-44"), find_user("edu-44.assessor"))
            for body in (b"%PDF-1.4 first evidence", b"second evidence \x00\xff"):
                store_bytes(body)
            record_event("referral.create", find_user("edu-44.intake_officer"), referral)
            db.session.commit()
            db.session.remove()
        target = make_app(tmp_path, target_url, "dst-evidence")
        yield source, target
        for app in (source, target):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    return lines[0]


def test_backup_restore_verify_gives_the_same_rows_files_and_audit_chain(source_and_target, tmp_path):
    source, target = source_and_target
    folder = tmp_path / "backup"
    made = invoke(source, "backup", str(folder))
    assert made.exit_code == 0, made.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["notices"] == 1 and len(manifest["files"]) == 2
    assert manifest["tables"]["audit_events"] == manifest["audit_head"]["seq"] >= 2

    restored = invoke(target, "restore", str(folder), "--verify")
    assert restored.exit_code == 0, restored.output
    assert "audit chain intact" in restored.output
    with source.app_context():
        source_pdfs = db.session.scalars(select(Notice.sha256)).all()
    with target.app_context():
        assert db.session.scalars(select(Notice.sha256)).all() == source_pdfs
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == manifest["audit_head"]["seq"]
        record_event("backup.restored_write", None)  # the restored chain goes on (append-only triggers kept)
        db.session.commit()
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(AuditEvent.__table__.delete())
        db.session.rollback()
    restored_files = sorted(p.name for p in (tmp_path / "dst-evidence").rglob("*") if p.is_file())
    assert restored_files == sorted(Path(name).name for name in manifest["files"])


def test_bad_input_is_one_clear_line(source_and_target, tmp_path):
    source, target = source_and_target
    assert "no backup folder" in one_line(invoke(target, "restore", str(tmp_path / "missing")))
    (tmp_path / "not-a-backup").mkdir()
    assert "not a Casework backup" in one_line(invoke(target, "restore", str(tmp_path / "not-a-backup")))

    folder = tmp_path / "backup"
    assert invoke(source, "backup", str(folder)).exit_code == 0
    assert "not an empty folder" in one_line(invoke(source, "backup", str(folder)))
    assert "target database is not empty" in one_line(invoke(source, "restore", str(folder)))

    tampered = next(p for p in (folder / "evidence").rglob("*") if p.is_file())
    tampered.chmod(0o600)
    tampered.write_bytes(b"changed after the backup")
    assert "manifest mismatch" in one_line(invoke(target, "restore", str(folder)))
    with target.app_context():
        assert not inspect(db.engine).get_table_names()  # refused before touching anything
