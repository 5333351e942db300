"""The workflow test helpers of ``tests.factories``: a fired step is audited, a refused one too."""
from __future__ import annotations

from tests.factories import act, agencies_form, last_event, new_referral, notices_switch, refuse  # noqa: F401


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
