"""Agencies on the same referral see each other's states, not each other's reasons and notes."""
from __future__ import annotations

import pytest

from tests.factories import act, assignment_of, routed_referral

SECRET = "线人提供的内部情况-仅限公安"


@pytest.fixture
def refused(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "ISSUE_NOTICES", False)
    referral = routed_referral("44", "psb-44", "amr-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    act(police, "decline_filing", "psb-44.case_officer", reason=SECRET)
    act(police, "approve_decline_filing", "psb-44.approver")
    return referral


@pytest.mark.parametrize("username,sees", [
    ("psb-44.case_officer", True),
    ("edu-44.assessor", True),
    ("moe.approver", True),
    ("amr-44.case_officer", False),
])
def test_reasons_are_shown_to_the_agency_and_education_only(login_as, refused, username, sees):
    page = login_as(username).get(f"/referrals/{refused.id}")
    assert page.status_code == 200
    assert (SECRET in page.get_data(as_text=True)) is sees
