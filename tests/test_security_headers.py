"""Security headers: HSTS and Permissions-Policy everywhere, nothing of a logged-in page, the API or a
download stored; text evidence names its charset once."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from casework.assignments.models import Assignment
from casework.evidence.services import attach_evidence
from casework.extensions import db
from tests.factories import make_referral


def test_logged_in_pages_and_the_api_are_not_stored(login_as):
    officer = login_as("psb-44.case_officer")
    for response in (officer.get("/"), officer.get("/api/referrals/999999"), officer.get("/account"),
                     officer.get("/search")):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "camera=()" in response.headers["Permissions-Policy"]


def test_static_files_may_be_cached_and_still_carry_the_headers(client):
    static = client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert "Permissions-Policy" in static.headers and "Strict-Transport-Security" in static.headers


def test_an_anonymous_api_answer_is_not_stored(client):
    assert client.get("/api/referrals/1").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("data,content_type", [
    ("代刷网课，包过。\n".encode("utf-8"), "text/plain; charset=utf-8"),
    ("代刷网课，包过。\n".encode("gbk"), "text/plain; charset=gbk"),
])
def test_text_evidence_names_its_charset_once(db_session, user, agency, login_as, data, content_type):
    referral = make_referral(user("edu-44.intake_officer"))
    db.session.add(Assignment(referral=referral, agency=agency("psb-44"), state="sent"))
    evidence = attach_evidence(referral, FileStorage(stream=io.BytesIO(data), filename="page.txt"), {},
                               user("edu-44.intake_officer"))
    db.session.commit()
    response = login_as("psb-44.case_officer").get(f"/evidence/{evidence.id}/download")
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "no-store"
