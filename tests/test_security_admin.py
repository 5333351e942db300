"""The security administrator's pages: only that role may use them; policy, unlocks, second-factor
resets and sessions, each audited. Users list and end their own sessions from their account page."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.accounts.lockout import is_locked
from casework.accounts.models import SecurityPolicy, UserSession
from casework.accounts.services import enrol_second_factor
from casework.audit.models import AuditEvent
from casework.extensions import db
from tests.conftest import login
from tests.security_helpers import SECRET, code, make_admin, post_login

POLICY = {"lockout_failures": "4", "lockout_minutes": "30", "password_min_length": "12",
          "password_min_classes": "4", "password_history": "6", "two_factor_scope": "everyone"}


@pytest.fixture
def security_admin(app, db_session):
    make_admin("security_admin", "test-secadmin")
    db.session.commit()
    client = app.test_client()
    assert login(client, "test-secadmin").status_code == 302
    return client


def _events(name: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)).all()


@pytest.mark.parametrize("role", ["system_admin", "audit_admin"])
def test_the_other_administrators_are_refused(app, db_session, role):
    make_admin(role)
    db.session.commit()
    client = app.test_client()
    login(client, f"test-{role}")
    assert client.get("/security/").status_code == 403
    assert client.get("/security/users").status_code == 403
    assert client.post("/security/policy", data=POLICY).status_code == 403


@pytest.mark.parametrize("username", ["edu-44.approver", "psb-44.case_officer", "edu-44.intake_officer"])
def test_case_workers_are_refused(login_as, username):
    client = login_as(username)
    assert client.get("/security/").status_code == 403
    assert client.post("/security/users/1/unlock").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/security/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_security_administrator_lands_on_the_security_pages(app, security_admin):
    client = app.test_client()
    assert login(client, "test-secadmin").headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/security/"
    assert security_admin.get("/security/").status_code == 200
    page = security_admin.get("/security/users?q=psb-44").get_data(as_text=True)
    assert "psb-44.case_officer" in page and "edu-44.approver" not in page


def test_policy_is_saved_validated_and_audited(security_admin):
    assert security_admin.post("/security/policy", data=POLICY).status_code == 302
    policy = db.session.get(SecurityPolicy, 1)
    assert (policy.lockout_failures, policy.password_min_length, policy.two_factor_scope) == (4, 12, "everyone")
    event = _events("security.policy")[-1]
    assert event.payload["after"]["password_min_classes"] == 4
    bad = security_admin.post("/security/policy", data={**POLICY, "password_min_length": "3"})
    assert bad.status_code == 400 and "8" in bad.get_data(as_text=True)
    assert db.session.get(SecurityPolicy, 1).password_min_length == 12


def test_unlocking_lifts_every_lock_of_the_user(app, security_admin, user):
    stranger = app.test_client()
    for _ in range(5):
        post_login(stranger, "psb-44.case_officer", "Wrong-passw0rd", "203.0.113.9")
    officer = user("psb-44.case_officer")
    assert is_locked(officer, "203.0.113.9")
    locks_page = security_admin.get("/security/").get_data(as_text=True)
    assert "203.0.113.9" in locks_page and "psb-44.case_officer" in locks_page
    assert security_admin.post(f"/security/users/{officer.id}/unlock", data={"reason": "called"}).status_code == 302
    assert not is_locked(officer, "203.0.113.9")
    assert _events("security.unlock")[-1].object_id == officer.id


def test_a_lost_phone_is_reset_and_the_users_sessions_end(app, security_admin, user):
    approver = user("cac-44.approver")
    enrol_second_factor(approver, SECRET, code())
    db.session.commit()
    approver_client = app.test_client()
    post_login(approver_client, "cac-44.approver")
    approver_client.post("/login/code", data={"code": code(steps_ahead=1)})
    assert approver_client.get("/").status_code == 200
    response = security_admin.post(f"/security/users/{approver.id}/reset-two-factor", data={"reason": "lost phone"})
    assert response.status_code == 302
    db.session.refresh(approver)
    assert approver.totp_secret is None
    assert approver_client.get("/").status_code == 302
    assert _events("security.2fa_reset")[-1].payload["reason"] == "lost phone"


def test_sessions_are_listed_and_ended_by_the_security_administrator(app, security_admin, user):
    first, second = app.test_client(), app.test_client()
    login(first, "psb-44.case_officer")
    login(second, "psb-44.case_officer")
    officer = user("psb-44.case_officer")
    page = security_admin.get(f"/security/users/{officer.id}").get_data(as_text=True)
    sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == officer.id,
                                                            UserSession.ended_at.is_(None))).all()
    assert len(sessions) == 2 and page.count("/sessions/") >= 3
    end_one = security_admin.post(f"/security/users/{officer.id}/sessions/{sessions[0].id}/end")
    assert end_one.status_code == 302
    assert [first.get("/").status_code, second.get("/").status_code].count(200) == 1
    security_admin.post(f"/security/users/{officer.id}/sessions/end")
    assert first.get("/").status_code == second.get("/").status_code == 302
    assert security_admin.post(f"/security/users/{officer.id}/sessions/999999/end").status_code == 404


def test_users_see_and_end_their_own_sessions(app, login_as, user):
    laptop = login_as("psb-44.case_officer")
    phone = login_as("psb-44.case_officer")
    page = laptop.get("/account").get_data(as_text=True)
    assert page.count("<tr>") >= 3 and "本会话" in page
    officer = user("psb-44.case_officer")
    others = login_as("psb-44.approver")
    other_session = db.session.scalar(select(UserSession.id).where(UserSession.user_id == user("psb-44.approver").id))
    assert laptop.post(f"/account/sessions/{other_session}/end").status_code == 404
    assert others.get("/").status_code == 200
    assert laptop.post("/account/sessions/end-others").status_code == 302
    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 200
    assert _events("auth.sessions_end")[-1].object_id == officer.id


def test_logout_ends_only_that_session(app, login_as):
    laptop = login_as("psb-44.case_officer")
    phone = login_as("psb-44.case_officer")
    laptop.post("/logout")
    assert laptop.get("/").status_code == 302 and phone.get("/").status_code == 200


@pytest.mark.parametrize("text", ["a\x00b", "x" * 5000])
def test_bad_text_in_the_forms_gets_no_500(app, security_admin, user, text):
    officer = user("psb-44.case_officer")
    refused = 400 if "\x00" in text else None  # the input layer refuses a NUL anywhere (web/input_guard.py)
    # a NUL, or a query value over 4,096 characters: refused by the input layer before the page
    assert security_admin.get("/security/users", query_string={"q": text, "page": text}).status_code == 400
    assert security_admin.get("/security/users?q=%ED%A0%80%00&page=%FF").status_code == 400
    assert post_login(app.test_client(), text, text).status_code in (400, 401)
    assert post_login(app.test_client(), "psb-44.case_officer\x00", "x\x00").status_code == 400
    assert security_admin.post(f"/security/users/{officer.id}/unlock",
                               data={"reason": text}).status_code == (refused or 302)
    assert security_admin.post("/security/policy", data={**POLICY, "lockout_minutes": text}).status_code == 400
