"""``casework worker``: periodic jobs and mail delivery in one process (``--once``: one round)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from casework.cli_support import check_database
from casework.notifications.worker import run_forever, run_round


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit.")
@click.option("--poll", "poll_seconds", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds between rounds.")
@with_appcontext
def worker_command(once: bool, poll_seconds: float) -> None:
    """Run the periodic jobs (sweep every minute, target checks, digests) and send notification e-mail."""
    check_database(current_app._get_current_object())
    if once:
        click.echo(str(run_round()))
        return
    click.echo(f"worker started (mail: {'on' if current_app.config.get('MAIL_URL') else 'off'}); Ctrl+C to stop")
    run_forever(poll_seconds, click.echo)
