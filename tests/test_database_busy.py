"""SQLite waits for its write lock instead of failing; what still cannot be served is a 503 with
Retry-After, never a 500 (SQLite and PostgreSQL alike).

The concurrency drill runs a real threaded server (werkzeug) on a SQLite file database of its own:
officers download notices and export dossiers in ten threads while others log in.
"""
from __future__ import annotations

import http.cookiejar
import os
import sqlite3
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from casework import create_app, db_engine
from casework.extensions import db
from casework.notices.services import issue_notice
from casework.unit_of_work import DatabaseUnavailable, unit_of_work
from tests import conftest
from tests.factories import assignment_row, find_user, referral_row

DOWNLOADERS, EXPORTERS, LOGINS = 5, 5, 4
ROUNDS = 4
# One account per thread: every login ends the account's other sessions.
READERS = [f"{agency}.{role}" for agency in ("edu-44", "moe")
           for role in ("intake_officer", "assessor", "approver", "assessor2", "approver2")]
LOGGERS_IN = ["psb-44.case_officer", "cac-44.approver", "psb-11.case_officer", "cac-11.approver"]


def _sqlite_app(tmp_path, **config):
    from casework.migrate import upgrade

    app = create_app({**conftest.test_config(tmp_path, f"sqlite:///{tmp_path / 'busy.sqlite'}"), **config})
    upgrade(app)
    return app


@pytest.fixture
def served_sqlite(tmp_path):
    """A migrated SQLite file database with three referrals carrying notices, served on 127.0.0.1."""
    app = _sqlite_app(tmp_path)
    with app.app_context():
        conftest.seed_agencies_and_users()
        notices, referrals = [], []
        for _ in range(3):
            referral = referral_row("edu-44")
            letter = issue_notice("referral_letter", assignment_row(referral, "cac-44"),
                                  find_user("edu-44.assessor"))
            letter.assignment.state = "received"
            notices += [letter.id, issue_notice("receipt", letter.assignment, find_user("cac-44.case_officer")).id]
            referrals.append(referral.id)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", notices, referrals
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


