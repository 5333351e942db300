"""Transition tables generated from the declarations: every (trigger, source) of every lifecycle is fired
once by the right person (reaches its destination) and refused from a wrong state, by a wrong role and by
another agency (clear message, no state change, a refused audit event)."""
from __future__ import annotations

import pytest

from casework.accounts.models import UserRole
from casework.accounts.roles import role_label
from casework.assignments.models import Disposition, DispositionAction
from casework.errors import ConflictError, DomainError, NotAllowed
from casework.extensions import db
from casework.referrals.lifecycle import create_assignment
from casework.referrals.models import Assessment
from casework.text import CST
from casework.unit_of_work import unit_of_work
from casework.workflow import clocks
from casework.workflow.engine import available_triggers, fire, lifecycle_for, service_for
from casework.workflow.models import ClockExtension, Reconsideration
from tests.factories import (
    act, agencies_form, find_agency, find_user, last_event, last_step_event, new_referral, refuse,
)
from workflows import declarations

KIND_AGENCY = {"cyberspace": "cac-44", "telecom": "ca-44", "police": "psb-44", "market": "amr-44"}
OTHER_AGENCY = {"cac-44": "cac-11", "ca-44": "ca-11", "psb-44": "psb-11", "amr-44": "amr-11", "edu-44": "edu-11"}
PARTY_ROLES = {"agency": ("case_officer", "approver"), "origin": ("intake_officer", "assessor", "approver")}


@pytest.fixture(autouse=True)
def quiet_notices(app, monkeypatch):
    """The tables check the machine; the journey test covers the notices."""
    monkeypatch.setitem(app.config, "ISSUE_NOTICES", False)


def _cases():
    for name, lc in sorted(declarations().lifecycles.items()):
        if name == "assignment":
            continue
        for t in lc.transitions:
            sources = t.sources[:2] if len(t.sources) > 6 else t.sources
            for source in sources:
                yield pytest.param(name, t.trigger, source, id=f"{name}:{t.trigger}:{source}")


CASES = list(_cases())
PERSON_CASES = [c for c in CASES if not declarations().lifecycle(c.values[0]).transition(c.values[1], c.values[2]).system]


def _agency_code(lc_name: str) -> str:
    return "edu-44" if lc_name == "referral" else KIND_AGENCY[lc_name.split(".")[1]]


def situate(lc_name: str, source: str, trigger: str):
    """An object of the lifecycle in ``source``, with what the trigger's guards and fields need."""
    referral = new_referral("44", targets=2)
    assessor = find_user("edu-44.assessor")
    conclusion = "no_brushing" if trigger == "not_refer" else "refer"
    db.session.add(Assessment(referral=referral, conclusion=conclusion, severity="high", opinion="意见",
                              recommendations=[{"agency_id": find_agency("cac-44").id, "reason": "主管"}],
                              assessor=assessor))
    if lc_name == "referral":
        referral.state = source
        if trigger in ("all_received", "close"):
            assignment = create_assignment(referral, find_agency("cac-44"), "主管", assessor)
            assignment.state = "closed"
            assignment.received_at = assignment.routed_at
        db.session.commit()
        return referral
    code = KIND_AGENCY[lc_name.split(".")[1]]
    referral.state = "routed"
    assignment = create_assignment(referral, find_agency(code), "主管", assessor)
    assignment.state = source
    if source in ("disposition_proposed", "disposition_approved", "executed"):
        proposer = find_user(f"{code}.case_officer2")
        state = "proposed" if source == "disposition_proposed" else "approved"
        db.session.add(Disposition(assignment=assignment, summary="处置", proposed_by=proposer, state=state,
                                   actions=[DispositionAction(target=t, action="x") for t in referral.targets]))
    if source == "declined":
        clocks.start_clock(assignment, "reconsideration_window")
    if source == "reconsideration_requested":
        db.session.add(Reconsideration(assignment_id=assignment.id, reason="复议",
                                       requested_by=find_user("edu-44.approver")))
    if trigger in ("request_extension", "approve_extension", "reject_extension"):
        clock = clocks.start_clock(assignment, "feedback")
        if trigger != "request_extension":
            db.session.add(ClockExtension(clock=clock, amount=5, reason="复杂",
                                          requested_by=find_user(f"{code}.case_officer")))
    db.session.commit()
    return assignment


