"""Error pages speak the user's language: no stock English from Werkzeug or the CSRF guard."""
from __future__ import annotations

import io

from tests.conftest import login

STOCK_ENGLISH = ("You don't have the permission", "The CSRF token", "invalid input", "The method is not allowed",
                 "The requested URL was not found")


def _body(response) -> str:
    html = response.get_data(as_text=True)
    assert not any(text in html for text in STOCK_ENGLISH), html
    return html


def test_403_gives_the_friendly_sentence_only(login_as):
    response = login_as("ca-44.case_officer").get("/referrals/new")
    assert response.status_code == 403
    assert "无权执行此操作" in _body(response)


def test_405_is_not_presented_as_a_fault_of_ours(login_as):
    response = login_as("edu-44.intake_officer").get("/referrals/1/fire/submit")
    html = _body(response)
    assert response.status_code == 405 and "系统出现错误" not in html


def test_a_missing_csrf_token_says_what_to_do(app, db_session):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = login(app.test_client(), "edu-44.assessor")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400 and "刷新" in _body(response)


def test_a_404_outside_scope_is_friendly(login_as):
    response = login_as("edu-44.intake_officer").get("/referrals/999999")
    assert response.status_code == 404 and "不存在" in _body(response)


def test_the_api_still_answers_json(login_as):
    response = login_as("edu-44.intake_officer").get("/api/referrals/999999")
    assert response.status_code == 404 and response.is_json


def test_a_too_large_upload_names_the_limit_and_the_way_back(app, login_as):
    client = login_as("edu-44.intake_officer")
    configured = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    try:
        response = client.post("/referrals/new", data={"title": "x", "evidence": (io.BytesIO(b"0" * 3 * 1024 * 1024),
                                                                                 "big.pdf")},
                               headers={"Referer": "http://localhost/referrals/new"})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = configured
    html = _body(response)
    assert response.status_code == 413 and "2.0 MB" in html and 'href="http://localhost/referrals/new"' in html
