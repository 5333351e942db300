"""The workflow engine: ``transitions`` runs the declared lifecycles (workflows/*.toml).

One ``Machine`` per lifecycle, built once per set of declarations with no model of its own. Each
fire or question wraps the ORM object in a ``Subject`` (the machine's model for that call) and runs
the event on it: the actor's role and party, the fields and the named guards are the transition's
``conditions``; the domain service registered for the trigger is its ``before`` callback; clocks,
the audit event and the declared notice are its ``after`` callbacks. Domain packages register
their services at app creation (``register_services``), so the engine imports none of them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from flask import current_app
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from transitions import EventData, Machine
from transitions import Transition as MachineTransition

from casework.accounts.roles import role_label
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import ConflictError, DomainError, NotAllowed
from casework.extensions import db
from casework.notices import services as notices
from casework.text import language
from casework.workflow import clocks
from casework.workflow.fields import FieldSpec, clean_fields, field_specs, plain
from casework.workflow.guards import GUARDS
from casework.workflow.lifecycles import Outcome, assignment_ended, lifecycle_for
from casework.workflow.messages import _
from casework.workflow.moved_on import moved_on_refusal, stale_version_refusal
from casework.workflow.models import Clock, ClockExtension
from workflows import DeclarationError, Declarations, Lifecycle, Transition, declarations

__all__ = ["FieldSpec", "TriggerInfo", "Outcome", "available_triggers", "fire", "lifecycle_for",
           "assignment_ended", "register_services", "build_machines", "on_transition", "moved_on_step"]

_SERVICES: dict[str, dict[str, Callable]] = {"referral": {}, "assignment": {}}

# Run after every transition's audit event, in its transaction: (obj, trigger, from_state, actor,
# created objects). Other areas (ownership, notifications) register at app creation.
AFTER_TRANSITION: list[Callable] = []


def on_transition(callback: Callable) -> None:
    """Register ``callback`` to run after every transition."""
    if callback not in AFTER_TRANSITION:
        AFTER_TRANSITION.append(callback)


@dataclass(frozen=True)
class TriggerInfo:
    name: str
    label: str
    fields: tuple[FieldSpec, ...]
    confirm: bool
    style: str


def register_services(subject: str, services: dict[str, Callable]) -> None:
    """Run ``services[trigger](obj, cleaned_data, actor)`` when ``trigger`` fires on a ``subject``
    ("referral" or "assignment"); a trigger without a service only changes the state. Called at app
    creation; a service named for a trigger no lifecycle declares is a ``DeclarationError``."""
    declared = {t.trigger for lc in declarations().subject_lifecycles(subject) for t in lc.transitions}
    unknown = set(services) - declared
    if unknown:
        raise DeclarationError(f"services for undeclared {subject} triggers: {sorted(unknown)}")
    _SERVICES[subject].update(services)


def service_for(subject: str, trigger: str) -> Callable | None:
    return _SERVICES[subject].get(trigger)


class Subject:
    """The machine's model for one fire or one question: the ORM object's state, who acts, the data
    sent (None: only asking whether the actor may fire), and what the conditions and callbacks found."""

    def __init__(self, obj, actor, data=None):
        self.obj, self.actor, self.data = obj, actor, data
        self.cleaned: dict = {}
        self.refusal: tuple[type[DomainError], str] | None = None
        self.outcome = Outcome()
        self.payload: dict = {}
        self.from_state = obj.state

    @property
    def state(self) -> str:
        return self.obj.state

    @state.setter
    def state(self, value: str) -> None:
        if self.obj.state != value:
            self.obj.state = value


class DeclaredTransition(MachineTransition):
    """A transition of the machine that carries its declaration (``declared``)."""

    def __init__(self, *args, declared: Transition, **kwargs):
        super().__init__(*args, **kwargs)
        self.declared = declared


class LifecycleMachine(Machine):
    transition_cls = DeclaredTransition

    def index_choices(self) -> None:
        """Per state, the transitions a person may choose from it, in declaration order (the machine's
        own ``get_triggers``, asked once per state when the machine is built)."""
        self.choices = {state: tuple(t for trigger in self.get_triggers(state)
                                     for t in self.events[trigger].transitions[state] if not t.declared.system)
                        for state in self.states}


# Conditions: each returns True when it holds, else records why on the subject and returns False.

def _actor_allowed(event: EventData) -> bool:
    subject = event.model
    refusal = _actor_refusal(subject.obj, event.transition.declared, subject.actor)
    if refusal:
        subject.refusal = (NotAllowed, refusal)
    return refusal is None


def _fields_clean(event: EventData) -> bool:
    """Clean the submitted data (ValidationFailed lists every problem); questions send none."""
    subject = event.model
    if subject.data is not None:
        subject.cleaned = clean_fields(event.transition.declared, subject.obj, subject.actor, subject.data)
    return True


def _guard_holds(guard: Callable, event: EventData) -> bool:
    subject = event.model
    failed = guard(subject.obj, subject.actor, subject.cleaned)
    if failed:
        label = event.transition.declared.label.pick(language())
        subject.refusal = (DomainError, _("'%(action)s' is not possible: %(reason)s", action=label, reason=failed))
    return not failed


# Callbacks: the service before the state changes; clocks, audit and notice after.

def _run_service(event: EventData) -> None:
    subject = event.model
    service = service_for(subject.obj.audit_type, event.event.name)
    if service is not None:
        subject.outcome = service(subject.obj, subject.cleaned, subject.actor) or Outcome()


def _clocks_touched(session) -> bool:
    """Whether the step's service started, changed or extended a clock itself."""
    return any(isinstance(o, (Clock, ClockExtension)) for o in (*session.new, *session.dirty))