def form_for(obj, trigger: str) -> dict:
    text = {"reason": "理由", "material": "补充材料", "body": "调查记录", "summary": "处置意见"}
    data = {}
    lc = lifecycle_for(obj)
    t = next(t for t in lc.transitions if t.trigger == trigger)
    for field in t.fields:
        if field.type == "textarea" and field.required:
            data[field.name] = text.get(field.name, "内容")
        elif field.type == "choice" and field.required:
            data[field.name] = next(iter(declarations().choices[field.choices]))
        elif field.type == "integer":
            data[field.name] = 5
        elif field.type == "agency":
            data[field.name] = find_agency(OTHER_AGENCY[obj.agency.code]).id
        elif field.type == "agencies" and field.required:
            data.update(agencies_form("cac-44", "psb-44"))
        elif field.type == "target_actions":
            for target in obj.referral.targets:
                actions = declarations().disposal_actions(obj.agency.kind, target.kind)
                data.update({f"action_{target.id}": next(iter(actions))} if actions else {})
        elif field.type == "target_outcomes" and obj.disposition is not None:
            for item in obj.disposition.actions:
                data.update({f"outcome_{item.id}": "done", f"executed_at_{item.id}": "2026-11-01"})
    return data


def actor_for(obj, lc_name: str, trigger: str):
    t = next(t for t in lifecycle_for(obj).transitions if t.trigger == trigger)
    code = "edu-44" if t.party == "origin" else _agency_code(lc_name)
    return f"{code}.{t.roles[0]}"


@pytest.mark.parametrize("lc_name, trigger, source", CASES)
def test_allowed(db_session, lc_name, trigger, source):
    obj = situate(lc_name, source, trigger)
    t = lifecycle_for(obj).transition(trigger, source)
    username = None if t.system else actor_for(obj, lc_name, trigger)
    if not t.system:
        assert trigger in [info.name for info in available_triggers(obj, find_user(username))]
    act(obj, trigger, username, **form_for(obj, trigger))
    assert obj.state == (t.dest or source)
    event = last_step_event(obj)
    assert (event.event, event.from_state, event.to_state, event.outcome) == \
        (f"{obj.audit_type}.{trigger}", source, obj.state, "ok")


def _assert_refused(obj, trigger, username, source, error: DomainError, expected: str):
    assert expected in error.message
    db.session.expire_all()
    assert obj.state == source
    event = last_event(obj)
    assert (event.event, event.trigger, event.outcome) == (f"{obj.audit_type}.{trigger}", trigger, "refused")
    assert event.payload["reason"] == error.message


@pytest.mark.parametrize("lc_name, trigger, source", CASES)
def test_refused_from_a_wrong_state(db_session, lc_name, trigger, source):
    lc = declarations().lifecycle(lc_name)
    t = lc.transition(trigger, source)
    wrong = next(s for s in lc.states if s not in t.sources)
    obj = situate(lc_name, wrong, trigger)
    username = None if t.system else actor_for(obj, lc_name, trigger)
    error = refuse(obj, trigger, username, **form_for(obj, trigger))
    _assert_refused(obj, trigger, username, wrong, error, "is not allowed while the")


@pytest.mark.parametrize("lc_name, trigger, source", CASES)
def test_refused_for_a_wrong_role(db_session, lc_name, trigger, source):
    obj = situate(lc_name, source, trigger)
    t = lifecycle_for(obj).transition(trigger, source)
    if t.system:
        error = refuse(obj, trigger, "edu-44.approver", **form_for(obj, trigger))
        _assert_refused(obj, trigger, None, source, error, "happens automatically")
        return
    others = [r for r in PARTY_ROLES[t.party] if r not in t.roles]
    code = "edu-44" if t.party == "origin" else _agency_code(lc_name)
    assert others, "every declared step leaves someone out"
    error = refuse(obj, trigger, f"{code}.{others[0]}", **form_for(obj, trigger))
    assert isinstance(error, NotAllowed)
    _assert_refused(obj, trigger, None, source, error, "needs the role")
    assert role_label(t.roles[0]) in error.message and "_" not in error.message.split("role", 1)[1]


