"""Helpers for the workflow tests (driving referrals through the engine), and their own checks."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.audit.models import AuditEvent
from casework.errors import DomainError
from casework.extensions import db
from casework.unit_of_work import unit_of_work
from casework.workflow.engine import fire
from tests.factories import make_referral

@pytest.fixture(autouse=True)
def notices_switch(app, monkeypatch):
    """The journeys issue their notices, as in production."""
    monkeypatch.setitem(app.config, "ISSUE_NOTICES", True)


def find_user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def find_agency(code: str) -> Agency:
    return db.session.scalar(select(Agency).where(Agency.code == code))


def act(obj, trigger: str, username: str | None, **data):
    """Fire one trigger as ``username`` in its own unit of work, as a request would."""
    actor = find_user(username) if username else None
    with unit_of_work():
        fire(obj, trigger, data, actor)
    return obj


def refuse(obj, trigger: str, username: str | None, **data) -> DomainError:
    """Fire and expect a refusal; return the error."""
    with pytest.raises(DomainError) as caught:
        act(obj, trigger, username, **data)
    return caught.value


def last_event(obj) -> AuditEvent:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == obj.audit_type, AuditEvent.object_id == obj.id)
        .order_by(AuditEvent.seq.desc())
    ).first()


def agencies_form(*codes: str) -> dict:
    ids = [find_agency(code).id for code in codes]
    return {"agencies": ids, **{f"reason_{i}": "主管部门" for i in ids}}


def new_referral(province: str = "44", targets: int = 1):
    intake = find_user(f"edu-{province}.intake_officer")
    extra = [{"kind": "app", "name": f"秒刷{n}", "package_name": f"com.example.shua{n}.p{province}"}
             for n in range(targets - 1)]
    referral = make_referral(intake)
    from casework.referrals.services import add_target

    for target in extra:
        add_target(referral, target, intake)
    db.session.commit()
    return referral


def approved_referral(province: str = "44", *codes: str, targets: int = 1):
    """A submitted, assessed and approved referral recommending ``codes``."""
    referral = new_referral(province, targets)
    edu = f"edu-{province}"
    act(referral, "submit", f"{edu}.intake_officer")
    act(referral, "start_assessment", f"{edu}.assessor")
    act(referral, "assess", f"{edu}.assessor", conclusion="refer", severity="high", opinion="构成代刷网课",
        behaviours=["brushing", "proxy_exam"], **agencies_form(*(codes or (f"cac-{province}",))))
    act(referral, "approve_assessment", f"{edu}.approver")
    return referral


def routed_referral(province: str = "44", *codes: str, targets: int = 1):
    referral = approved_referral(province, *codes, targets=targets)
    act(referral, "route", f"edu-{province}.assessor", **agencies_form(*codes))
    return referral


def assignment_of(referral, code: str):
    return [a for a in referral.assignments if a.agency.code == code][-1]


def dispose(assignment, username_prefix: str, outcome: str = "done"):
    """From accepted/investigating through an approved disposition, execution and feedback."""
    officer, approver = f"{username_prefix}.case_officer", f"{username_prefix}.approver"
    targets = assignment.referral.targets
    from casework.workflow.fields import catalogue_for

    actions = {t.id: next(iter(catalogue_for(assignment, t))) for t in targets}
    act(assignment, "propose_disposition", officer, summary="依法处置",
        **{f"action_{target_id}": action for target_id, action in actions.items()})
    act(assignment, "approve_disposition", approver)
    outcomes = {}
    for item in assignment.disposition.actions:
        outcomes[f"outcome_{item.id}"] = outcome
        outcomes[f"executed_at_{item.id}"] = "2026-11-20"
    act(assignment, "record_execution", officer, **outcomes)
    act(assignment, "send_feedback", officer, summary="已处置完毕")


def test_act_records_the_transition_in_the_audit_trail(db_session):
    referral = new_referral()
    act(referral, "submit", "edu-44.intake_officer")
    event = last_event(referral)
    assert (event.event, event.from_state, event.to_state, event.outcome) == \
        ("referral.submit", "draft", "submitted", "ok")


def test_refuse_leaves_the_state_and_records_the_refusal(db_session):
    referral = new_referral()
    error = refuse(referral, "route", "edu-44.assessor", **agencies_form("cac-44"))
    assert "is not allowed while the case is" in error.message
    assert referral.state == "draft"
    event = last_event(referral)
    assert (event.event, event.outcome) == ("referral.route", "refused")