def _run_clocks(event: EventData) -> None:
    """Stop and start the declared clocks and copy the earliest due date onto the subject: the
    subject's running clocks read once (with their extensions), written with the step's own changes
    at the next flush; nothing read when the step touches no clock."""
    subject, transition = event.model, event.transition.declared
    obj, session, now = subject.obj, db.session, utcnow()
    touched = _clocks_touched(session)
    if subject.outcome.created or touched:
        session.flush()  # new items need their ids for their clocks; clocks the service changed are read back
    if transition.stops or transition.starts or touched:
        with session.no_autoflush:  # the step's changes are written together at the next flush
            running = clocks.running_clocks(obj)
            for rule in transition.stops:
                clocks.stop_clock(obj, rule, now=now, running=running)
            for rule in transition.starts:
                clocks.start_clock(obj, rule, now=now, running=running)
            clocks.sync_subject(obj, running)
    for created in subject.outcome.created:
        running = clocks.running_clocks(created)
        for rule in lifecycle_for(created).initial_clocks:
            clocks.start_clock(created, rule, now=now, running=running)
        clocks.sync_subject(created, running)


def _record(event: EventData) -> None:
    subject, transition = event.model, event.transition.declared
    subject.payload = {**plain(subject.cleaned), **subject.outcome.payload}
    record_event(f"{subject.obj.audit_type}.{transition.trigger}", subject.actor, subject.obj,
                 trigger=transition.trigger, from_state=subject.from_state, to_state=subject.obj.state,
                 payload=subject.payload, actor_name=None if subject.actor else "system")
    db.session.flush()


def _tell_others(event: EventData) -> None:
    subject, transition = event.model, event.transition.declared
    for callback in AFTER_TRANSITION:
        callback(subject.obj, transition.trigger, subject.from_state, subject.actor, subject.outcome.created)


def _issue_notices(event: EventData) -> None:
    subject, transition = event.model, event.transition.declared
    if transition.notice:
        targets = subject.outcome.notice_subjects
        for target in targets if targets is not None else [subject.obj]:
            issue_notice(transition.notice, target, subject.actor, subject.payload)


def _build(lc: Lifecycle) -> LifecycleMachine:
    machine = LifecycleMachine(model=None, states=list(lc.states), initial=lc.initial, auto_transitions=False,
                               send_event=True, name=lc.name)
    for t in lc.transitions:
        unknown = [name for name in t.guards if name not in GUARDS]
        if unknown:
            raise DeclarationError(f"{lc.name}: transition {t.trigger}: unknown guard {unknown[0]!r}")
        machine.add_transition(
            t.trigger, list(t.sources), t.dest, declared=t,
            conditions=[_actor_allowed, _fields_clean, *(functools.partial(_guard_holds, GUARDS[g]) for g in t.guards)],
            before=_run_service, after=[_run_clocks, _record, _tell_others, _issue_notices])
    machine.index_choices()
    return machine


@functools.cache
def machines(found: Declarations) -> dict[str, LifecycleMachine]:
    """One machine per lifecycle of ``found``, built once; an unknown guard is a DeclarationError."""
    return {name: _build(lc) for name, lc in found.lifecycles.items()}


def build_machines() -> dict[str, LifecycleMachine]:
    """The machines of the current declarations (built at app creation, which checks the guards)."""
    return machines(declarations())


def machine_for(obj) -> LifecycleMachine:
    return build_machines()[lifecycle_for(obj).name]


def _state_label(lc: Lifecycle, state: str) -> str:
    found = lc.states.get(state)
    return found.label.pick(language()) if found else state


def moved_on_step(obj, trigger: str) -> str | None:
    """The refusal of a declared ``trigger`` that ``obj``'s current state no longer allows, naming who
    moved it on and when (a page shown before that step was taken); None for any other refusal."""
    lc, machine = lifecycle_for(obj), machine_for(obj)
    if trigger not in machine.events or obj.state in machine.events[trigger].transitions:
        return None
    label = next(t.label for t in lc.transitions if t.trigger == trigger).pick(language())
    return moved_on_refusal(obj, label, _state_label(lc, obj.state))


