"""Agency scope: role × agency × object. Outside the scope is 404 in pages, API and lists alike."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from casework.accounts.services import create_user
from casework.assignments.models import Assignment
from casework.extensions import db
from casework.access.loaders import get_assignment_or_404, get_referral_or_404
from casework.access.scope import scoped_referrals
from tests.factories import make_referral

# object: (originating intake officer, agencies holding an assignment)
OBJECTS = {
    "A": ("edu-44.intake_officer", ["psb-44", "cac"]),
    "B": ("edu-11.intake_officer", ["psb-11"]),
    "C": ("edu-44.intake_officer", []),
    "D": ("moe.intake_officer", ["miit"]),
}

VISIBLE = {
    "edu-44.intake_officer": {"A", "C"},
    "edu-44.assessor": {"A", "C"},
    "edu-11.assessor": {"B"},
    "moe.approver": {"A", "B", "C", "D"},
    "psb-44.case_officer": {"A"},
    "psb-44.approver": {"A"},
    "psb-11.case_officer": {"B"},
    "cac.case_officer": {"A"},
    "cac-44.case_officer": set(),
    "miit.approver": {"D"},
    "ca-44.case_officer": set(),
    "mps.case_officer": set(),
    "amr-11.approver": set(),
}


@pytest.fixture
def objects(db_session, user, agency):
    made = {}
    for name, (creator, holders) in OBJECTS.items():
        referral = make_referral(user(creator), title=f"scope object {name}")
        for code in holders:
            db.session.add(Assignment(referral=referral, agency=agency(code), state="sent"))
        made[name] = referral
    db.session.flush()
    return made


CASES = [(username, name, name in seen) for username, seen in VISIBLE.items() for name in OBJECTS]


@pytest.mark.parametrize("username,name,visible", CASES)
def test_referral_page_and_api(login_as, objects, username, name, visible):
    client = login_as(username)
    referral = objects[name]
    expected = 200 if visible else 404
    assert client.get(f"/referrals/{referral.id}").status_code == expected
    assert client.get(f"/api/referrals/{referral.id}").status_code == expected


@pytest.mark.parametrize("username", VISIBLE)
def test_lists_show_exactly_the_scope(login_as, objects, username):
    client = login_as(username)
    listed = {row["id"] for row in client.get("/api/referrals").get_json()}
    ours = {name for name, referral in objects.items() if referral.id in listed}
    assert ours == VISIBLE[username]
    page = client.get("/").get_data(as_text=True)
    for name, referral in objects.items():
        assert (referral.number in page) == (name in VISIBLE[username])


@pytest.mark.parametrize("username", VISIBLE)
def test_loaders_enforce_the_scope(objects, user, username):
    actor = user(username)
    for name, referral in objects.items():
        visible = name in VISIBLE[username]
        if visible:
            assert get_referral_or_404(referral.id, actor) is referral
        else:
            with pytest.raises(NotFound):
                get_referral_or_404(referral.id, actor)
        for assignment in db.session.scalars(select(Assignment).where(Assignment.referral_id == referral.id)):
            if visible:
                assert get_assignment_or_404(assignment.id, actor) is assignment
            else:
                with pytest.raises(NotFound):
                    get_assignment_or_404(assignment.id, actor)


def test_provincial_police_never_sees_other_province_or_unassigned(objects, user):
    officer = user("psb-44.case_officer")
    visible = set(db.session.scalars(scoped_referrals(officer)).all())
    assert objects["B"] not in visible and objects["C"] not in visible and objects["D"] not in visible


@pytest.mark.parametrize("role", ["system_admin", "security_admin", "audit_admin"])
def test_admins_do_not_see_cases(objects, role):
    admin = create_user({"username": f"scope-{role}", "agency_code": "moe", "roles": [role],
                         "password": "Adm1n-password!"}, actor=None)
    assert db.session.scalars(scoped_referrals(admin)).all() == []
