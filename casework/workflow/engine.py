"""The workflow engine: runs the declared lifecycles (workflows/*.toml) on the ORM objects.

A ``transitions.Machine`` is built for each fire around a thin adapter of the object, with the
object's current state as the initial state; no machine outlives the call or holds a model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import current_app, has_app_context
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from transitions import Machine

from casework.accounts.roles import role_label
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import ConflictError, DomainError, NotAllowed
from casework.extensions import db
from casework.workflow import clocks
from casework.workflow.fields import FieldSpec, clean_fields, field_specs, plain
from casework.workflow.guards import GUARDS
from casework.text import language
from casework.workflow.messages import _
from workflows import Lifecycle, Transition, declarations

__all__ = ["FieldSpec", "TriggerInfo", "Outcome", "available_triggers", "fire", "lifecycle_for"]

CONFLICT_MESSAGE = "changed by someone else, reload"

# Called after every transition, in its transaction: (obj, trigger, from_state, actor, created objects).
AFTER_TRANSITION: list[Callable] = []


def on_transition(callback: Callable) -> None:
    """Register ``callback`` to run after every transition (registered at app creation)."""
    if callback not in AFTER_TRANSITION:
        AFTER_TRANSITION.append(callback)


@dataclass(frozen=True)
class TriggerInfo:
    name: str
    label: str
    fields: tuple[FieldSpec, ...]
    confirm: bool
    style: str


@dataclass
class Outcome:
    """What a service reports back: objects a notice is issued for, new assignments, audit extras."""

    notice_subjects: list | None = None
    created: list = field(default_factory=list)
    payload: dict = field(default_factory=dict)


class _StateAdapter:
    """What the Machine sees: only the ``state`` of the ORM object."""

    def __init__(self, obj):
        self._obj = obj

    @property
    def state(self) -> str:
        return self._obj.state

    @state.setter
    def state(self, value: str) -> None:
        if self._obj.state != value:
            self._obj.state = value


def lifecycle_for(obj) -> Lifecycle:
    """The declaration the object follows: the referral's, or its agency kind's assignment variant."""
    if obj.audit_type == "referral":
        return declarations().lifecycle("referral")
    return declarations().lifecycle(f"assignment.{obj.agency.kind}")


def assignment_ended(assignment) -> bool:
    return assignment.state in lifecycle_for(assignment).final_states()


def locale() -> str:
    """The language workflow labels are picked in (``casework.text.language``)."""
    return language()


def _services(subject: str) -> dict[str, Callable]:
    if subject == "referral":
        from casework.referrals.lifecycle import SERVICES
    else:
        from casework.assignments.services import SERVICES
    return SERVICES


def service_for(subject: str, trigger: str) -> Callable:
    return _services(subject)[trigger]


def _state_label(lc: Lifecycle, state: str) -> str:
    found = lc.states.get(state)
    return found.label.pick(locale()) if found else state


def _party_refusal(obj, transition: Transition, actor) -> str | None:
    referral = getattr(obj, "referral", obj)
    if transition.party == "agency":
        if actor.agency_id != obj.agency_id:
            return _("only %(agency)s handles this assignment", agency=obj.agency.name)
        return None
    origin = referral.origin_agency
    if actor.agency.kind == "education" and (actor.agency_id == origin.id or actor.agency.is_above(origin)):
        return None
    return _("only the referring department %(agency)s (or the one supervising it) may do this", agency=origin.name)


def _actor_refusal(obj, transition: Transition, actor) -> str | None:
    label = transition.label.pick(locale())
    if transition.system:
        return None if actor is None else _("'%(action)s' happens automatically, nobody fires it", action=label)
    if actor is None:
        return _("'%(action)s' needs a signed-in user", action=label)
    if not actor.has_role(*transition.roles):
        return _("'%(action)s' needs the role %(roles)s", action=label,
                 roles=" / ".join(role_label(role) for role in transition.roles))
    return _party_refusal(obj, transition, actor)


def _guard_refusal(obj, transition: Transition, actor, data: dict) -> str | None:
    """Why a guard of the transition refuses, in the user's words (not the guard's internal name)."""
    for name in transition.guards:
        failed = GUARDS[name](obj, actor, data)
        if failed:
            return _("'%(action)s' is not possible: %(reason)s", action=transition.label.pick(locale()),
                     reason=failed)
    return None


def available_triggers(obj, user) -> list[TriggerInfo]:
    """The actions ``user`` may fire on ``obj`` now (state, role, agency and guards all allow it)."""
    lc = lifecycle_for(obj)
    found = []
    for transition in lc.transitions:
        if obj.state not in transition.sources or transition.system:
            continue
        if _actor_refusal(obj, transition, user) or _guard_refusal(obj, transition, user, {}):
            continue
        found.append(TriggerInfo(transition.trigger, transition.label.pick(locale()),
                                 field_specs(transition, obj, user, locale()),
                                 transition.confirm, transition.style))
    return found


def fire(obj, trigger: str, data: dict, actor, *, expected_version: int | None = None):
    """Validate ``data`` against the trigger's fields (ValidationFailed with per-field errors), check
    state/role/agency/guards (DomainError subclass with a clear message and an ``audit`` dict so the
    refusal is recorded), check expected_version (ConflictError), run the service, write the audit
    event, start/stop clocks, issue the declared notice. Flushes, never commits."""
    lc = lifecycle_for(obj)
    data = data if data is not None else {}
    audit = {"event": f"{obj.audit_type}.{trigger}", "actor": actor, "obj": obj, "trigger": trigger,
             "from_state": obj.state, "actor_name": None if actor else "system"}
    if trigger not in lc.triggers():
        raise DomainError(_("unknown action '%(action)s'", action=trigger), audit=audit)
    transition = lc.transition(trigger, obj.state)
    if transition is None:
        label = next(t.label for t in lc.transitions if t.trigger == trigger).pick(locale())
        raise DomainError(_("'%(action)s' is not allowed while the case is '%(state)s'",
                            action=label, state=_state_label(lc, obj.state)), audit=audit)
    if expected_version is not None and int(expected_version) != obj.version:
        raise ConflictError(_(CONFLICT_MESSAGE), audit={**audit, "outcome": "conflict"})
    refusal = _actor_refusal(obj, transition, actor)
    if refusal:
        raise NotAllowed(refusal, audit=audit)
    cleaned = clean_fields(transition, obj, actor, data)
    refusal = _guard_refusal(obj, transition, actor, cleaned)
    if refusal:
        raise DomainError(refusal, audit=audit)
    try:
        _apply(obj, lc, transition, cleaned, actor)
        if obj.audit_type == "assignment":
            run_automatic(obj.referral)
    except StaleDataError as exc:
        raise ConflictError(_(CONFLICT_MESSAGE)) from exc
    except OperationalError as exc:
        if "locked" in str(exc).lower():
            raise ConflictError(_(CONFLICT_MESSAGE)) from exc
        raise
    return obj


def _apply(obj, lc: Lifecycle, transition: Transition, cleaned: dict, actor) -> None:
    from_state = obj.state
    results: list[Outcome | None] = []
    service = service_for(lc.subject, transition.trigger)
    machine = Machine(model=_StateAdapter(obj), states=list(lc.states), initial=obj.state,
                      auto_transitions=False)
    machine.add_transition(transition.trigger, list(transition.sources), transition.dest,
                           before=lambda: results.append(service(obj, cleaned, actor)))
    getattr(machine.model, transition.trigger)()
    outcome = results[0] or Outcome()
    db.session.flush()
    now = utcnow()
    for rule in transition.stops:
        clocks.stop_clock(obj, rule, now=now)
    for rule in transition.starts:
        clocks.start_clock(obj, rule, now=now)
    for created in outcome.created:
        for rule in lifecycle_for(created).initial_clocks:
            clocks.start_clock(created, rule, now=now)
        clocks.sync_subject(created)
    clocks.sync_subject(obj)
    payload = {**plain(cleaned), **outcome.payload}
    record_event(f"{obj.audit_type}.{transition.trigger}", actor, obj, trigger=transition.trigger,
                 from_state=from_state, to_state=obj.state, payload=payload,
                 actor_name=None if actor else "system")
    for callback in AFTER_TRANSITION:
        callback(obj, transition.trigger, from_state, actor, outcome.created)
    db.session.flush()
    if transition.notice:
        subjects = outcome.notice_subjects if outcome.notice_subjects is not None else [obj]
        for subject in subjects:
            issue_notice(transition.notice, subject, actor, payload)


def issue_notice(kind: str, subject, actor, data: dict) -> None:
    """Issue the transition's notice in the same transaction (``ISSUE_NOTICES`` off only in tests
    that exercise the machine alone, where rendering hundreds of PDFs adds nothing)."""
    if not current_app.config.get("ISSUE_NOTICES", True):
        return
    from casework.notices.services import issue_notice as issue

    issue(kind, subject, actor, data)


def run_automatic(referral) -> None:
    """Fire the referral's automatic transitions whose guards hold (e.g. close once all assignments ended)."""
    lc = lifecycle_for(referral)
    moved = True
    while moved:
        moved = False
        for transition in lc.transitions:
            if transition.auto and referral.state in transition.sources \
                    and _guard_refusal(referral, transition, None, {}) is None:
                _apply(referral, lc, transition, {}, None)
                moved = True
                break


def fire_system(obj, trigger: str, data: dict | None = None):
    """Fire a system transition (sweep, automatic steps): no user, still audited."""
    return fire(obj, trigger, data or {}, None)