@pytest.mark.parametrize("lc_name, trigger, source", PERSON_CASES)
def test_refused_for_another_agency(db_session, lc_name, trigger, source):
    obj = situate(lc_name, source, trigger)
    t = lifecycle_for(obj).transition(trigger, source)
    own = "edu-44" if t.party == "origin" else _agency_code(lc_name)
    error = refuse(obj, trigger, f"{OTHER_AGENCY[own]}.{t.roles[0]}", **form_for(obj, trigger))
    assert isinstance(error, NotAllowed)
    _assert_refused(obj, trigger, None, source, error, "only ")


def test_every_declared_trigger_has_a_service():
    for lc in declarations().lifecycles.values():
        for t in lc.transitions:
            assert callable(service_for(lc.subject, t.trigger)), (lc.name, t.trigger)


def test_a_proposer_who_is_also_an_approver_cannot_approve_their_own_proposal(db_session):
    obj = situate("assignment.cyberspace", "investigating", "propose_disposition")
    officer = find_user("cac-44.case_officer")
    officer.role_rows.append(UserRole(role="approver"))
    db.session.commit()
    act(obj, "propose_disposition", "cac-44.case_officer", **form_for(obj, "propose_disposition"))
    assert "approve_disposition" not in [i.name for i in available_triggers(obj, officer)]
    error = refuse(obj, "approve_disposition", "cac-44.case_officer")
    _assert_refused(obj, "approve_disposition", None, "disposition_proposed", error, "a second person must decide")
    assert "not_proposer" not in error.message
    act(obj, "approve_disposition", "cac-44.approver")
    assert obj.state == "disposition_approved"


def test_the_assessor_cannot_approve_their_own_assessment(db_session):
    referral = situate("referral", "assessed", "approve_assessment")
    assessor = find_user("edu-44.assessor")
    assessor.role_rows.append(UserRole(role="approver"))
    db.session.commit()
    error = refuse(referral, "approve_assessment", "edu-44.assessor")
    _assert_refused(referral, "approve_assessment", None, "assessed", error, "cannot approve their own")


def test_invalid_fields_answer_per_field_errors_without_a_state_change(db_session):
    from casework.errors import ValidationFailed

    referral = situate("referral", "under_assessment", "assess")
    with pytest.raises(ValidationFailed) as caught:
        act(referral, "assess", "edu-44.assessor", conclusion="maybe", behaviours=["flying"],
            agencies=[find_agency("cac-44").id])
    errors = caught.value.errors
    assert set(errors) >= {"conclusion", "behaviours", "severity", "opinion", f"reason_{find_agency('cac-44').id}"}
    assert referral.state == "under_assessment"


def test_a_stale_version_is_a_conflict(db_session):
    from casework.errors import ConflictError

    referral = new_referral()
    with pytest.raises(ConflictError):
        with db_session.begin_nested():
            fire(referral, "submit", {}, find_user("edu-44.intake_officer"), expected_version=referral.version - 1)
    assert referral.state == "draft"


def test_a_step_someone_else_already_took_is_refused_naming_them(db_session, app):
    referral = new_referral()
    act(referral, "submit", "edu-44.intake_officer")
    taken = last_event(referral)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        error = refuse(referral, "submit", "edu-44.intake_officer")
    when = taken.occurred_at.astimezone(CST)
    intake = find_user("edu-44.intake_officer")
    assert error.message.startswith(f"已由 {intake.display_name} 于 {when.month}月{when.day}日 {when:%H:%M} 提交")
    assert last_event(referral).payload["reason"] == error.message


def test_a_stale_version_names_the_change_made_since(db_session):
    referral = new_referral()
    seen = referral.version
    act(referral, "submit", "edu-44.intake_officer")
    with pytest.raises(ConflictError) as caught, unit_of_work():
        fire(referral, "start_assessment", {}, find_user("edu-44.assessor"), expected_version=seen)
    assert "Already done by edu-44 intake_officer" in caught.value.message
