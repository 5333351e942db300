"""Backups that restore: the database (PostgreSQL: ``pg_dump`` custom format; SQLite: the online
backup API), the evidence files, and a manifest of SHA-256 hashes, row counts and the audit chain's
head, all taken from one snapshot of the database.

A backup folder holds ``manifest.json``, ``database.dump`` or ``database.sqlite``, and
``evidence/ab/cd/<sha256>`` (the evidence store's own layout). Notices' PDFs live in their rows,
so they are in the database file. Evidence files are copied after the snapshot: a file is stored
before the row naming it commits, so every file the snapshot names is there.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import MetaData, create_engine, func, inspect, select, text
from sqlalchemy.engine import Connection, make_url

from casework.audit.models import AuditChainHead
from casework.audit.services import verify_chain
from casework.db_types import utcnow
from casework.extensions import db

MANIFEST = "manifest.json"
EVIDENCE = "evidence"
FORMAT_VERSION = 1
CHUNK = 1024 * 1024
PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"),)


class BackupRefused(Exception):
    """Bad input or a check that failed; the message is one line for the operator."""


@dataclass(frozen=True)
class RestoreReport:
    tables: int
    rows: int
    files: int
    audit_events: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def evidence_dir() -> Path:
    return Path(current_app.config["EVIDENCE_DIR"])


def _dialect() -> str:
    return db.engine.dialect.name


def create_backup(target: Path) -> dict:
    """Write a backup of the configured database and evidence store into ``target`` (new or empty)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupRefused(f"{target} is not an empty folder; a backup goes into a new or empty one")
    if not target.parent.is_dir():
        raise BackupRefused(f"the folder {target.parent} does not exist")
    target.mkdir(exist_ok=True, mode=0o700)
    if _dialect() == "postgresql":
        database_file, snapshot = _dump_postgresql(target / "database.dump")
    else:
        database_file, snapshot = _copy_sqlite(target / "database.sqlite")
    files = _copy_tree(evidence_dir(), target / EVIDENCE)
    manifest = {"format": FORMAT_VERSION, "created_at": utcnow().isoformat(), "dialect": _dialect(),
                "database": {"file": database_file.name, "sha256": file_sha256(database_file)},
                **snapshot, "files": files}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return manifest


def _snapshot_facts(connection: Connection) -> dict:
    """Row counts per table and the audit chain's head, as ``connection`` sees the database."""
    meta = MetaData()
    meta.reflect(bind=connection)
    counts = {name: connection.execute(select(func.count()).select_from(table)).scalar_one()
              for name, table in sorted(meta.tables.items())}
    head = connection.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).first()
    return {"tables": counts, "audit_head": {"seq": head.last_seq, "hash": head.last_hash} if head else None}


def _dump_postgresql(out: Path) -> tuple[Path, dict]:
    """``pg_dump`` of a snapshot exported from a transaction that counts the rows of the same snapshot."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            facts = _snapshot_facts(connection)
            _run_pg("pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={out}")
    return out, facts


def _copy_sqlite(out: Path) -> tuple[Path, dict]:
    source = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not source or source == ":memory:":
        raise BackupRefused("an in-memory SQLite database cannot be backed up")
    with sqlite3.connect(source) as live, sqlite3.connect(out) as copy:
        live.backup(copy)
    copy_engine = create_engine(f"sqlite:///{out}")
    try:
        with copy_engine.connect() as connection:
            facts = _snapshot_facts(connection)
    finally:
        copy_engine.dispose()
    return out, facts


def _copy_tree(source: Path, target: Path) -> dict[str, str]:
    """Copy every file under ``source`` into ``target``; their SHA-256 by path under ``target``'s parent."""
    hashes: dict[str, str] = {}
    if not source.is_dir():
        return hashes
    for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")):
        relative = path.relative_to(source)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(path, destination)
        hashes[f"{target.name}/{relative.as_posix()}"] = file_sha256(destination)
    return hashes


