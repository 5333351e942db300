"""The top bar is rendered once per user, page, language and minute, and always shows the truth."""
from __future__ import annotations

import re

import pytest
from flask import template_rendered

from casework.accounts.models import UserRole
from casework.extensions import db
from casework.web import frame


@pytest.fixture
def topbar_renders(app):
    cache = app.extensions[frame.EXTENSION]
    cache.clear()
    assert cache.size, "the top bar cache is on in the test configuration"
    rendered: list[str] = []

    def record(_sender, template, context, **_extra):
        if template.name == "_topbar.html":
            rendered.append(context["request"].full_path)

    template_rendered.connect(record, app)
    yield rendered
    template_rendered.disconnect(record, app)
    cache.clear()


def logout_token(page: str) -> str:
    form = re.search(r'action="/logout"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page)
    assert form, "the top bar has a logout form"
    return form.group(1)


def test_a_user_reloading_a_page_gets_the_kept_bar(topbar_renders, login_as):
    client = login_as("psb-44.case_officer")
    for _ in range(4):
        assert "psb-44 case_officer" in client.get("/").get_data(as_text=True)
    client.get("/search")
    # The session's first page creates its CSRF token while rendering; from then on the bar is kept.
    assert topbar_renders == ["/?", "/?", "/search?"]


def test_each_user_sees_their_own_name_and_menu(topbar_renders, login_as):
    intake = login_as("edu-44.intake_officer").get("/").get_data(as_text=True)
    police = login_as("psb-44.case_officer").get("/").get_data(as_text=True)
    assert "edu-44 intake_officer" in intake and "/referrals/new" in intake
    assert "psb-44 case_officer" in police and "/referrals/new" not in police
    assert len(topbar_renders) == 2


def test_a_new_role_shows_on_the_next_page(topbar_renders, login_as, user):
    client = login_as("psb-44.case_officer")
    assert "/audit" not in client.get("/").get_data(as_text=True)
    user("psb-44.case_officer").role_rows.append(UserRole(role="audit_admin"))
    db.session.commit()
    assert "/audit" in client.get("/").get_data(as_text=True)


def test_the_language_is_part_of_the_bar(topbar_renders, login_as):
    client = login_as("psb-44.case_officer")
    assert "退出" in client.get("/").get_data(as_text=True)
    client.post("/language/en", data={"next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "Log out" in page and "退出" not in page


def test_the_kept_bar_carries_a_csrf_token_this_session_accepts(app, topbar_renders, login_as):
    client, other = login_as("psb-44.case_officer"), login_as("psb-44.approver")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client.get("/")
        kept = client.get("/").get_data(as_text=True)
        assert len(topbar_renders) == 2
        assert other.post("/logout", data={"csrf_token": logout_token(kept)}).status_code == 400
        assert client.post("/logout", data={"csrf_token": logout_token(kept)}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_bar_is_renewed_every_minute(topbar_renders, login_as, monkeypatch):
    minute = [frame.current_minute()]
    monkeypatch.setattr(frame, "current_minute", lambda: minute[0])
    client = login_as("psb-44.case_officer")
    client.get("/")
    client.get("/")
    client.get("/")
    minute[0] += 1
    client.get("/")
    assert len(topbar_renders) == 3
