"""The walking skeleton: app factory, migrations, login, lockout."""
from __future__ import annotations

from sqlalchemy import select

from casework.accounts.lockout import is_locked
from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.extensions import db
from tests.conftest import PASSWORD, login


def test_login_page_is_chinese_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录" in response.get_data(as_text=True)


def test_login_and_logout(client):
    response = login(client, "edu-44.intake_officer")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(client):
    wrong = login(client, "edu-44.intake_officer", "Wrong-passw0rd")
    unknown = login(client, "nobody-here", "Wrong-passw0rd")
    assert wrong.status_code == unknown.status_code == 401
    assert _error_text(wrong) == _error_text(unknown)


def _error_text(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index('role="alert"')
    return html[start:html.index("</div>", start)]


def test_five_failures_lock_the_account_even_for_the_right_password(client, user):
    for _ in range(5):
        assert login(client, "psb-44.case_officer", "Wrong-passw0rd").status_code == 401
    locked = user("psb-44.case_officer")
    assert is_locked(locked, "127.0.0.1")
    assert login(client, "psb-44.case_officer", PASSWORD).status_code == 401
    events = db.session.scalars(select(AuditEvent.event).where(AuditEvent.actor_id == locked.id)).all()
    assert "auth.lock" in events


def test_session_id_changes_at_login_and_old_cookie_dies_at_logout(app, client, user):
    login(client, "edu-44.assessor")
    cookie = client.get_cookie("session").value
    client.post("/logout")
    other = app.test_client()
    other.set_cookie("session", cookie)
    assert other.get("/").status_code == 302


def test_idle_session_times_out(app, client):
    login(client, "edu-44.assessor")
    with client.session_transaction() as sess:
        sess["last_seen"] = sess["last_seen"] - 31 * 60
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_forms_are_protected_by_csrf(app, db_session):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = login(app.test_client(), "edu-44.assessor")
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_cookie_flags(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_seeded_users_have_argon2id_hashes(user):
    assert user("moe.assessor").password_hash.startswith("$argon2id$")


def test_unknown_ids_answer_404(login_as):
    client = login_as("edu-44.intake_officer")
    assert client.get("/referrals/999999").status_code == 404
    assert client.get("/api/referrals/999999").status_code == 404
    assert client.get("/api/referrals/999999").is_json


def test_login_page_is_chinese_even_for_an_english_browser(client):
    response = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "登录" in response.get_data(as_text=True)


def test_language_chosen_before_login_sticks(client):
    client.post("/language/en", data={"next": "/login"})
    assert "Log in" in client.get("/login").get_data(as_text=True)
