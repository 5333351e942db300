"""The referral page loads what it shows up front (``casework.referrals.referral_page``): it runs the
same number of SQL statements for a referral with 5 agencies, 10 targets, 20 notices, 40 comments
and a long timeline as for a referral with one of each, and its templates call no query."""
from __future__ import annotations

from datetime import timedelta

import pytest

from casework.assignments.models import AssignmentNote
from casework.comments.models import Comment
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.evidence.models import Evidence
from casework.extensions import db
from casework.workflow.models import Clock, ClockExtension
from tests.factories import assignment_row, disposition_row, find_agency, find_user, notice_row, referral_row
from tests.sql_count import counted_statements

AGENCIES = ("psb-44", "cac-44", "ca-44", "amr-44", "psb-11")
OFFICERS = {"psb-44": "psb-44.case_officer", "cac-44": "cac-44.case_officer", "ca-44": "ca-44.case_officer",
            "amr-44": "amr-44.case_officer", "psb-11": "psb-11.case_officer"}


def referral_with(agencies: int, targets: int, notices: int, comments: int = 1):
    """A routed referral of edu-44 held by ``agencies`` agencies (psb-44 first), each with a note, a
    disposition, a running clock with an extension request and timeline events, plus evidence,
    ``notices`` notices and ``comments`` comments by the officers (on the case, on their own
    assignment, and corrections)."""
    referral = referral_row("edu-44", state="awaiting_feedback", targets=targets)
    codes = AGENCIES[:agencies]
    referral.assessment.recommendations = [{"agency_id": find_agency(code).id, "reason": "主管部门"} for code in codes]
    intake = find_user("edu-44.intake_officer")
    for code in codes:
        assignment = assignment_row(referral, code, "investigating")
        officer = find_user(OFFICERS[code])
        db.session.add(AssignmentNote(assignment_id=assignment.id, author=officer, body="已调取备案资料。"))
        disposition_row(assignment, OFFICERS[code])
        clock = Clock(subject_type="assignment", subject_id=assignment.id, rule="acceptance", unit="working_days",
                      amount=10, responsible_agency_id=assignment.agency_id, due_at=utcnow() + timedelta(days=5))
        db.session.add(clock)
        db.session.add(ClockExtension(clock=clock, amount=5, reason="需调取资料", requested_by_id=officer.id))
        for step in ("receive", "accept", "start_investigation"):
            record_event(f"assignment.{step}", officer, assignment, trigger=step, payload={"reason": "按期办理"})
    for n in range(notices):
        notice_row(referral, "edu-44", recipient=codes[n % len(codes)],
                   assignment=referral.assignments[n % len(codes)])
    for n in range(targets):
        evidence = Evidence(referral_id=referral.id, original_filename=f"截图{n}.png", content_type="image/png",
                            size=100, sha256=f"{n:064d}", storage_key=f"test/{n}", uploaded_by_id=intake.id)
        db.session.add(evidence)
    db.session.flush()
    record_event("referral.route", find_user("edu-44.assessor"), referral, trigger="route")
    written: list[Comment] = []
    for n in range(comments):
        author = find_user("edu-44.assessor" if n % 4 == 0 else OFFICERS[codes[n % len(codes)]])
        comment = Comment(referral_id=referral.id, author_id=author.id, body=f"意见{n} @edu-44.assessor", mentions=[],
                          assignment_id=referral.assignments[n % len(codes)].id if n % 3 == 1 else None,
                          supersedes_id=written[-1].id if n % 5 == 4 else None)
        db.session.add(comment)
        db.session.flush()
        written.append(comment)
    db.session.commit()
    db.session.expire_all()
    return referral


@pytest.mark.parametrize("viewer", ["edu-44.assessor", "psb-44.case_officer", "psb-44.approver"])
def test_the_page_costs_the_same_statements_whatever_it_shows(db_session, login_as, viewer):
    small = referral_with(agencies=1, targets=1, notices=1)
    large = referral_with(agencies=5, targets=10, notices=20, comments=40)
    small_url, large_url = f"/referrals/{small.id}", f"/referrals/{large.id}"
    client = login_as(viewer)
    client.get(small_url)  # the first request of a session loads more (locale, user)
    with counted_statements() as few:
        small_page = client.get(small_url).get_data(as_text=True)
    with counted_statements() as many:
        large_page = client.get(large_url).get_data(as_text=True)
    assert small.number in small_page and large.number in large_page
    assert large_page.count('class="disposition"') == (5 if viewer.startswith("edu") else 1)
    on_others = [n for n in range(40) if n % 3 == 1 and n % 5 != 0]  # about an assignment not psb-44's
    assert large_page.count('<li class="comment') == (40 if viewer.startswith("edu") else 40 - len(on_others))
    heads = lambda statements: [" ".join(s.split())[:90] for s in statements]  # noqa: E731
    assert len(many) == len(few), "\n".join(heads(many)) + "\n----\n" + "\n".join(heads(few))
