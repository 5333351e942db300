"""Named owners: whoever acts first on an unowned item owns it; claim, assign, release by the rules;
each change audited; the new owner told."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.audit.models import AuditEvent
from casework.errors import NotAllowed, ValidationFailed
from casework.extensions import db
from casework.notifications.models import Notification
from casework.access.ownership import may_assign, may_claim, may_release
from casework.ownership.services import assign_item, claim_item, release_item
from casework.unit_of_work import unit_of_work
from tests.factories import act, assignment_of, find_user, routed_referral


def test_the_officer_who_receives_owns_the_assignment(db_session):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    assert police.owner_id is None
    act(police, "receive", "psb-44.case_officer")
    assert police.owner == find_user("psb-44.case_officer")
    assert referral.owner == find_user("edu-44.intake_officer")  # the intake officer acted first
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "assignment.claim",
                                                       AuditEvent.object_id == police.id))
    assert event.payload == {"owner_before": None, "owner_after": police.owner_id}


@pytest.mark.parametrize("username, claim, assign, release", [
    ("psb-44.case_officer", False, False, True),    # the owner
    ("psb-44.case_officer2", False, False, False),  # a colleague at the desk: the approver reassigns
    ("psb-44.approver", False, True, True),         # the desk's approver
    ("cac-44.case_officer", False, False, False),   # another agency
    ("edu-44.approver", False, False, False),       # the referring department
])
def test_who_may_claim_assign_release(db_session, username, claim, assign, release):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    user = find_user(username)
    assert (may_claim(user, police), may_assign(user, police), may_release(user, police)) == (claim, assign, release)


def test_an_approver_reassigns_and_the_new_owner_is_told(db_session):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    colleague = find_user("psb-44.case_officer2")
    with unit_of_work():
        assign_item(police, {"owner": colleague.id}, find_user("psb-44.approver"))
    assert police.owner == colleague
    told = db.session.scalars(select(Notification).where(Notification.recipient_id == colleague.id,
                                                         Notification.kind == "owner")).all()
    assert len(told) == 1 and told[0].subject_id == police.id
    with pytest.raises(ValidationFailed):
        assign_item(police, {"owner": find_user("cac-44.case_officer").id}, find_user("psb-44.approver"))
    with pytest.raises(NotAllowed):
        assign_item(police, {"owner": colleague.id}, colleague)


def test_claim_and_release(db_session):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    officer, colleague = find_user("psb-44.case_officer"), find_user("psb-44.case_officer2")
    with pytest.raises(NotAllowed) as refused:
        claim_item(police, {}, colleague)
    assert refused.value.message.startswith(f"Already done by {officer.display_name} on ")
    assert refused.value.message.endswith(": claimed")
    with pytest.raises(NotAllowed):
        release_item(police, {}, colleague)
    with unit_of_work():
        release_item(police, {}, officer)
    assert police.owner_id is None and may_claim(colleague, police)
    with unit_of_work():
        claim_item(police, {}, colleague)
    assert police.owner == colleague
    with unit_of_work():
        release_item(police, {}, colleague)
    assert police.owner_id is None
    events = db.session.scalars(select(AuditEvent.event).where(AuditEvent.object_type == "assignment",
                                                               AuditEvent.object_id == police.id)).all()
    assert events.count("assignment.claim") == 2 and events.count("assignment.release") == 2


def test_the_owner_route_claims_and_refuses_in_words(db_session, login_as):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    client = login_as("psb-44.case_officer2")
    taken = client.post(f"/assignments/{police.id}/owner", data={"action": "claim"}, follow_redirects=True)
    assert f"已由 {find_user('psb-44.case_officer').display_name} 于 " in taken.get_data(as_text=True)
    with unit_of_work():
        release_item(police, {}, find_user("psb-44.case_officer"))
    answer = client.post(f"/assignments/{police.id}/owner", data={"action": "claim"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert police.owner == find_user("psb-44.case_officer2")
    outsider = login_as("cac-44.case_officer")
    assert outsider.post(f"/assignments/{police.id}/owner", data={"action": "claim"}).status_code == 404
    refused = client.post(f"/assignments/{police.id}/owner", data={"action": "assign", "owner": "1"},
                          follow_redirects=True)
    assert refused.status_code == 200 and "广东省公安厅" in refused.get_data(as_text=True)
    assert client.post(f"/assignments/{police.id}/owner", data={"action": "steal"}).status_code == 400


def test_the_referral_page_shows_owners_and_offers_what_the_predicates_allow(db_session, login_as):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    officer = find_user("psb-44.case_officer")
    section = f'id="owner-assignment-{police.id}"'

    def row(username):
        html = login_as(username).get(f"/referrals/{referral.id}").get_data(as_text=True)
        start = html.index(section)
        return html[start:html.index("</li>", start)]

    assert officer.display_name in row("edu-44.assessor") and "<form" not in row("edu-44.assessor")
    assert 'value="release"' in row("psb-44.case_officer") and 'value="claim"' not in row("psb-44.case_officer")
    assert "<form" not in row("psb-44.case_officer2")
    approver = row("psb-44.approver")
    assert 'value="assign"' in approver and "改派" in approver
    assert f'<option value="{officer.id}" selected>' in approver
    assert f'value="{find_user("psb-44.case_officer2").id}"' in approver
    with unit_of_work():
        release_item(police, {}, officer)
    assert 'value="claim"' in row("psb-44.case_officer2")
