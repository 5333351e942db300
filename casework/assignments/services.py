"""Services behind the assignment's transitions (workflows/assignment*.toml).

The engine checks state, role, agency, guards and fields before calling these, then writes the
transition's audit event, starts and stops clocks and issues the declared notice.
"""
from __future__ import annotations

from datetime import datetime, time, timezone

from casework.assignments.models import Assignment, AssignmentNote, Disposition, DispositionAction
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.extensions import db
from casework.referrals.lifecycle import create_assignment
from casework.workflow import clocks
from casework.workflow.lifecycles import Outcome
from casework.workflow.models import ClockExtension, Reconsideration


def nothing(assignment: Assignment, data: dict, actor) -> None:
    """A step that only changes the state (the engine records it)."""


def receive_assignment(assignment: Assignment, data: dict, actor) -> None:
    """签收: the agency acknowledges the referral; a receipt is issued."""
    assignment.received_at = utcnow()
    assignment.officer = actor


def accept_assignment(assignment: Assignment, data: dict, actor) -> None:
    """受理 (police: 立案): the agency takes the case on."""
    assignment.accepted_at = utcnow()
    assignment.decision_reason = data.get("reason", "")


def refuse_assignment(assignment: Assignment, data: dict, actor) -> None:
    """不予受理 / 不予立案 / 退回补充材料, with reasons in writing (a new proposal: no approver's
    opinion on it yet)."""
    assignment.decision_reason = data["reason"]
    assignment.approval_opinion = ""


def supplement_assignment(assignment: Assignment, data: dict, actor) -> None:
    """The referring department adds the material asked for and sends the referral again."""
    _note(assignment, actor, f"补充材料：{data['material']}")
    assignment.received_at = None


def transfer_assignment(assignment: Assignment, data: dict, actor) -> Outcome:
    """移送管辖: a new assignment for the competent agency, linked to this one."""
    assignment.decision_reason = data["reason"]
    assignment.closed_at = utcnow()
    successor = create_assignment(assignment.referral, data["agency"], data["reason"], actor,
                                  transferred_from=assignment)
    return Outcome(notice_subjects=[successor], created=[successor],
                   payload={"successor_id": successor.id})


def add_note(assignment: Assignment, data: dict, actor) -> Outcome:
    """An investigation note."""
    note = _note(assignment, actor, data["body"])
    return Outcome(payload={"note_id": note.id})


def _note(assignment: Assignment, actor, body: str) -> AssignmentNote:
    note = AssignmentNote(assignment_id=assignment.id, author=actor, body=body)
    db.session.add(note)
    db.session.flush()
    return note


def propose_disposition(assignment: Assignment, data: dict, actor) -> Outcome:
    """A proposal with one disposal action per chosen target, from the agency kind's catalogue."""
    disposition = Disposition(assignment=assignment, summary=data["summary"],
                              legal_basis=data.get("legal_basis", ""), proposed_by=actor,
                              actions=[DispositionAction(target=c["target"], action=c["action"])
                                       for c in data["actions"]])
    db.session.add(disposition)
    db.session.flush()
    record_event("disposition.create", actor, disposition, to_state="proposed",
                 payload={"assignment_id": assignment.id,
                          "actions": [{"target_id": a.target_id, "action": a.action} for a in disposition.actions]})
    return Outcome(payload={"disposition_id": disposition.id})


def _stamp_decision(decided, actor, state: str, note: str = ""):
    """Record a second person's decision on a disposition or an extension request."""
    decided.state = state
    decided.decided_by = actor
    decided.decided_at = utcnow()
    decided.decision_note = note
    return decided


def _decide_disposition(assignment: Assignment, actor, state: str, note: str = "") -> Disposition:
    return _stamp_decision(assignment.disposition, actor, state, note)


def approve_disposition(assignment: Assignment, data: dict, actor) -> Outcome:
    """A second person of the approver role approves (never the proposer: guard not_proposer),
    with an optional opinion (审批意见)."""
    disposition = _decide_disposition(assignment, actor, "approved", data.get("opinion", ""))
    assignment.disposed_at = utcnow()
    return Outcome(payload={"disposition_id": disposition.id})


def approve_decline_filing(assignment: Assignment, data: dict, actor) -> None:
    """A second person approves the refusal to file, with an optional opinion (审批意见)."""
    assignment.approval_opinion = data.get("opinion", "")


def approve_no_penalty(assignment: Assignment, data: dict, actor) -> None:
    """A second person approves the decision not to penalise, with an optional opinion: the
    disposition is decided."""
    assignment.disposed_at = utcnow()
    assignment.approval_opinion = data.get("opinion", "")


def reject_decision(assignment: Assignment, data: dict, actor) -> None:
    """The approver refuses a proposed refusal to file or no penalty: its reasons no longer stand,
    the approver's opinion (the required reason) is kept."""
    assignment.decision_reason = ""
    assignment.approval_opinion = data["reason"]


