"""Shared fixtures: one migrated database per run, a rolled-back transaction per test.

The database is ``CASEWORK_DATABASE_URL`` when set (CI sets it to PostgreSQL) and a
temporary SQLite file otherwise. It is wiped and migrated with Alembic at the start of
the run, then seeded once with the demo agencies and one user per role per agency.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import select

from casework import create_app
from casework.accounts.models import User, UserRole
from casework.accounts.passwords import hash_password
from casework.agencies.models import Agency
from casework.extensions import db

PASSWORD = "Test-passw0rd!"
TEST_AUDIT_KEY = "test-1:" + "7e57" * 16
TEST_ROLES = {
    "education": ["intake_officer", "assessor", "approver"],
    "other": ["case_officer", "approver"],
}


def database_url(tmp_dir: Path) -> str:
    return os.environ.get("CASEWORK_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite'}"


def test_config(tmp_dir: Path, url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "EVIDENCE_DIR": str(tmp_dir / "evidence"),
        "SERVER_NAME": None,
        # The workflow tests log users in with a password only; tests/test_two_factor*.py turn it on.
        "TWO_FACTOR_ENFORCED": False,
        "AUDIT_KEYS": TEST_AUDIT_KEY,
        "AUDIT_CHECKPOINT_DIR": str(tmp_dir / "audit-checkpoints"),
        "AUDIT_CHECKPOINT_SECONDS": 0,
    }


@pytest.fixture(scope="session")
def tmp_dir():
    with tempfile.TemporaryDirectory(prefix="casework-test-") as path:
        yield Path(path)


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts without per-request caches.

    ``db_session`` keeps one application context pushed for the whole test and Flask reuses
    it for the test client's requests, so ``g`` would carry Flask-Login's current user and
    Flask-Babel's locale and Flask-WTF's signed CSRF token from one request (and one logged-in
    client) to the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in ("_login_user", "_flask_babel", "csrf_token"):
                g.pop(key, None)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_dir):
    from casework.demo import wipe_database
    from casework.migrate import upgrade

    app = create_app(test_config(tmp_dir, database_url(tmp_dir)))
    app.test_client_class = FreshRequestClient
    with app.app_context():
        wipe_database()
    upgrade(app)
    with app.app_context():
        seed_agencies_and_users()
        db.session.commit()
        db.session.remove()
    return app


def seed_agencies_and_users() -> None:
    from casework.demo import create_agencies

    agencies = create_agencies()
    password_hash = hash_password(PASSWORD)
    for agency in agencies.values():
        roles = TEST_ROLES["education" if agency.kind == "education" else "other"]
        for role in roles:
            db.session.add(User(username=f"{agency.code}.{role}", display_name=f"{agency.code} {role}",
                                agency=agency, password_hash=password_hash,
                                role_rows=[UserRole(role=role)]))
        db.session.add(User(username=f"{agency.code}.case_officer2" if agency.kind != "education"
                            else f"{agency.code}.assessor2",
                            display_name="second", agency=agency, password_hash=password_hash,
                                                        role_rows=[UserRole(role="case_officer" if agency.kind != "education"
                                                else "assessor")]))
        db.session.add(User(username=f"{agency.code}.approver2", display_name="second approver",
                            agency=agency, password_hash=password_hash,
                            role_rows=[UserRole(role="approver")]))
    db.session.flush()


@contextmanager
def rolled_back_session(app):
    """Bind the session to one connection whose outer transaction is rolled back at the end;
    the application's commits become savepoints inside it."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        engines = db._app_engines[app]
        engine = engines[None]
        engines[None] = connection
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield db.session
        finally:
            db.session.remove()
            engines[None] = engine
            outer.rollback()
            connection.close()


@pytest.fixture
def db_session(app):
    """A session whose every commit lands in a savepoint of a transaction rolled back afterwards."""
    with rolled_back_session(app) as session:
        yield session


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def user(db_session):
    """Look up a seeded user: ``user('psb-44.case_officer')``."""

    def find(username: str) -> User:
        found = db.session.scalar(select(User).where(User.username == username))
        assert found is not None, f"no seeded user {username}"
        return found

    return find


@pytest.fixture
def agency(db_session):
    def find(code: str) -> Agency:
        return db.session.scalar(select(Agency).where(Agency.code == code))

    return find


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def login_as(app, db_session):
    """A logged-in test client for ``username``: ``login_as('edu-44.intake_officer')``."""

    def make(username: str):
        c = app.test_client()
        response = login(c, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return c

    return make
