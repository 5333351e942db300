"""``casework evidence verify``: recheck the SHA-256 of every stored evidence file."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from casework.cli_support import check_database, fail
from casework.evidence.services import verify_all_evidence


@click.group("evidence", help="Evidence files and their integrity.")
def evidence_group() -> None:
    pass


@evidence_group.command("verify")
@with_appcontext
def evidence_verify() -> None:
    """Recompute every stored file's SHA-256; exit non-zero naming each missing or modified file."""
    check_database(current_app._get_current_object())
    report = verify_all_evidence()
    for evidence_id, problem in report.problems:
        click.echo(f"evidence {evidence_id}: {problem}", err=True)
    if not report.ok:
        fail(f"{len(report.problems)} of {report.checked} evidence files failed verification")
    click.echo(f"evidence intact: {report.checked} files")