def reject_disposition(assignment: Assignment, data: dict, actor) -> Outcome:
    """The approver sends the proposal back to the investigation."""
    disposition = _decide_disposition(assignment, actor, "rejected", data["reason"])
    return Outcome(payload={"disposition_id": disposition.id})


def record_execution(assignment: Assignment, data: dict, actor) -> None:
    """The outcome per disposal action: done / partial / failed, and when."""
    for item in data["outcomes"]:
        action = item["action"]
        action.outcome = item["outcome"]
        action.executed_at = datetime.combine(item["executed_at"], time(12), tzinfo=timezone.utc)
        action.note = item["note"]


def send_feedback(assignment: Assignment, data: dict, actor) -> None:
    """反馈: the agency reports back to the referring department."""
    assignment.feedback_at = utcnow()
    _note(assignment, actor, f"反馈：{data['summary']}")


def close_assignment(assignment: Assignment, data: dict, actor) -> None:
    """The referring department acknowledges the feedback (or the chain ends otherwise)."""
    assignment.closed_at = utcnow()


def request_reconsideration(assignment: Assignment, data: dict, actor) -> Outcome:
    """复议: the referring department asks the agency to reconsider its refusal."""
    request = Reconsideration(assignment_id=assignment.id, reason=data["reason"], requested_by=actor)
    db.session.add(request)
    db.session.flush()
    return Outcome(payload={"reconsideration_id": request.id})


def _answer_reconsideration(assignment: Assignment, data: dict, actor, outcome: str) -> Outcome:
    request = _open_reconsideration(assignment)
    request.outcome = outcome
    request.answer = data["reason"]
    request.answered_by = actor
    request.answered_at = utcnow()
    return Outcome(payload={"reconsideration_id": request.id})


def _open_reconsideration(assignment: Assignment) -> Reconsideration:
    return db.session.query(Reconsideration).filter_by(assignment_id=assignment.id, outcome=None) \
        .order_by(Reconsideration.id.desc()).first()


def uphold_refusal(assignment: Assignment, data: dict, actor) -> Outcome:
    """The agency keeps its refusal after reconsideration."""
    assignment.closed_at = utcnow()
    return _answer_reconsideration(assignment, data, actor, "upheld")


def reverse_refusal(assignment: Assignment, data: dict, actor) -> Outcome:
    """The agency reverses its refusal and takes the case on."""
    assignment.accepted_at = utcnow()
    return _answer_reconsideration(assignment, data, actor, "reversed")


def end_with_refusal(assignment: Assignment, data: dict, actor) -> None:
    """The refusal stands without reconsideration."""
    assignment.closed_at = utcnow()


def request_extension(assignment: Assignment, data: dict, actor) -> Outcome:
    """Ask for more time on the running clock this agency answers for."""
    clock = clocks.extendable_clock(assignment)
    request = ClockExtension(clock=clock, amount=data["amount"], reason=data["reason"], requested_by=actor)
    db.session.add(request)
    db.session.flush()
    return Outcome(payload={"extension_id": request.id, "clock": clock.rule})


def _decide_extension(assignment: Assignment, actor, state: str, note: str = "") -> ClockExtension:
    return _stamp_decision(clocks.pending_extension(assignment), actor, state, note)


def approve_extension(assignment: Assignment, data: dict, actor) -> Outcome:
    """A second person approves; the clock's due date moves by the amount, in the clock's unit."""
    request = _decide_extension(assignment, actor, "approved", data.get("opinion", ""))
    clocks.extend_clock(request.clock, request.amount)
    return Outcome(payload={"extension_id": request.id, "due_at": request.clock.due_at.isoformat()})


def reject_extension(assignment: Assignment, data: dict, actor) -> Outcome:
    request = _decide_extension(assignment, actor, "rejected", data["reason"])
    return Outcome(payload={"extension_id": request.id})


SERVICES = {
    "receive": receive_assignment, "accept": accept_assignment, "file_case": accept_assignment,
    "decline": refuse_assignment, "decline_filing": refuse_assignment, "return_for_material": refuse_assignment,
    "supplement": supplement_assignment, "transfer": transfer_assignment, "start_investigation": nothing,
    "open_case": nothing, "add_note": add_note, "propose_disposition": propose_disposition,
    "approve_disposition": approve_disposition, "reject_disposition": reject_disposition,
    "record_execution": record_execution, "decide_no_penalty": refuse_assignment, "send_feedback": send_feedback,
    "approve_decline_filing": approve_decline_filing, "reject_decline_filing": reject_decision,
    "approve_no_penalty": approve_no_penalty, "reject_no_penalty": reject_decision,
    "close": close_assignment, "request_reconsideration": request_reconsideration,
    "accept_refusal": end_with_refusal, "lapse_reconsideration": end_with_refusal,
    "uphold_refusal": uphold_refusal, "reverse_refusal": reverse_refusal,
    "request_extension": request_extension, "approve_extension": approve_extension,
    "reject_extension": reject_extension,
}
