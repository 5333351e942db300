"""``casework backup DIR`` and ``casework restore DIR [--verify]``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from casework.backup.archive import BackupRefused, create_backup, restore_backup, verify_restore
from casework.cli_support import check_database, fail


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(folder: Path) -> None:
    """Back up the database, the evidence files and a manifest of their SHA-256 into FOLDER (new or empty)."""
    check_database(current_app._get_current_object())
    try:
        manifest = create_backup(folder)
    except BackupRefused as refused:
        fail(str(refused))
    click.echo(f"backup written to {folder}: {len(manifest['tables'])} tables, "
               f"{sum(manifest['tables'].values())} rows, {len(manifest['files'])} evidence files, "
               f"audit chain at seq {manifest['audit_head']['seq'] if manifest['audit_head'] else 0}")


@click.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--verify", is_flag=True, help="Afterwards compare row counts, file hashes and the audit chain.")
@with_appcontext
def restore_command(folder: Path, verify: bool) -> None:
    """Restore the backup in FOLDER into the configured database and evidence folder, both empty."""
    check_database(current_app._get_current_object(), require_schema=False)
    try:
        manifest = restore_backup(folder)
        click.echo(f"restored {folder} ({sum(manifest['tables'].values())} rows, {len(manifest['files'])} files)")
        if verify:
            report = verify_restore(manifest)
            click.echo(f"verified: {report.tables} tables and {report.rows} rows as backed up, "
                       f"{report.files} evidence files with their SHA-256, audit chain intact "
                       f"({report.audit_events} events)")
    except BackupRefused as refused:
        fail(str(refused))
