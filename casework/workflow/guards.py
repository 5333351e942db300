"""Named guard conditions. Each returns None when it holds, or the failed condition in words."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import case, func, select

from casework.assignments.models import Assignment
from casework.audit.models import AuditEvent
from casework.db_types import utcnow
from casework.extensions import db
from casework.workflow import clocks
from casework.workflow.messages import _
from workflows import declarations


def has_targets(obj, actor, data) -> str | None:
    referral = getattr(obj, "referral", obj)
    return None if referral.target_links else _("the referral names no target")


def not_assessor(obj, actor, data) -> str | None:
    assessment = obj.assessment
    if assessment is None:
        return _("there is no assessment to decide on")
    return _("the assessor cannot approve their own assessment") if assessment.assessor_id == actor.id else None


def assessment_recommends_referral(obj, actor, data) -> str | None:
    assessment = obj.assessment
    return None if assessment and assessment.conclusion == "refer" else _("the assessment does not recommend referral")


def assessment_finds_no_referral(obj, actor, data) -> str | None:
    assessment = obj.assessment
    return None if assessment and assessment.conclusion != "refer" else _("the assessment recommends referral")


def _assignment_tally(referral) -> tuple[int, int, int]:
    """How many assignments the referral has, how many of them are still running (not in a declared
    terminal state) and how many of those are not received yet: one aggregate query, no rows loaded."""
    running = Assignment.state.not_in(sorted(declarations().terminal_states("assignment")))
    unreceived = running & Assignment.received_at.is_(None)
    total, still_running, not_received = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((running, 1), else_=0)), 0),
               func.coalesce(func.sum(case((unreceived, 1), else_=0)), 0))
        .where(Assignment.referral_id == referral.id)).one()
    return total, still_running, not_received


def all_assignments_received(obj, actor, data) -> str | None:
    total, _running, not_received = _assignment_tally(obj)
    return None if total and not not_received else _("not every agency has received the referral")


def all_assignments_ended(obj, actor, data) -> str | None:
    total, running, _not_received = _assignment_tally(obj)
    return None if total and not running else _("some assignments are still running")


def not_proposer(obj, actor, data) -> str | None:
    disposition = obj.disposition
    if disposition is None or disposition.state != "proposed":
        return _("there is no proposed disposition")
    if disposition.proposed_by_id == actor.id:
        return _("nobody approves their own proposal: a second person must decide")
    return None


def not_decision_proposer(obj, actor, data) -> str | None:
    """A proposed decision (the step that led to the current state) is decided by someone else."""
    proposer = db.session.scalar(
        select(AuditEvent.actor_id).where(AuditEvent.object_type == obj.audit_type, AuditEvent.object_id == obj.id,
                                          AuditEvent.to_state == obj.state, AuditEvent.outcome == "ok")
        .order_by(AuditEvent.seq.desc()).limit(1))
    if actor is not None and proposer == actor.id:
        return _("nobody decides on their own proposal: a second person must decide")
    return None


def reconsideration_window_open(obj, actor, data) -> str | None:
    clock = clocks.running_clock(obj, "reconsideration_window")
    if clock is None or clock.due_at < utcnow():
        return _("the window to ask for reconsideration has closed")
    return None


def running_agency_clock(obj, actor, data) -> str | None:
    return None if clocks.extendable_clock(obj) is not None else _("no time limit of this agency is running")


def no_pending_extension(obj, actor, data) -> str | None:
    return _("an extension request is already pending") if clocks.pending_extension(obj) is not None else None


def pending_extension(obj, actor, data) -> str | None:
    return None if clocks.pending_extension(obj) is not None else _("no extension request is pending")


def not_extension_requester(obj, actor, data) -> str | None:
    request = clocks.pending_extension(obj)
    if request is not None and request.requested_by_id == actor.id:
        return _("nobody approves their own extension request")
    return None


GUARDS: dict[str, Callable] = {
    fn.__name__: fn for fn in (
        has_targets, not_assessor, assessment_recommends_referral, assessment_finds_no_referral,
        all_assignments_received, all_assignments_ended, not_proposer, not_decision_proposer,
        reconsideration_window_open,
        running_agency_clock, no_pending_extension, pending_extension, not_extension_requester,
    )
}
