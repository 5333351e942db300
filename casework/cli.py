"""The ``casework`` command: database, accounts, demo data, audit, server."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from casework.audit.keys import AuditKeyError
from casework.errors import DomainError, ValidationFailed
from casework.extensions import db
from casework.unit_of_work import unit_of_work


def fail(message: str) -> None:
    """Print one line saying why, and exit non-zero."""
    click.echo(f"casework: {message}", err=True)
    sys.exit(1)


def database_label(app: Flask) -> str:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)


def check_database(app: Flask, *, require_schema: bool = True) -> None:
    """Exit with one clear line when the database is unreachable or not migrated."""
    from casework.migrate import current_revision, head_revision

    try:
        with app.app_context():
            db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error: say which database, then stop
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"cannot reach the database {database_label(app)}: {reason}")
    if require_schema and current_revision(app) != head_revision(app):
        fail(f"the database {database_label(app)} is not migrated: run 'casework db upgrade'")


def _create_app(*_args, **_kwargs):
    from casework import create_app

    try:
        return create_app()
    except AuditKeyError as error:
        fail(str(error))


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Casework: the shared desk for the joint disposal of course-brushing services."""


def register_cli(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(__import__("casework.audit.cli", fromlist=["x"]).audit_group)
    app.cli.add_command(serve_command)
    app.cli.add_command(__import__("casework.workflow.cli", fromlist=["x"]).sweep_command)
    app.cli.add_command(__import__("casework.workflow.cli", fromlist=["x"]).workflow_group)
    app.cli.add_command(__import__("casework.notices.cli", fromlist=["x"]).notices_group)
    app.cli.add_command(__import__("casework.targets.cli", fromlist=["x"]).check_targets_command)
    app.cli.add_command(__import__("casework.evidence.cli", fromlist=["x"]).evidence_group)
    app.cli.add_command(__import__("casework.referrals.cli", fromlist=["x"]).desk_group)


@click.group("db", help="Database schema (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the configured database to REVISION (default: head)."""
    from casework.migrate import upgrade

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
    from casework.accounts.services import create_user

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
    from casework.demo import DemoRefused, build_demo

    app = current_app._get_current_object()
    check_database(app, require_schema=False)
    try:
        credentials = build_demo(app, reset=reset, password=password, referral_count=referral_count)
    except (DemoRefused, DomainError) as error:
        fail(str(error))
    click.echo(f"demo data written to {database_label(app)}")
    click.echo(f"password for every demo account: {credentials.password}")
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
    from werkzeug.serving import run_simple

    click.echo(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
