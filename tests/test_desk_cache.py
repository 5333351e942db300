"""The rendered inbox list is shared by a desk's officers and renewed by every committed change."""
from __future__ import annotations

import pytest

from casework.extensions import db
from casework.inbox import cache as cache_module
from casework.web.fragments import FragmentCache
from tests.test_ui_inbox import assignment_for, referral_in, tab_counts
from tests.factories import act, assignment_of, routed_referral


@pytest.fixture
def shared_cache(app):
    cache = app.extensions["casework_desk_cache"]
    cache.clear()
    assert cache.size, "the desk cache is on in the test configuration"
    yield cache
    cache.clear()


def rendered_lists(monkeypatch) -> list:
    """Record every time a desk list is actually rendered (a cache miss)."""
    calls: list = []
    original = FragmentCache.get_or_render

    def spy(self, key, render):
        if self is not cache_module.desk_cache():
            return original(self, key, render)

        def counted():
            calls.append(key)
            return render()
        return original(self, key, counted)

    monkeypatch.setattr(FragmentCache, "get_or_render", spy)
    return calls


def test_officers_of_one_desk_share_the_list_until_the_work_changes(shared_cache, login_as, user, agency, monkeypatch):
    referral = referral_in("routed", user("edu-44.intake_officer"))
    assignment_for(referral, agency("psb-44"))
    db.session.commit()
    renders = rendered_lists(monkeypatch)
    first, second = login_as("psb-44.case_officer"), login_as("psb-44.approver")
    assert referral.number in first.get("/?tab=receive").get_data(as_text=True)
    assert referral.number in second.get("/?tab=receive").get_data(as_text=True)
    assert len(renders) == 1

    act(assignment_of(referral, "psb-44"), "receive", "psb-44.case_officer")
    html = second.get("/?tab=receive").get_data(as_text=True)
    assert referral.number not in html and tab_counts(html)["receive"] == 0
    assert len(renders) == 2


def test_a_change_renews_the_referring_department_and_every_holder(shared_cache, login_as, user, monkeypatch):
    referral = routed_referral("44", "psb-44", "cac-44")
    education, cyberspace = login_as("edu-44.assessor"), login_as("cac-44.case_officer")
    education.get("/?tab=all")
    cyberspace.get("/?tab=all")
    renders = rendered_lists(monkeypatch)
    referral.title = "更名后的线索标题"
    db.session.commit()
    assert "更名后的线索标题" in education.get("/?tab=all").get_data(as_text=True)
    assert "更名后的线索标题" in cyberspace.get("/?tab=all").get_data(as_text=True)
    assert len(renders) == 2


def test_desks_and_languages_never_share_a_list(shared_cache, login_as, user, agency):
    referral = referral_in("routed", user("edu-44.intake_officer"))
    assignment_for(referral, agency("psb-44"))
    db.session.commit()
    assert referral.number in login_as("psb-44.case_officer").get("/?tab=all").get_data(as_text=True)
    assert referral.number not in login_as("cac-44.case_officer").get("/?tab=all").get_data(as_text=True)
    assert referral.number not in login_as("psb-11.case_officer").get("/?tab=all").get_data(as_text=True)

    english = user("psb-44.approver")
    english.locale = "en"
    db.session.commit()
    html = login_as("psb-44.approver").get("/?tab=all").get_data(as_text=True)
    assert "New to receive" in html and "待签收" not in html


def test_the_list_is_renewed_every_minute(shared_cache, login_as, monkeypatch):
    renders = rendered_lists(monkeypatch)
    client = login_as("psb-44.case_officer")
    minute = [cache_module.current_minute()]
    monkeypatch.setattr(cache_module, "current_minute", lambda: minute[0])
    client.get("/")
    client.get("/")
    minute[0] += 1
    client.get("/")
    assert len(renders) == 2


def test_without_a_cache_every_request_renders(app, login_as, monkeypatch):
    monkeypatch.setitem(app.extensions, "casework_desk_cache", FragmentCache(0))
    renders = rendered_lists(monkeypatch)
    client = login_as("psb-44.case_officer")
    client.get("/")
    client.get("/")
    assert len(renders) == 2