class Browser:
    """One officer's cookie jar; answers are (status, body) and never raise on 4xx/5xx."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())

    def request(self, path: str, form: dict | None = None) -> int:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=120) as answer:
                answer.read()
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    def login(self, username: str) -> int:
        return self.request("/login", {"username": username, "password": conftest.PASSWORD})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_downloads_exports_and_logins_at_once_answer_without_server_errors(served_sqlite):
    base, notices, referrals = served_sqlite
    statuses: dict[str, Counter] = {"login": Counter(), "download": Counter(), "export": Counter()}
    lock = threading.Lock()
    start = threading.Barrier(DOWNLOADERS + EXPORTERS + LOGINS)

    def note(kind: str, status: int) -> None:
        with lock:
            statuses[kind][status] += 1

    def downloader(index: int) -> None:
        browser = Browser(base)
        note("login", browser.login(READERS[index]))
        start.wait()
        for _ in range(ROUNDS):
            for notice_id in notices:
                note("download", browser.request(f"/notices/{notice_id}.pdf"))

    def exporter(index: int) -> None:
        browser = Browser(base)
        note("login", browser.login(READERS[DOWNLOADERS + index]))
        start.wait()
        for round_ in range(ROUNDS):
            referral_id = referrals[(index + round_) % len(referrals)]
            note("export", browser.request(f"/referrals/{referral_id}/dossier.{('pdf', 'zip')[round_ % 2]}"))

    def logger_in(index: int) -> None:
        start.wait()
        for _ in range(ROUNDS):
            note("login", Browser(base).login(LOGGERS_IN[index]))

    threads = ([threading.Thread(target=downloader, args=(i,)) for i in range(DOWNLOADERS)]
               + [threading.Thread(target=exporter, args=(i,)) for i in range(EXPORTERS)]
               + [threading.Thread(target=logger_in, args=(i,)) for i in range(LOGINS)])
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert statuses["download"] == Counter({200: DOWNLOADERS * ROUNDS * len(notices)}), statuses
    assert statuses["export"] == Counter({200: EXPORTERS * ROUNDS}), statuses
    assert statuses["login"] == Counter({302: DOWNLOADERS + EXPORTERS + LOGINS * ROUNDS}), statuses


def test_sqlite_runs_in_wal_mode_and_writers_take_the_lock_up_front(tmp_path):
    app = _sqlite_app(tmp_path)
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        with db.engine.connect() as connection:
            connection.begin()
            assert connection.connection.dbapi_connection.in_transaction  # BEGIN IMMEDIATE: before any statement
            other = sqlite3.connect(tmp_path / "busy.sqlite", timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
            connection.rollback()
        db.engine.dispose()


def test_a_write_lock_held_too_long_is_a_503_with_retry_after(tmp_path, monkeypatch):
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    app = _sqlite_app(tmp_path)
    with app.app_context():
        conftest.seed_agencies_and_users()
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    conftest.login(client, "edu-44.intake_officer")
    holder = sqlite3.connect(tmp_path / "busy.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        refused = conftest.login(app.test_client(), "psb-44.case_officer")
        assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit()
        assert "数据库繁忙" in refused.get_data(as_text=True)
        api = app.test_client().post("/login", data={"username": "x", "password": "y"},
                                     headers={"Accept": "application/json"})
        assert api.status_code == 503 and api.get_json()["retry_after"] > 0
        assert client.get("/").status_code == 200  # a read-only page reads beside the writer (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert conftest.login(app.test_client(), "psb-44.case_officer").status_code == 302
    with app.app_context():
        db.engine.dispose()


def test_an_unreachable_database_is_a_503(tmp_path):
    app = create_app(conftest.test_config(tmp_path, "postgresql+psycopg://nobody:secret@127.0.0.1:9/none"))
    answer = conftest.login(app.test_client(), "edu-44.intake_officer")
    assert answer.status_code == 503 and "Retry-After" in answer.headers
    assert "secret" not in answer.get_data(as_text=True)


needs_postgres = pytest.mark.skipif(not os.environ.get("CASEWORK_DATABASE_URL", "").startswith("postgresql"),
                                    reason="needs PostgreSQL in CASEWORK_DATABASE_URL")


@needs_postgres
def test_a_database_restart_under_logged_in_officers_is_a_503_then_work_goes_on(app, tmp_path):
    """What ``pg_ctl restart`` does to a node's pooled connections (used within the last seconds, so not
    pinged): the next request of each finds its connection gone. The 503 page must not load the user."""
    config = conftest.test_config(tmp_path, os.environ["CASEWORK_DATABASE_URL"])
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"application_name": "casework-restart-test"}}
    node = create_app(config)
    officers = [node.test_client() for _ in range(3)]
    for client, username in zip(officers, ("edu-44.intake_officer", "edu-44.assessor", "psb-44.case_officer")):
        assert conftest.login(client, username).status_code == 302
        assert client.get("/").status_code == 200
    with app.app_context(), db.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE application_name = 'casework-restart-test'"))
    answers = [client.get(path).status_code for client, path in zip(officers, ("/", "/search?q=x", "/"))]
    assert set(answers) <= {200, 503} and 503 in answers
    assert [client.get("/").status_code for client in officers] == [200, 200, 200]
    with node.app_context():
        db.engine.dispose()


@needs_postgres
def test_a_connection_lost_mid_transaction_is_a_503_and_the_next_request_reconnects(tmp_path):
    app = create_app(conftest.test_config(tmp_path, os.environ["CASEWORK_DATABASE_URL"]))
    with app.app_context():
        with pytest.raises(DatabaseUnavailable):
            with unit_of_work():
                pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
                with db.engine.connect() as other:  # what a restart does to every connection
                    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                db.session.execute(text("SELECT 1"))
        with unit_of_work():
            assert db.session.execute(text("SELECT 1")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
