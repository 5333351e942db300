"""Alembic, driven from the application: the schema exists only through its revisions.

Alembic (0.2–0.3 s to import) loads inside these functions, when a command migrates or checks the
schema, so that starting the app and ``casework --help`` do not pay for it.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from casework.extensions import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(app: Flask):
    from alembic.config import Config  # alembic loads only when the schema is migrated or checked

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", app.config["SQLALCHEMY_DATABASE_URI"].replace("%", "%%"))
    return cfg


def upgrade(app: Flask, revision: str = "head") -> None:
    """Bring the configured database to ``revision`` (by default the newest)."""
    from alembic import command  # alembic loads only when the schema is migrated

    with app.app_context(), db.engine.begin() as connection:
        cfg = alembic_config(app)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(app: Flask) -> str | None:
    from alembic.runtime.migration import MigrationContext  # alembic loads only when the schema is checked

    with app.app_context():
        return MigrationContext.configure(db.session.connection()).get_current_revision()


def head_revision(app: Flask) -> str | None:
    from alembic.script import ScriptDirectory  # alembic loads only when the schema is checked

    return ScriptDirectory.from_config(alembic_config(app)).get_current_head()
