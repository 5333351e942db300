"""Two-factor login (TOTP, RFC 6238): enrolment, login with a code, replays refused, recovery codes,
the step-up re-check, forced password changes and the password policy."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from casework.accounts.lockout import is_locked
from casework.accounts.models import PasswordHistory
from casework.accounts.policy import update_policy
from casework.accounts.services import create_user, enrol_second_factor, reset_password
from casework.accounts.step_up import SECOND_FACTOR_AT
from casework.audit.models import AuditEvent
from casework.errors import NotAllowed
from casework.extensions import db
from casework.unit_of_work import unit_of_work
from tests.conftest import PASSWORD
from tests.security_helpers import SECRET, code, enforced, make_admin, post_login  # noqa: F401 (fixture)


def _enrolled(user, secret: str = SECRET):
    user.totp_secret = secret
    db.session.commit()
    return user


def test_an_approver_without_authenticator_enrols_after_the_password(app, enforced, user):
    client = app.test_client()
    response = post_login(client, "edu-44.approver")
    assert response.status_code == 302 and "/login/enrol" in response.headers["Location"]
    assert client.get("/").status_code == 302  # not logged in yet
    page = client.get("/login/enrol").get_data(as_text=True)
    assert "data:image/svg+xml;base64," in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert client.post("/login/enrol", data={"code": "000000"}).status_code == 400
    shown = client.post("/login/enrol", data={"code": code(secret)})
    assert shown.status_code == 200
    codes = re.findall(r"<li>([a-z0-9]{4}(?:-[a-z0-9]{4}){3})</li>", shown.get_data(as_text=True))
    assert len(codes) == 10
    finished = client.get("/login/continue")
    assert finished.status_code == 302 and client.get("/").status_code == 200
    approver = user("edu-44.approver")
    db.session.refresh(approver)
    assert approver.totp_secret == secret
    events = db.session.scalars(select(AuditEvent.event).where(AuditEvent.actor_id == approver.id)).all()
    assert "auth.2fa_enrol" in events


def test_a_case_officer_needs_no_second_factor_unless_the_policy_says_everyone(app, enforced, user):
    assert post_login(app.test_client(), "psb-44.case_officer").headers["Location"] == "/"
    update_policy({"lockout_failures": "5", "lockout_minutes": "15", "password_min_length": "10",
                   "password_min_classes": "3", "password_history": "5", "two_factor_scope": "everyone"},
                  make_admin("security_admin"))
    db.session.commit()
    assert "/login/enrol" in post_login(app.test_client(), "psb-44.case_officer").headers["Location"]


def test_login_with_a_code_and_the_same_code_is_not_accepted_twice(app, enforced, user):
    _enrolled(user("cac-44.approver"))
    first = app.test_client()
    response = post_login(first, "cac-44.approver")
    assert "/login/code" in response.headers["Location"]
    assert first.get("/").status_code == 302
    current = code()
    assert first.post("/login/code", data={"code": current}).status_code == 302
    assert first.get("/").status_code == 200

    second = app.test_client()
    post_login(second, "cac-44.approver")
    replay = second.post("/login/code", data={"code": current})
    assert replay.status_code == 401 and second.get("/").status_code == 302
    assert second.post("/login/code", data={"code": code(steps_ahead=1)}).status_code == 302
    assert second.get("/").status_code == 200


def test_codes_outside_the_window_are_refused(app, enforced, user):
    _enrolled(user("cac-44.approver"))
    client = app.test_client()
    post_login(client, "cac-44.approver")
    assert client.post("/login/code", data={"code": code(steps_ahead=-3)}).status_code == 401
    assert client.post("/login/code", data={"code": code(steps_ahead=3)}).status_code == 401


def test_a_recovery_code_works_once(app, enforced, user):
    approver = user("psb-44.approver")
    codes = enrol_second_factor(approver, SECRET, code())
    db.session.commit()
    client = app.test_client()
    post_login(client, "psb-44.approver")
    assert client.post("/login/code", data={"code": codes[3].upper()}).status_code == 302
    assert client.get("/").status_code == 200
    again = app.test_client()
    post_login(again, "psb-44.approver")
    assert again.post("/login/code", data={"code": codes[3]}).status_code == 401
    assert again.post("/login/code", data={"code": codes[4]}).status_code == 302


def test_wrong_codes_count_as_failed_logins_from_that_address(app, enforced, user):
    approver = _enrolled(user("amr-44.approver"))
    client = app.test_client()
    for _ in range(5):
        post_login(client, "amr-44.approver")
        assert client.post("/login/code", data={"code": "123456"}).status_code == 401
    assert is_locked(approver, "127.0.0.1")


def test_a_login_step_cannot_be_skipped_or_reached_without_the_password(app, enforced, user):
    _enrolled(user("cac-44.approver"))
    client = app.test_client()
    assert client.get("/login/code").status_code == 302
    assert client.get("/login/continue").headers["Location"].endswith("/login")
    post_login(client, "cac-44.approver")
    assert "/login/code" in client.get("/login/continue").headers["Location"]


def test_approving_a_disposition_needs_a_recent_second_factor(app, enforced, user):
    _enrolled(user("cac-44.approver"))
    client = app.test_client()
    post_login(client, "cac-44.approver")
    client.post("/login/code", data={"code": code()})
    with client.session_transaction() as sess:
        sess[SECOND_FACTOR_AT] = time.time() - 6 * 60
    page = client.post("/assignments/999999/fire/approve_disposition", data={"version": "1"},
                       headers={"Referer": "http://localhost/referrals/5"})
    assert page.status_code == 302 and "/account/confirm?next=/referrals/5" in page.headers["Location"]
    api = client.post("/api/assignments/999999/fire/approve_disposition", json={})
    assert api.status_code == 403 and "confirm_url" in api.get_json()
    other_step = client.post("/assignments/999999/fire/accept", data={"version": "1"})
    assert other_step.status_code == 404
    confirmed = client.post("/account/confirm?next=/referrals/5", data={"code": code(steps_ahead=1)})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/referrals/5"
    assert client.post("/assignments/999999/fire/approve_disposition", data={"version": "1"}).status_code == 404


def test_first_login_forces_a_new_password_that_follows_the_policy(app, enforced, db_session):
    create_user({"username": "new-officer", "agency_code": "psb-44", "roles": ["case_officer"],
                 "password": PASSWORD}, actor=None)
    db.session.commit()
    client = app.test_client()
    response = post_login(client, "new-officer")
    assert "/login/password" in response.headers["Location"]
    assert client.get("/").status_code == 302
    weak = client.post("/login/password", data={"new_password": "short", "confirm": "short"})
    assert weak.status_code == 400
    same = client.post("/login/password", data={"new_password": PASSWORD, "confirm": PASSWORD})
    assert same.status_code == 400
    done = client.post("/login/password", data={"new_password": "Fresh-Passw0rd-1", "confirm": "Fresh-Passw0rd-1"})
    assert done.status_code == 302 and client.get("/").status_code == 200


def test_the_last_five_passwords_cannot_be_reused(app, login_as, user):
    client = login_as("psb-44.case_officer")
    passwords = [f"Rotation-Passw0rd-{n}" for n in range(5)]
    current = PASSWORD
    for new in passwords:
        response = client.post("/account/password", data={"current_password": current, "new_password": new,
                                                          "confirm": new})
        assert response.status_code == 302, response.get_data(as_text=True)
        current = new
    refused = client.post("/account/password", data={"current_password": current, "new_password": passwords[0],
                                                     "confirm": passwords[0]})
    assert refused.status_code == 400
    officer = user("psb-44.case_officer")
    assert len(db.session.scalars(select(PasswordHistory).where(PasswordHistory.user_id == officer.id)).all()) == 5
    assert client.post("/account/password", data={"current_password": current, "new_password": PASSWORD,
                                                  "confirm": PASSWORD}).status_code == 302


def test_a_reset_password_is_shown_once_ends_sessions_and_must_be_changed(app, login_as, user):
    officer_client = login_as("psb-44.case_officer")
    temporary = reset_password(user("psb-44.case_officer"), {"reason": "forgot"}, make_admin("system_admin"))
    db.session.commit()
    assert officer_client.get("/").status_code == 302
    client = app.test_client()
    assert "/login/password" in post_login(client, "psb-44.case_officer", temporary).headers["Location"]
    assert client.post("/login/password", data={"new_password": "After-Reset-Passw0rd",
                                                "confirm": "After-Reset-Passw0rd"}).status_code == 302
    assert client.get("/").status_code == 200


def test_only_administrators_reset_passwords(db_session, user):
    with pytest.raises(NotAllowed):
        with unit_of_work():
            reset_password(user("psb-44.case_officer"), {}, user("psb-44.approver"))
