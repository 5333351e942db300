"""The inbox: tabs with counts per desk, overdue marked and sorted, bounded SQL per page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from casework.assignments.models import Assignment
from casework.db_types import utcnow
from casework.extensions import db
from casework.inbox.desk import Desk
from casework.referrals.queries import PAGE_SIZE
from tests.factories import make_referral
from tests.sql_count import counted_statements


def tab_counts(html: str) -> dict[str, int]:
    return {key: int(count) for key, count in
            re.findall(r'data-tab="(\w+)">[^<]*<span class="count">(\d+)</span>', html)}


def referral_in(state: str, actor, **fields):
    referral = make_referral(actor)
    referral.state = state
    for name, value in fields.items():
        setattr(referral, name, value)
    db.session.flush()
    return referral


def assignment_for(referral, agency, state="sent", **fields):
    assignment = Assignment(referral=referral, agency=agency, state=state, **fields)
    db.session.add(assignment)
    db.session.flush()
    return assignment


def test_education_desk_tabs(login_as, user):
    intake = user("edu-44.intake_officer")
    now = utcnow()
    referral_in("draft", intake)
    referral_in("submitted", intake, due_at=now + timedelta(days=1))
    referral_in("submitted", intake, due_at=now - timedelta(days=2))
    referral_in("assessed", intake)
    referral_in("closed", intake, due_at=now - timedelta(days=9))
    db.session.commit()
    html = login_as("edu-44.assessor").get("/?tab=all").get_data(as_text=True)
    counts = tab_counts(html)
    assert {key: counts.pop(key) for key in ("mine", "unassigned")}["mine"] == 0  # the intake officer's, if anyone's
    assert counts == {"receive": 2, "action": 1, "approval": 1, "due_soon": 1, "overdue": 1}
    assert html.count("<tr class=") == 5


def test_referrals_waiting_for_the_referring_department_are_in_action(login_as, user, agency):
    referral = referral_in("awaiting_feedback", user("edu-44.intake_officer"))
    assignment_for(referral, agency("psb-44"), state="returned")
    db.session.commit()
    html = login_as("edu-44.intake_officer").get("/?tab=action").get_data(as_text=True)
    assert tab_counts(html)["action"] == 1 and referral.number in html


def test_agency_desk_lists_its_assignments_overdue_first(login_as, user, agency):
    intake = user("edu-44.intake_officer")
    now = utcnow()
    late = referral_in("routed", intake)
    soon = referral_in("routed", intake)
    other = referral_in("routed", intake)
    assignment_for(late, agency("psb-44"), due_at=now - timedelta(hours=5))
    assignment_for(soon, agency("psb-44"), due_at=now + timedelta(days=2))
    assignment_for(other, agency("cac-44"), due_at=now - timedelta(days=1))
    db.session.commit()
    client = login_as("psb-44.case_officer")
    html = client.get("/").get_data(as_text=True)
    counts = tab_counts(html)
    assert counts["receive"] == 2 and counts["overdue"] == 1 and counts["due_soon"] == 1
    assert other.number not in html
    assert html.index(late.number) < html.index(soon.number)
    assert re.search(r'<tr class="row-overdue">\s*<td><a [^>]*>' + re.escape(late.number), html)
    overdue = client.get("/?tab=overdue").get_data(as_text=True)
    assert late.number in overdue and soon.number not in overdue


def test_mine_and_unassigned_list_the_open_items_by_owner(login_as, user, agency):
    intake = user("edu-44.intake_officer")
    officer, colleague = user("psb-44.case_officer"), user("psb-44.case_officer2")
    mine = assignment_for(referral_in("routed", intake), agency("psb-44"), state="received", owner=officer)
    theirs = assignment_for(referral_in("routed", intake), agency("psb-44"), state="received", owner=colleague)
    nobody = assignment_for(referral_in("routed", intake), agency("psb-44"))
    assignment_for(referral_in("closed", intake), agency("psb-44"), state="closed", owner=officer)
    db.session.commit()
    client = login_as("psb-44.case_officer")
    html = client.get("/?tab=mine").get_data(as_text=True)
    counts = tab_counts(html)
    assert counts["mine"] == 1 and counts["unassigned"] == 1
    assert mine.referral.number in html and theirs.referral.number not in html
    assert re.search(re.escape(mine.referral.number) + r".*?<td class=\"owner\">" + re.escape(officer.display_name),
                     html, re.S)
    unassigned = client.get("/?tab=unassigned").get_data(as_text=True)
    assert nobody.referral.number in unassigned and mine.referral.number not in unassigned
    listed = client.get("/?tab=all").get_data(as_text=True)
    assert colleague.display_name in listed and officer.display_name in listed
    other = login_as("psb-44.case_officer2").get("/?tab=mine").get_data(as_text=True)
    assert theirs.referral.number in other and mine.referral.number not in other


def test_tabs_are_counted_for_each_user_in_scope(user, agency):
    intake = user("edu-11.intake_officer")
    referral_in("submitted", intake)
    db.session.commit()
    counts = {t.key: t.count for t in Desk(user("edu-44.assessor")).tabs_with_counts()}
    assert counts["receive"] == 0
    counts = {t.key: t.count for t in Desk(user("moe.assessor")).tabs_with_counts()}
    assert counts["receive"] == 1


def test_pagination(login_as, user):
    intake = user("edu-44.intake_officer")
    for _ in range(PAGE_SIZE + 5):
        referral_in("draft", intake)
    db.session.commit()
    client = login_as("edu-44.intake_officer")
    first = client.get("/?tab=action").get_data(as_text=True)
    second = client.get("/?tab=action&page=2").get_data(as_text=True)
    assert first.count('<tr class=') == PAGE_SIZE
    assert "第2页，共2页" in second


@pytest.mark.parametrize("username, tab", [("edu-44.intake_officer", "all"), ("psb-44.case_officer", "receive")])
def test_inbox_queries_are_bounded_and_do_not_grow(login_as, user, agency, username, tab):
    client = login_as(username)
    intake = user("edu-44.intake_officer")

    def add(n):
        for _ in range(n):
            referral = referral_in("routed", intake)
            assignment_for(referral, agency("psb-44"), due_at=utcnow() + timedelta(days=1))
        db.session.commit()

    add(3)
    with counted_statements() as few:
        assert client.get(f"/?tab={tab}").status_code == 200
    add(40)
    with counted_statements() as many:
        html = client.get(f"/?tab={tab}").get_data(as_text=True)
    assert html.count('<tr class=') == PAGE_SIZE
    assert len(many) == len(few), many
    assert len(many) <= 8, many
