"""What every ``casework`` command shares: one-line failures and the database check."""
from __future__ import annotations

import sys

import click
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from casework.extensions import db
from casework.migrate import current_revision, head_revision


def fail(message: str) -> None:
    """Print one line saying why, and exit non-zero."""
    click.echo(f"casework: {message}", err=True)
    sys.exit(1)


def database_label(app: Flask) -> str:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)


def check_database(app: Flask, *, require_schema: bool = True) -> None:
    """Exit with one clear line when the database is unreachable or not migrated."""
    try:
        with app.app_context():
            db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error: say which database, then stop
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"cannot reach the database {database_label(app)}: {reason}")
    if require_schema and current_revision(app) != head_revision(app):
        fail(f"the database {database_label(app)} is not migrated: run 'casework db upgrade'")
