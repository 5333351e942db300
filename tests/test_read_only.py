"""Pages marked read-only never write; on PostgreSQL they run without BEGIN/ROLLBACK, and pooled
connections are pinged only after being idle."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import select, update

from casework import create_app, db_engine
from casework.agencies.models import Agency
from casework.extensions import db
from casework.read_only import READ_ONLY, WriteInReadOnlyRequest, read_only
from tests import conftest

ON_POSTGRES = os.environ.get("CASEWORK_DATABASE_URL", "").startswith("postgresql")
needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL in CASEWORK_DATABASE_URL")

READ_ONLY_PAGES = ["evidence.index", "inbox.index", "referrals.search", "referrals.export_list", "referrals.known_target",
                   "referrals.show", "referrals.api_list", "referrals.api_show", "audit.index",
                   "targets.show", "targets.agency_metrics_page", "targets.api_known"]
# GET pages that record what was read or produced (evidence downloaded, a notice's PDF, the login).
WRITING_PAGES = ["evidence.download", "notices.download", "notices.dossier", "accounts.login"]


@pytest.mark.parametrize("endpoint", READ_ONLY_PAGES)
def test_pages_that_only_read_are_marked(app, endpoint):
    assert getattr(app.view_functions[endpoint], READ_ONLY, False)


@pytest.mark.parametrize("endpoint", WRITING_PAGES)
def test_pages_that_write_are_not_marked(app, endpoint):
    assert not getattr(app.view_functions[endpoint], READ_ONLY, False)


def test_a_write_during_a_read_only_page_is_refused(app, db_session, agency):
    with app.test_request_context("/search"):
        app.preprocess_request()
        db.session.add(Agency(code="x-1", name="x", kind="police", level="provincial", region_code="440000"))
        with pytest.raises(WriteInReadOnlyRequest):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(WriteInReadOnlyRequest):
            db.session.execute(update(Agency).where(Agency.code == "psb-44").values(name="x"))
    db.session.add(Agency(code="x-2", name="x", kind="police", level="provincial", region_code="440000"))
    db.session.flush()  # the next request (or command) writes as usual


def test_setting_a_value_it_already_has_is_not_a_write(app, db_session, agency):
    police = agency("psb-44")
    with app.test_request_context("/search"):
        app.preprocess_request()
        police.name = police.name
        db.session.flush()


@pytest.fixture
def own_app(tmp_dir):
    """An app with its own engine on the test database (not bound to the rolled-back test connection)
    and a probe page, read-only, that takes GET and POST."""
    app = create_app(conftest.test_config(tmp_dir, conftest.database_url(tmp_dir)))

    @app.route("/probe", methods=["GET", "POST"])
    @read_only
    def probe():
        return str(bool(db.session.info.get(READ_ONLY)))

    yield app
    with app.app_context():
        db.engine.dispose()


def test_only_gets_of_marked_pages_are_read_only(own_app):
    client = own_app.test_client()
    assert client.get("/probe").get_data(as_text=True) == "True"
    assert client.post("/probe").get_data(as_text=True) == "False"
    with own_app.test_request_context("/referrals/new"):
        own_app.preprocess_request()
        assert READ_ONLY not in db.session.info


@needs_postgres
def test_read_only_pages_run_without_a_transaction_on_postgresql(own_app):
    with own_app.test_request_context("/search"):
        own_app.preprocess_request()
        connection = db.session.connection().connection.dbapi_connection
        db.session.execute(select(1))
        assert connection.autocommit and connection.info.transaction_status.name == "IDLE"
    with own_app.test_request_context("/referrals/new"):
        own_app.preprocess_request()
        connection = db.session.connection().connection.dbapi_connection
        db.session.execute(select(1))
        assert not connection.autocommit and connection.info.transaction_status.name == "INTRANS"
        db.session.rollback()


@needs_postgres
def test_idle_connections_are_pinged_and_replaced_when_gone(own_app, monkeypatch):
    import psycopg

    with own_app.app_context():
        engine = db.engine
        pings: list = []
        monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection) or True)
        for _ in range(3):
            with engine.connect() as conn:
                first = conn.connection.dbapi_connection
        assert pings == []  # used a moment ago: no ping
        monkeypatch.setattr(db_engine, "PING_AFTER_IDLE_SECONDS", 0)
        with engine.connect():
            pass
        assert pings == [first]

        def gone(_connection):
            raise psycopg.OperationalError("server closed the connection")
        monkeypatch.setattr(engine.dialect, "do_ping", gone)
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection is not first
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
