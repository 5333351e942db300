"""Services behind the referral's transitions (workflows/referral.toml).

The engine (casework.workflow.engine.fire) checks state, role, agency, guards and fields, then
calls the service; the engine writes the transition's audit event, clocks and notice.
"""
from __future__ import annotations

from casework.assignments.models import Assignment
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import DomainError
from casework.extensions import db
from casework.referrals.models import Assessment, Referral
from casework.workflow.lifecycles import Outcome, assignment_ended
from casework.workflow.messages import _
from workflows import declarations


def submit_referral(referral: Referral, data: dict, actor) -> None:
    """Hand the draft to the assessors."""
    referral.submitted_at = utcnow()


def start_assessment(referral: Referral, data: dict, actor) -> None:
    """An assessor takes the referral up."""


def assess_referral(referral: Referral, data: dict, actor) -> Outcome:
    """Record the 研判意见: conclusion, behaviours, severity, legal basis, recommended agencies."""
    assessment = Assessment(
        referral=referral, conclusion=data["conclusion"], behaviours=data.get("behaviours", []),
        severity=data["severity"], legal_basis=data.get("legal_basis", ""), opinion=data["opinion"],
        recommendations=[{"agency_id": c["agency"].id, "reason": c["reason"]} for c in data.get("agencies", [])],
        assessor=actor,
    )
    db.session.add(assessment)
    db.session.flush()
    record_event("assessment.create", actor, assessment, payload={"referral_id": referral.id,
                                                                  "conclusion": assessment.conclusion})
    return Outcome(payload={"assessment_id": assessment.id})


def _decide_assessment(referral: Referral, data: dict, actor) -> None:
    assessment = referral.assessment
    assessment.approved_by = actor
    assessment.approved_at = utcnow()
    assessment.approval_opinion = data.get("opinion", "")


def approve_assessment(referral: Referral, data: dict, actor) -> None:
    """A second person approves the assessment, with an optional opinion (审批意见); the referral
    can then be routed."""
    _decide_assessment(referral, data, actor)


def reject_assessment(referral: Referral, data: dict, actor) -> None:
    """Send the assessment back with the approver's opinion (its required reason); the assessor
    writes a new one (the old one stays on record with that opinion)."""
    referral.assessment.approval_opinion = data["reason"]


def not_refer(referral: Referral, data: dict, actor) -> None:
    """Approve an assessment that finds nothing to refer; the referral ends here."""
    _decide_assessment(referral, data, actor)
    referral.closed_at = utcnow()


def route_referral(referral: Referral, data: dict, actor) -> Outcome:
    """Create one assignment per chosen agency (none twice while one is still running)."""
    running = {a.agency_id for a in referral.assignments if not assignment_ended(a)}
    created = []
    for choice in data["agencies"]:
        agency = choice["agency"]
        if agency.id in running:
            raise DomainError(_("%(agency)s is already handling this referral", agency=agency.name), field="agencies")
        created.append(create_assignment(referral, agency, choice["reason"], actor))
    referral.routed_at = utcnow()
    return Outcome(notice_subjects=created, created=created,
                   payload={"assignment_ids": [a.id for a in created]})


def create_assignment(referral: Referral, agency, reason: str, actor, *, transferred_from=None) -> Assignment:
    initial = declarations().assignment_lifecycle(agency.kind).initial
    assignment = Assignment(referral=referral, agency=agency, routing_reason=reason, state=initial,
                            routed_at=utcnow(), transferred_from=transferred_from)
    db.session.add(assignment)
    db.session.flush()
    record_event("assignment.create", actor, assignment, to_state=initial,
                 payload={"referral_id": referral.id, "agency": agency.code, "reason": reason,
                          "transferred_from": transferred_from.id if transferred_from else None})
    return assignment


def withdraw_referral(referral: Referral, data: dict, actor) -> None:
    """The referring department withdraws the referral before routing."""
    referral.closed_at = utcnow()


def reopen_referral(referral: Referral, data: dict, actor) -> None:
    """New material: the referral goes back to the assessors."""
    stamp = utcnow().strftime("%Y-%m-%d")
    referral.summary = f"{referral.summary}\n\n[{stamp}] {data['material']}".strip()
    referral.closed_at = None


def all_received(referral: Referral, data: dict, actor) -> None:
    """Every agency has received the referral; the department waits for feedback."""


def close_referral(referral: Referral, data: dict, actor) -> None:
    """Every assignment has ended."""
    referral.closed_at = utcnow()


SERVICES = {
    "submit": submit_referral, "start_assessment": start_assessment, "assess": assess_referral,
    "approve_assessment": approve_assessment, "reject_assessment": reject_assessment, "not_refer": not_refer,
    "route": route_referral, "withdraw": withdraw_referral, "reopen": reopen_referral,
    "all_received": all_received, "close": close_referral,
}
