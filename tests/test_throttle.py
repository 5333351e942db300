"""Throttling that protects officers: locks per account and address, per-address and per-account
limits answered with 429 and Retry-After, counters shared through the database."""
from __future__ import annotations

from sqlalchemy import select

from casework.accounts.lockout import is_locked
from casework.accounts.models import RateCounter
from casework.extensions import db
from casework.accounts.counters import hit, peek
from tests.conftest import PASSWORD
from tests.security_helpers import from_address, post_login

STRANGER = "203.0.113.5"
OFFICE = "198.51.100.7"


def test_a_strangers_failed_logins_do_not_lock_the_officer_out_of_another_address(app, user):
    stranger = app.test_client()
    for _ in range(5):
        assert post_login(stranger, "psb-44.case_officer", "Wrong-passw0rd", STRANGER).status_code == 401
    officer = user("psb-44.case_officer")
    assert is_locked(officer, STRANGER) and not is_locked(officer, OFFICE)
    assert post_login(stranger, "psb-44.case_officer", PASSWORD, STRANGER).status_code == 401
    own = app.test_client()
    assert post_login(own, "psb-44.case_officer", PASSWORD, OFFICE).status_code == 302
    assert own.get("/", **from_address(OFFICE)).status_code == 200


def test_the_lock_message_never_says_whether_the_account_exists(app, db_session):
    client = app.test_client()
    for _ in range(5):
        post_login(client, "psb-44.case_officer", "Wrong-passw0rd", STRANGER)
    locked = post_login(client, "psb-44.case_officer", PASSWORD, STRANGER).get_data(as_text=True)
    unknown = post_login(client, "nobody-at-all", PASSWORD, STRANGER).get_data(as_text=True)
    assert locked[locked.index('role="alert"'):][:200] == unknown[unknown.index('role="alert"'):][:200]


def test_too_many_failed_logins_from_one_address_answer_429_with_retry_after(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMITS", {"login_per_address": (3, 300)})
    for _ in range(4):  # an office behind one address: successful logins do not count
        assert post_login(app.test_client(), "psb-44.case_officer", PASSWORD, STRANGER).status_code == 302
    client = app.test_client()
    for name in ("a", "b", "c"):
        assert post_login(client, f"spray-{name}", "Wrong-passw0rd", STRANGER).status_code == 401
    refused = post_login(client, "psb-44.case_officer", PASSWORD, STRANGER)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 300
    page = refused.get_data(as_text=True)
    assert "请求过多" in page and "Too many requests" in page
    assert post_login(app.test_client(), "psb-44.case_officer", PASSWORD, OFFICE).status_code == 302


def test_the_api_is_limited_per_address_and_per_account(app, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMITS", {"api_per_address": (100, 60), "api_per_account": (2, 60)})
    officer = login_as("psb-44.case_officer")
    for _ in range(2):
        assert officer.get("/api/referrals/999999").status_code == 404
    refused = officer.get("/api/referrals/999999")
    assert refused.status_code == 429 and refused.is_json and int(refused.headers["Retry-After"]) > 0
    assert "retry_after" in refused.get_json()
    assert login_as("psb-44.approver").get("/api/referrals/999999").status_code == 404
    monkeypatch.setitem(app.config, "RATE_LIMITS", {"api_per_address": (1, 60), "api_per_account": (100, 60)})
    assert app.test_client().get("/api/referrals/1", **from_address(STRANGER)).status_code == 401
    assert app.test_client().get("/api/referrals/1", **from_address(STRANGER)).status_code == 429


def test_counters_are_rows_shared_by_every_process_and_old_windows_go(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMITS", {"api_per_address": (2, 60)})
    assert hit("test:key", "api_per_address", now=1_000_020).allowed
    assert peek("test:key", "api_per_address", now=1_000_025).allowed
    assert hit("test:key", "api_per_address", now=1_000_030).allowed
    assert not peek("test:key", "api_per_address", now=1_000_035).allowed
    third = hit("test:key", "api_per_address", now=1_000_039)
    assert not third.allowed and third.retry_after == 41
    assert hit("test:key", "api_per_address", now=1_000_081).allowed
    rows = db.session.execute(select(RateCounter.window_start, RateCounter.hits)
                              .where(RateCounter.key == "test:key")).all()
    assert rows == [(1_000_080, 1)]
