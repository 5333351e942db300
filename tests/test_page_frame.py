"""The top bar is rendered once per user, page, language, unread count and minute, and always shows the truth."""
from __future__ import annotations

import re

import pytest
from flask import template_rendered

from casework.accounts.models import UserRole
from casework.extensions import db
from casework.notifications.services import mark_all_read, notify_users
from casework.web import frame
from tests.factories import find_user, routed_referral


@pytest.fixture
def topbar_renders(app, monkeypatch):
    """Paths whose top bar was rendered (not taken from the cache), with the clock held still."""
    cache = app.extensions[frame.EXTENSION]
    cache.clear()
    assert cache.size, "the top bar cache is on in the test configuration"
    minute = frame.current_minute()
    monkeypatch.setattr(frame, "current_minute", lambda: minute)
    rendered: list[str] = []

    def record(_sender, template, context, **_extra):
        if template.name == "_topbar.html":
            rendered.append(context["request"].full_path)

    template_rendered.connect(record, app)
    yield rendered
    template_rendered.disconnect(record, app)
    cache.clear()


@pytest.fixture
def browser(login_as):
    """A logged-in client whose session already holds its CSRF token (made by its first page, as
    the login page makes it in a browser), with that first page's bar kept."""
    def make(username: str):
        client = login_as(username)
        client.get("/")
        client.get("/")
        return client
    return make


def page(client, path: str = "/") -> str:
    return client.get(path).get_data(as_text=True)


def logout_token(html: str) -> str:
    form = re.search(r'action="/logout"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', html)
    assert form, "the top bar has a logout form"
    return form.group(1)


def test_a_user_reloading_a_page_gets_the_kept_bar(topbar_renders, login_as):
    client = login_as("psb-44.case_officer")
    for _ in range(4):
        assert "psb-44 case_officer" in page(client)
    page(client, "/search")
    # The session's first page creates its CSRF token while rendering; from then on the bar is kept.
    assert topbar_renders == ["/?", "/?", "/search?"]


def test_each_user_sees_their_own_name_menu_and_token(topbar_renders, browser):
    intake, police = browser("edu-44.intake_officer"), browser("psb-44.case_officer")
    kept = len(topbar_renders)
    intake_page, police_page = page(intake), page(police)
    assert len(topbar_renders) == kept, "both bars came from the cache"
    assert "edu-44 intake_officer" in intake_page and "/referrals/new" in intake_page
    assert "psb-44 case_officer" in police_page and "/referrals/new" not in police_page
    assert logout_token(intake_page) != logout_token(police_page)


def test_a_new_role_shows_on_the_next_page(topbar_renders, browser, user):
    client = browser("psb-44.case_officer")
    assert "/audit" not in page(client)
    user("psb-44.case_officer").role_rows.append(UserRole(role="audit_admin"))
    db.session.commit()
    assert "/audit" in page(client)


def test_the_language_is_part_of_the_bar(topbar_renders, browser):
    client = browser("psb-44.case_officer")
    assert "退出" in page(client)
    client.post("/language/en", data={"next": "/"})
    client.get("/")
    english = page(client)
    assert "Log out" in english and "退出" not in english


def test_the_language_switch_returns_to_the_page_shown(topbar_renders, browser):
    client = browser("psb-44.case_officer")
    page(client, "/?tab=all")
    assert 'name="next" value="/?tab=all"' in page(client, "/?tab=all")
    assert 'name="next" value="/?"' in page(client, "/")


def test_the_kept_bar_carries_a_csrf_token_only_its_session_accepts(app, topbar_renders, browser):
    client, other = browser("psb-44.case_officer"), browser("psb-44.approver")
    rendered = len(topbar_renders)
    kept = page(client)
    assert len(topbar_renders) == rendered, "the bar came from the cache"
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert other.post("/logout", data={"csrf_token": logout_token(kept)}).status_code == 400
        assert other.post("/logout", data={"csrf_token": logout_token(page(other))}).status_code == 302
        assert client.post("/logout", data={"csrf_token": logout_token(kept)}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_bar_is_renewed_every_minute(topbar_renders, browser, monkeypatch):
    client = browser("psb-44.case_officer")
    rendered = len(topbar_renders)
    page(client)
    minute = frame.current_minute() + 1
    monkeypatch.setattr(frame, "current_minute", lambda: minute)
    page(client)
    page(client)
    assert len(topbar_renders) == rendered + 1


def bell(html: str) -> int:
    found = re.search(r'class="bell[^"]*"[^>]*>[^<]*(?:<span class="count" data-unread="(\d+)">)?', html)
    assert found, "the top bar has the bell"
    return int(found.group(1) or 0)


def test_the_bell_rises_with_new_notifications_and_falls_after_reading(topbar_renders, browser):
    client = browser("psb-44.case_officer")
    officer = find_user("psb-44.case_officer")
    mark_all_read(officer, {}, officer)
    db.session.commit()
    assert bell(page(client)) == 0
    referral = routed_referral("44", "psb-44")
    notify_users([officer], "to_receive", referral)
    db.session.commit()
    kept = len(topbar_renders)
    assert bell(page(client)) >= 1
    assert len(topbar_renders) == kept + 1, "a new count renders a new bar"
    assert 'href="/notifications"' in page(client)
    client.post("/notifications/read-all")
    assert bell(page(client)) == 0