def _party_refusal(obj, transition: Transition, actor) -> str | None:
    if transition.party == "agency":
        if actor.agency_id != obj.agency_id:
            return _("only %(agency)s handles this assignment", agency=obj.agency.name)
        return None
    referral = getattr(obj, "referral", obj)
    origin = referral.origin_agency
    if actor.agency.kind == declarations().referring_kind() and (actor.agency_id == origin.id or actor.agency.is_above(origin)):
        return None
    return _("only the referring department %(agency)s (or the one supervising it) may do this", agency=origin.name)


def _actor_refusal(obj, transition: Transition, actor) -> str | None:
    if transition.system:
        return None if actor is None else _("'%(action)s' happens automatically, nobody fires it",
                                            action=transition.label.pick(language()))
    if actor is None:
        return _("'%(action)s' needs a signed-in user", action=transition.label.pick(language()))
    if not actor.has_role(*transition.roles):
        return _("'%(action)s' needs the role %(roles)s", action=transition.label.pick(language()),
                 roles=" / ".join(role_label(role) for role in transition.roles))
    return _party_refusal(obj, transition, actor)


def available_triggers(obj, user) -> list[TriggerInfo]:
    """The actions ``user`` may fire on ``obj`` now (state, role, agency and guards all allow it):
    the conditions of each transition from the current state, evaluated as the machine evaluates
    them when the event fires (``may_<trigger>`` without binding a model to the machine)."""
    machine, locale = machine_for(obj), language()
    state = machine.get_state(obj.state)
    event = EventData(state, None, machine, Subject(obj, user), args=(), kwargs={})
    found = []
    for transition in machine.choices[state.name]:
        event.transition = transition
        if all(condition.check(event) for condition in transition.conditions):
            declared = transition.declared
            found.append(TriggerInfo(declared.trigger, declared.label.pick(locale),
                                     field_specs(declared, obj, user, locale), declared.confirm, declared.style))
    return found


def fire(obj, trigger: str, data: dict, actor, *, expected_version: int | None = None):
    """Validate ``data`` against the trigger's fields (ValidationFailed with per-field errors), check
    state/role/agency/guards (DomainError subclass with a clear message and an ``audit`` dict so the
    refusal is recorded), check expected_version (ConflictError), run the service, write the audit
    event, start/stop clocks, issue the declared notice. Flushes, never commits."""
    lc, machine = lifecycle_for(obj), machine_for(obj)
    audit = {"event": f"{obj.audit_type}.{trigger}", "actor": actor, "obj": obj, "trigger": trigger,
             "from_state": obj.state, "actor_name": None if actor else "system"}
    if trigger not in machine.events:
        raise DomainError(_("unknown action '%(action)s'", action=trigger), audit=audit)
    if obj.state not in machine.events[trigger].transitions:
        label = next(t.label for t in lc.transitions if t.trigger == trigger).pick(language())
        raise DomainError(moved_on_refusal(obj, label, _state_label(lc, obj.state)), audit=audit)
    if expected_version is not None and int(expected_version) != obj.version:
        raise ConflictError(stale_version_refusal(obj), audit={**audit, "outcome": "conflict"})
    subject = Subject(obj, actor, data if data is not None else {})
    try:
        if not machine.events[trigger].trigger(subject):
            error, message = subject.refusal
            raise error(message, audit=audit)
        if obj.audit_type == "assignment" and (obj.state != subject.from_state or subject.outcome.created):
            run_automatic(obj.referral)  # only a step that moved an assignment can let the referral move on
    except StaleDataError as exc:
        raise ConflictError() from exc
    except OperationalError as exc:
        if "locked" in str(exc).lower():
            raise ConflictError() from exc
        raise
    return obj


def issue_notice(kind: str, subject, actor, data: dict) -> None:
    """Issue the transition's notice in the same transaction (``ISSUE_NOTICES`` off only in tests
    that exercise the machine alone, where rendering hundreds of PDFs adds nothing)."""
    if current_app.config.get("ISSUE_NOTICES", True):
        notices.issue_notice(kind, subject, actor, data)


def run_automatic(referral) -> None:
    """Fire the referral's automatic transitions whose guards hold (e.g. close once all assignments ended)."""
    lc, machine = lifecycle_for(referral), machine_for(referral)
    automatic = [t for t in lc.transitions if t.auto]
    moved = True
    while moved:
        moved = any(referral.state in t.sources and machine.events[t.trigger].trigger(Subject(referral, None, {}))
                    for t in automatic)


def fire_system(obj, trigger: str, data: dict | None = None):
    """Fire a system transition (sweep, automatic steps): no user, still audited."""
    return fire(obj, trigger, data or {}, None)
