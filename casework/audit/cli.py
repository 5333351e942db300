"""``casework audit``: verify the chain, write a signed checkpoint, rotate the key."""
from __future__ import annotations

import os
import smtplib
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from casework.audit.keys import append_key, key_file_path
from casework.audit.services import ChainReport, checkpoint_chain, verify_chain
from casework.audit.settings import audit_settings
from casework.cli_support import check_database, fail


@click.group("audit", help="The tamper-evident audit trail.")
def audit_group() -> None:
    pass


def _broken(report: ChainReport) -> str:
    where = f"at event id {report.broken_event_id} (seq {report.broken_seq}): " \
        if report.broken_event_id is not None else ": "
    return f"audit chain broken {where}{report.reason}"


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Recheck every event's HMAC, the chain head and the latest checkpoint; exit non-zero naming
    the first thing that does not hold."""
    check_database(current_app._get_current_object())
    report = verify_chain()
    if not report.ok:
        fail(_broken(report))
    anchor = f"up to checkpoint seq {report.checkpoint.seq}" if report.checkpoint else \
        "(no checkpoint yet: run 'casework audit checkpoint')"
    click.echo(f"audit chain intact: {report.checked} events {anchor}")


@audit_group.command("checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Verify the chain, then write a signed checkpoint of its head to the checkpoint directory
    (and mail it to the audit administrator where configured)."""
    check_database(current_app._get_current_object())
    try:
        report, path = checkpoint_chain()
    except (OSError, smtplib.SMTPException) as error:
        fail(f"checkpoint not written or not mailed: {error}")
    if path is None:
        fail(f"no checkpoint written: {_broken(report)}")
    click.echo(f"checkpoint written: {path} (seq {report.checked})")


@audit_group.command("rotate-key")
@with_appcontext
def audit_rotate_key() -> None:
    """Add a new current key to the key file; older keys stay to verify older events."""
    if current_app.config.get("AUDIT_KEYS") or os.environ.get("CASEWORK_AUDIT_KEY"):
        fail("the audit keys come from the environment: append a new key_id:secret to CASEWORK_AUDIT_KEY")
    path = key_file_path(Path(current_app.instance_path))
    key_id = append_key(path)
    click.echo(f"new audit key {key_id} added to {path} (was {audit_settings().keys.current_id}); "
               f"restart the workers so that they sign with it")
