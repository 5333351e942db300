"""One referral routed to all four agency kinds, carried to closure; police refuse, education asks 复议."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.accounts.models import UserRole
from casework.audit.services import verify_chain
from casework.extensions import db
from casework.workflow.models import Clock, Reconsideration
from tests.factories import (  # noqa: F401
    act, agencies_form, assignment_of, dispose, find_user, notices_switch, refuse, routed_referral,
)

KINDS = ("cac-44", "ca-44", "psb-44", "amr-44")


def test_referral_to_all_four_kinds_reaches_closure(db_session):
    referral = routed_referral("44", *KINDS, targets=2)
    assert referral.state == "routed"
    assert sorted(a.agency.code for a in referral.assignments) == sorted(KINDS)
    assert all(a.state == "sent" and a.due_at is not None for a in referral.assignments)

    for code in KINDS:
        act(assignment_of(referral, code), "receive", f"{code}.case_officer")
    assert referral.state == "awaiting_feedback"

    cyber = assignment_of(referral, "cac-44")
    act(cyber, "accept", "cac-44.case_officer")
    act(cyber, "start_investigation", "cac-44.case_officer")
    act(cyber, "add_note", "cac-44.case_officer", body="已核实应用仍在上架")
    dispose(cyber, "cac-44")

    telecom = assignment_of(referral, "ca-44")
    act(telecom, "accept", "ca-44.case_officer")
    act(telecom, "start_investigation", "ca-44.case_officer")
    dispose(telecom, "ca-44", outcome="partial")

    market = assignment_of(referral, "amr-44")
    act(market, "accept", "amr-44.case_officer")
    act(market, "open_case", "amr-44.case_officer")
    act(market, "decide_no_penalty", "amr-44.case_officer", reason="违法所得轻微，首次违法")
    act(market, "approve_no_penalty", "amr-44.approver")
    act(market, "send_feedback", "amr-44.case_officer", summary="不予处罚")

    police = assignment_of(referral, "psb-44")
    act(police, "decline_filing", "psb-44.case_officer", reason="未达到立案标准")
    act(police, "approve_decline_filing", "psb-44.approver")
    assert police.state == "declined"
    act(police, "request_reconsideration", "edu-44.approver", reason="涉案金额较大，请求复议")
    assert police.state == "reconsideration_requested"
    assert db.session.scalar(select(Reconsideration).where(Reconsideration.assignment_id == police.id))
    act(police, "reverse_refusal", "psb-44.approver", reason="复议后决定立案")
    assert police.state == "investigating"
    dispose(police, "psb-44")

    for assignment, code in ((cyber, "cac-44"), (telecom, "ca-44"), (market, "amr-44")):
        assert assignment.state == "feedback_sent"
        act(assignment, "close", "edu-44.approver")
    assert referral.state == "awaiting_feedback"
    act(police, "close", "edu-44.approver")

    assert referral.state == "closed"
    assert referral.closed_at is not None
    running = db.session.scalars(select(Clock).where(Clock.stopped_at.is_(None), Clock.subject_type == "assignment",
                                                     Clock.subject_id.in_([a.id for a in referral.assignments])))
    assert list(running) == []
    assert verify_chain().ok


def test_police_refusal_upheld_and_transfer_end_the_chain(db_session):
    referral = routed_referral("44", "psb-44", "ca-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    act(police, "decline_filing", "psb-44.case_officer", reason="不属于刑事案件")
    act(police, "approve_decline_filing", "psb-44.approver")
    act(police, "request_reconsideration", "edu-44.approver", reason="请求复议")
    act(police, "uphold_refusal", "psb-44.approver", reason="维持")
    assert police.state == "refusal_upheld"

    telecom = assignment_of(referral, "ca-44")
    act(telecom, "receive", "ca-44.case_officer")
    act(telecom, "transfer", "ca-44.case_officer", agency=_id("ca-11"), reason="网站备案地在北京")
    successor = assignment_of(referral, "ca-11")
    assert telecom.state == "transferred" and successor.transferred_from_id == telecom.id
    assert successor.state == "sent" and referral.state == "awaiting_feedback"
    act(successor, "receive", "ca-11.case_officer")
    act(successor, "return_for_material", "ca-11.case_officer", reason="请补充备案截图")
    act(successor, "supplement", "edu-44.intake_officer", material="备案截图已附")
    assert successor.state == "sent"
    act(successor, "receive", "ca-11.case_officer")
    act(successor, "decline", "ca-11.case_officer", reason="网站已自行关闭")
    act(successor, "accept_refusal", "edu-44.approver")
    assert referral.state == "closed"


def test_reconsideration_is_refused_outside_the_window(db_session):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    act(police, "decline_filing", "psb-44.case_officer", reason="不予立案")
    act(police, "approve_decline_filing", "psb-44.approver")
    window = db.session.scalar(select(Clock).where(Clock.subject_id == police.id, Clock.rule == "reconsideration_window"))
    from datetime import timedelta

    window.due_at = window.due_at - timedelta(days=10)
    db.session.commit()
    error = refuse(police, "request_reconsideration", "edu-44.approver", reason="太迟")
    assert "closed" in error.message and "reconsideration_window_open" not in error.message
    assert police.state == "declined"


def _id(code):
    from tests.factories import find_agency

    return find_agency(code).id


@pytest.mark.parametrize("code, steps, propose, approve, reject, proposed, decided", [
    ("psb-44", ("receive",), "decline_filing", "approve_decline_filing", "reject_decline_filing",
     "filing_refusal_proposed", "declined"),
    ("amr-44", ("receive", "accept", "open_case"), "decide_no_penalty", "approve_no_penalty", "reject_no_penalty",
     "no_penalty_proposed", "no_penalty"),
])
def test_a_refusal_to_file_and_no_penalty_need_a_second_person(db_session, code, steps, propose, approve, reject,
                                                                 proposed, decided):
    assignment = assignment_of(routed_referral("44", code), code)
    for trigger in steps:
        act(assignment, trigger, f"{code}.case_officer")
    before = assignment.state
    officer = find_user(f"{code}.case_officer")
    officer.role_rows.append(UserRole(role="approver"))
    db.session.commit()
    act(assignment, propose, f"{code}.case_officer", reason="证据不足")
    assert assignment.state == proposed and assignment.disposed_at is None
    error = refuse(assignment, approve, f"{code}.case_officer")
    assert "second person" in error.message and assignment.state == proposed
    act(assignment, reject, f"{code}.approver", reason="请补充调查")
    assert assignment.state == before and assignment.decision_reason == ""
    act(assignment, propose, f"{code}.case_officer", reason="证据不足")
    act(assignment, approve, f"{code}.approver")
    assert assignment.state == decided
    if code == "amr-44":
        assert assignment.disposed_at is not None


def test_a_disposal_action_must_fit_the_target_kind(db_session):
    from casework.errors import ValidationFailed

    referral = routed_referral("44", "cac-44", targets=2)
    cyber = assignment_of(referral, "cac-44")
    for trigger in ("receive", "accept", "start_investigation"):
        act(cyber, trigger, "cac-44.case_officer")
    website = next(t for t in referral.targets if t.kind == "website")
    app = next(t for t in referral.targets if t.kind == "app")
    with pytest.raises(ValidationFailed) as caught:
        act(cyber, "propose_disposition", "cac-44.case_officer", summary="处置",
            **{f"action_{website.id}": "remove_app", f"action_{app.id}": "remove_app"})
    assert list(caught.value.errors) == [f"action_{website.id}"]
    act(cyber, "propose_disposition", "cac-44.case_officer", summary="处置",
        **{f"action_{website.id}": "take_down_website", f"action_{app.id}": "remove_app"})
    assert cyber.state == "disposition_proposed"