def read_manifest(source: Path) -> dict:
    """The manifest of the backup in ``source``, after checking every file's hash against it."""
    if not source.is_dir():
        raise BackupRefused(f"no backup folder at {source}")
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRefused(f"{source} holds no {MANIFEST}; it is not a Casework backup") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupRefused(f"{source / MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise BackupRefused(f"{source / MANIFEST} is not a manifest of format {FORMAT_VERSION}")
    expected = {manifest["database"]["file"]: manifest["database"]["sha256"], **manifest["files"]}
    for name, digest in sorted(expected.items()):
        path = source / name
        if not path.is_file():
            raise BackupRefused(f"manifest mismatch: {name} is missing from the backup")
        if file_sha256(path) != digest:
            raise BackupRefused(f"manifest mismatch: {name} does not have the SHA-256 the manifest gives")
    present = {p.relative_to(source).as_posix() for p in (source / EVIDENCE).rglob("*") if p.is_file()}
    if extra := sorted(present - set(expected)):
        raise BackupRefused(f"manifest mismatch: {extra[0]} is in the backup but not in the manifest")
    return manifest


def restore_backup(source: Path) -> dict:
    """Restore the backup in ``source`` into the configured database and evidence store, both empty."""
    manifest = read_manifest(source)
    if manifest["dialect"] != _dialect():
        raise BackupRefused(f"the backup is of a {manifest['dialect']} database; the configured one is {_dialect()}")
    if tables := inspect(db.engine).get_table_names():
        raise BackupRefused(f"the target database is not empty (it has {len(tables)} tables); "
                            "restore into an empty one")
    store = evidence_dir()
    if store.exists() and any(store.iterdir()):
        raise BackupRefused(f"the evidence folder {store} is not empty; restore into an empty one")
    database_file = source / manifest["database"]["file"]
    db.session.remove()
    if manifest["dialect"] == "postgresql":
        _run_pg("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                str(database_file), dbname_flag=True)
    else:
        _restore_sqlite(database_file)
    db.engine.dispose()
    store.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name in manifest["files"]:
        destination = store / Path(name).relative_to(EVIDENCE)
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(source / name, destination)
    return manifest


def _restore_sqlite(database_file: Path) -> None:
    target = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not target or target == ":memory:":
        raise BackupRefused("cannot restore into an in-memory SQLite database")
    db.engine.dispose()
    with sqlite3.connect(database_file) as copy, sqlite3.connect(target) as live:
        copy.backup(live)


def verify_restore(manifest: dict) -> RestoreReport:
    """Compare the configured database and evidence store with ``manifest``; raise on any difference."""
    with db.engine.connect() as connection:
        facts = _snapshot_facts(connection)
    for table, count in sorted(manifest["tables"].items()):
        if facts["tables"].get(table) != count:
            raise BackupRefused(f"verify failed: table {table} has {facts['tables'].get(table)} rows, "
                                f"the backup {count}")
    if extra := sorted(set(facts["tables"]) - set(manifest["tables"])):
        raise BackupRefused(f"verify failed: table {extra[0]} is not in the backup")
    store = evidence_dir()
    for name, digest in sorted(manifest["files"].items()):
        path = store / Path(name).relative_to(EVIDENCE)
        if not path.is_file() or file_sha256(path) != digest:
            raise BackupRefused(f"verify failed: evidence file {name} is missing or differs")
    report = verify_chain()
    if not report.ok:
        raise BackupRefused(f"verify failed: audit chain broken at event id {report.broken_event_id}: {report.reason}")
    if facts["audit_head"] != manifest["audit_head"]:
        raise BackupRefused("verify failed: the audit chain's head differs from the backup's")
    db.session.remove()
    return RestoreReport(len(manifest["tables"]), sum(manifest["tables"].values()), len(manifest["files"]),
                         report.checked)


def _pg_tool(name: str) -> str:
    for folder in PG_BIN_DIRS:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(f"{name} is not installed (Debian: apt-get install postgresql-client-15)")
    return found


def _run_pg(tool: str, *args: str, dbname_flag: bool = False) -> None:
    """Run a PostgreSQL client tool on the configured database; the password goes by environment."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = {**os.environ, "PGPASSWORD": url.password or "", "PGHOST": url.host or "",
           "PGPORT": str(url.port or 5432), "PGUSER": url.username or "", "PGDATABASE": url.database or ""}
    command = [_pg_tool(tool), *args]
    if dbname_flag:
        command.insert(1, f"--dbname={url.database}")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupRefused(f"{tool} failed: {lines[0] if lines else f'exit {result.returncode}'}")
