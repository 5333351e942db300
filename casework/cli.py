"""The ``casework`` commands: database, accounts, demo data, audit, server, and the list of all groups."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from casework.accounts.services import create_user
from casework.audit.cli import audit_group
from casework.backup.cli import backup_command, restore_command
from casework.calendar.cli import calendar_group
from casework.cli_support import check_database, database_label, fail
from casework.demo import DemoRefused, build_demo
from casework.errors import DomainError, ValidationFailed
from casework.evidence.cli import evidence_group
from casework.migrate import upgrade
from casework.notices.cli import notices_group
from casework.notifications.cli import worker_command
from casework.referrals.cli import desk_group
from casework.targets.cli import check_targets_command
from casework.unit_of_work import unit_of_work
from casework.workflow.cli import sweep_command, workflow_group


def register_cli(app: Flask) -> None:
    """Every ``casework`` command (``casework.console.main`` runs them)."""
    for command in COMMANDS:
        app.cli.add_command(command)


@click.group("db", help="Database schema (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the configured database to REVISION (default: head)."""
    check_database(current_app._get_current_object(), require_schema=False)
    upgrade(current_app._get_current_object(), revision)
    click.echo(f"database {database_label(current_app)} is at {revision}")


@click.command("create-user")
@click.option("--username", prompt=True)
@click.option("--display-name", default=None)
@click.option("--agency", "agency_code", prompt="Agency code")
@click.option("--role", "roles", multiple=True, required=True,
              help="intake_officer, assessor, case_officer, approver, system_admin, security_admin, audit_admin")
@with_appcontext
def create_user_command(username, display_name, agency_code, roles) -> None:
    """Create an account; asks for the password twice."""
    check_database(current_app._get_current_object())
    password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    try:
        with unit_of_work():
            user = create_user({"username": username, "display_name": display_name or username,
                                "agency_code": agency_code, "roles": list(roles),
                                "password": password}, actor=None)
    except ValidationFailed as error:
        fail(error.message)
    click.echo(f"created user {user.username} ({', '.join(sorted(roles))}) in {agency_code}")


@click.command("demo")
@click.option("--reset", is_flag=True, help="Wipe the configured database first.")
@click.option("--password", default=None, help="Password for every demo account (default: random).")
@click.option("--referrals", "referral_count", default=36, show_default=True,
              type=click.IntRange(1, 500), help="How many demo referrals to carry through the workflow.")
@with_appcontext
def demo_command(reset: bool, password: str | None, referral_count: int) -> None:
    """Migrate and fill the configured database with demo agencies, users and referrals."""
    app = current_app._get_current_object()
    check_database(app, require_schema=False)
    try:
        credentials = build_demo(app, reset=reset, password=password, referral_count=referral_count)
    except (DemoRefused, DomainError) as error:
        fail(str(error))
    click.echo(f"demo data written to {database_label(app)}")
    click.echo(f"password for every demo account: {credentials.password}")
    for line in credentials.two_factor_lines():
        click.echo(line)
    for agency_name, usernames in credentials.users_by_agency.items():
        click.echo(f"  {agency_name}: {', '.join(usernames)}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Run the development server (plain HTTP on loopback; use gunicorn in production)."""
    app = current_app._get_current_object()
    check_database(app)
    app.config["SESSION_COOKIE_SECURE"] = False
    app.config["REMEMBER_COOKIE_SECURE"] = False
    click.echo(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


COMMANDS = [db_group, create_user_command, demo_command, audit_group, serve_command, sweep_command, workflow_group,
            notices_group, check_targets_command, evidence_group, desk_group, calendar_group,
            backup_command, restore_command, worker_command]
