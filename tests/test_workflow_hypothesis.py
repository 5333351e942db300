"""Random sequences of triggers and users (Hypothesis state machine) against the declarations.

Properties: no object ever reaches a state its lifecycle does not declare; a step either moves along
a declared transition or is refused with the state unchanged and a refused audit event; whatever
``available_triggers`` offers succeeds; nobody approves their own proposal or assessment; the
audit chain stays valid.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from casework.accounts.models import UserRole
from casework.audit.services import verify_chain
from casework.errors import DomainError
from casework.extensions import db
from casework.inbox.counts import count_mismatches
from casework.unit_of_work import unit_of_work
from casework.workflow.engine import available_triggers, fire, lifecycle_for
from tests.factories import find_agency, find_user, last_event, new_referral
from tests.test_workflow_transitions import form_for
from workflows import declarations

USERNAMES = [
    "edu-44.intake_officer", "edu-44.assessor", "edu-44.assessor2", "edu-44.approver", "edu-44.approver2",
    "cac-44.case_officer", "cac-44.approver", "ca-44.case_officer", "ca-44.approver",
    "psb-44.case_officer", "psb-44.case_officer2", "psb-44.approver", "amr-44.case_officer", "amr-44.approver",
    "cac-11.case_officer", "cac-11.approver", "edu-11.approver",
]
REFERRAL_TRIGGERS = declarations().lifecycle("referral").triggers()
ASSIGNMENT_TRIGGERS = sorted({t for name, lc in declarations().lifecycles.items()
                              if name.startswith("assignment") for t in lc.triggers()})


@pytest.fixture(autouse=True)
def quiet_notices(app, monkeypatch):
    monkeypatch.setitem(app.config, "ISSUE_NOTICES", False)


def data_for(obj, trigger: str) -> dict:
    """Valid form data; an assignment already transferred to Beijing transfers back to Guangdong."""
    if trigger == "transfer" and obj.agency.code.endswith("-11"):
        return {"agency": find_agency(obj.agency.code.replace("-11", "-44")).id, "reason": "管辖"}
    return form_for(obj, trigger)


class WorkflowMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.referral = new_referral("44", targets=2)

    def objects(self):
        return [self.referral, *self.referral.assignments]

    def _fire(self, obj, trigger: str, username: str) -> None:
        before = obj.state
        lc = lifecycle_for(obj)
        try:
            with unit_of_work():
                fire(obj, trigger, data_for(obj, trigger), find_user(username))
        except DomainError as error:
            db.session.expire_all()
            assert obj.state == before
            if error.audit:
                event = last_event(obj)
                assert (event.trigger, event.outcome) in ((trigger, "refused"), (trigger, "conflict"))
            return
        transition = lc.transition(trigger, before)
        assert transition is not None, f"{trigger} fired from {before} although not declared"
        assert obj.state == (transition.dest or before)

    @rule(trigger=st.sampled_from(REFERRAL_TRIGGERS), username=st.sampled_from(USERNAMES))
    def fire_on_referral(self, trigger, username):
        self._fire(self.referral, trigger, username)

    @rule(index=st.integers(0, 6), trigger=st.sampled_from(ASSIGNMENT_TRIGGERS), username=st.sampled_from(USERNAMES))
    def fire_on_assignment(self, index, trigger, username):
        assignments = self.referral.assignments
        if assignments:
            obj = assignments[index % len(assignments)]
            if trigger in lifecycle_for(obj).triggers():
                self._fire(obj, trigger, username)

    @rule(index=st.integers(0, 7), pick=st.integers(0, 50))
    def fire_something_offered(self, index, pick):
        obj = self.objects()[index % len(self.objects())]
        offered = [(username, info.name) for username in USERNAMES
                   for info in available_triggers(obj, find_user(username))]
        if offered:
            username, trigger = offered[pick % len(offered)]
            before = obj.state
            with unit_of_work():
                fire(obj, trigger, data_for(obj, trigger), find_user(username))
            transition = lifecycle_for(obj).transition(trigger, before)
            assert obj.state == (transition.dest or before)

    @invariant()
    def states_are_declared(self):
        for obj in self.objects():
            assert obj.state in lifecycle_for(obj).states

    @invariant()
    def desk_counters_match_the_live_counts(self):
        assert count_mismatches() == {}

    @invariant()
    def nobody_approves_their_own_work(self):
        for assignment in self.referral.assignments:
            for disposition in assignment.dispositions:
                if disposition.decided_by_id is not None:
                    assert disposition.decided_by_id != disposition.proposed_by_id
        for assessment in self.referral.assessments:
            if assessment.approved_by_id is not None:
                assert assessment.approved_by_id != assessment.assessor_id


def test_random_sequences_respect_the_declarations(db_session):
    for username, role in (("cac-44.case_officer", "approver"), ("psb-44.case_officer", "approver"),
                           ("edu-44.assessor", "approver")):
        db.session.add(UserRole(user_id=find_user(username).id, role=role))
    db.session.commit()
    run_state_machine_as_test(WorkflowMachine, settings=settings(
        max_examples=12, stateful_step_count=60, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    assert verify_chain().ok
