"""Display names of states, triggers, choices and disposal actions.

States, triggers, choice values and kinds are named in ``workflows/*.toml`` in both languages and
read from ``workflows.declarations()``; those names are shown as they are. Audit events outside
the workflow get catalogue strings.
"""
from __future__ import annotations

import functools

from flask_babel import lazy_gettext as _l

from casework.text import language
from workflows import Declarations, declarations

EVENT_LABELS = {
    "referral.create": _l("Referral opened"),
    "referral.update": _l("Referral edited"),
    "referral.add_target": _l("Target added"),
    "referral.remove_target": _l("Target removed"),
    "evidence.upload": _l("Evidence attached"),
    "evidence.download": _l("Evidence downloaded"),
    "notice.issue": _l("Notice issued"),
    "target.create": _l("Target registered"),
    "target.update": _l("Target details completed"),
    "assessment.create": _l("Assessment recorded"),
    "assignment.create": _l("Routed to an agency"),
    "referral.claim": _l("Claimed"),
    "assignment.claim": _l("Claimed"),
    "referral.assign": _l("Assigned to an officer"),
    "assignment.assign": _l("Assigned to an officer"),
    "referral.release": _l("Back to the desk"),
    "assignment.release": _l("Back to the desk"),
    "disposition.create": _l("Disposition proposed"),
    "notice.download": _l("Notice downloaded"),
    "referral.import_targets": _l("Targets imported"),
    "referral.target_back_online": _l("A target is back online"),
    "clock.overdue": _l("Time limit passed"),
    "reminder.queue": _l("Reminder queued"),
}
DISPOSITION_STATE_LABELS = {
    "proposed": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
CLOCK_UNIT_LABELS = {
    "working_days": _l("working days"),
    "calendar_days": _l("days"),
    "hours": _l("hours"),
}


def join_words(items, label=str, strong: bool = False) -> str:
    """A list in the user's language, each item through ``label``: 甲、乙 / a, b (``strong``: 甲；乙 / a; b)."""
    if language() == "zh":
        separator = "；" if strong else "、"
    else:
        separator = "; " if strong else ", "
    return separator.join(str(label(item)) for item in items)


def clock_unit_label(unit: str) -> str:
    return str(CLOCK_UNIT_LABELS.get(unit, unit))


def state_label(state: str | None, kind: str | None = None) -> str:
    """``kind``: the agency kind of an assignment (a per-kind workflow may rename a state)."""
    if not state:
        return ""
    return _state_label(declarations(), state, kind, language())


@functools.cache
def _state_label(found: Declarations, state: str, kind: str | None, lang: str) -> str:
    subject = "assignment" if kind else "referral"
    for lc in found.lookup_order(subject, kind):
        if state in lc.states:
            return lc.states[state].label.pick(lang)
    return state.replace("_", " ")


def disposition_state_label(state: str | None) -> str:
    return str(DISPOSITION_STATE_LABELS.get(state, state or ""))


def object_state_label(object_type: str | None, state: str | None, kind: str | None = None) -> str:
    """A state named in an audit event, read in the lifecycle of the event's object
    (``kind``: the agency kind of an assignment)."""
    if object_type == "disposition":
        return disposition_state_label(state)
    return state_label(state, kind if object_type == "assignment" else None)


def all_states() -> list[tuple[str, str]]:
    """(state, label) of the referral and assignment lifecycles, for filters."""
    seen: dict[str, str] = {}
    for lc in declarations().subject_lifecycles("referral") + declarations().subject_lifecycles("assignment"):
        for state in lc.states:
            seen.setdefault(state, state_label(state))
    return list(seen.items())


def trigger_label(trigger: str | None, object_type: str | None = None, kind: str | None = None) -> str:
    """A trigger's name in the lifecycle of the object it fired on (``kind``: the agency kind of an
    assignment; the same trigger can mean different steps for police and for market regulators)."""
    if not trigger:
        return ""
    return _trigger_label(declarations(), trigger, object_type, kind if object_type == "assignment" else None,
                          language())


@functools.cache
def _trigger_label(found: Declarations, trigger: str, object_type: str | None, kind: str | None, lang: str) -> str:
    for lc in found.lookup_order(object_type, kind):
        transition = next((t for t in lc.transitions if t.trigger == trigger), None)
        if transition is not None:
            return transition.label.pick(lang)
    return trigger.replace("_", " ")


def field_label(trigger: str | None, name: str, object_type: str | None = None, kind: str | None = None) -> str:
    """The label of the form field ``name`` of a trigger, in the lifecycle of the object it fired on
    (e.g. 审批意见 for an approver's ``opinion``); "" when the trigger declares no such field."""
    if not trigger:
        return ""
    return _field_label(declarations(), trigger, name, object_type, kind if object_type == "assignment" else None,
                        language())


@functools.cache
def _field_label(found: Declarations, trigger: str, name: str, object_type: str | None, kind: str | None,
                 lang: str) -> str:
    for lc in found.lookup_order(object_type, kind):
        transition = next((t for t in lc.transitions if t.trigger == trigger), None)
        if transition is not None:
            return next((f.label.pick(lang) for f in transition.fields if f.name == name), "")
    return ""


def agency_kind_label(kind: str | None) -> str:
    """An agency kind's name (workflows/kinds.toml)."""
    found = declarations().agency_kinds.get(kind or "")
    return found.label.pick(language()) if found else (kind or "")


def target_kind_label(kind: str | None) -> str:
    """A target kind's name (workflows/kinds.toml)."""
    found = declarations().target_kinds.get(kind or "")
    return found.pick(language()) if found else (kind or "")


def choice_label(value: str | None) -> str:
    """A value of a named choice list or a disposal action (choices.toml, dispositions.toml)."""
    if not value:
        return ""
    found = declarations()
    for group in (*found.choices.values(), *found.dispositions.values()):
        if value in group:
            return group[value].pick(language())
    return value.replace("_", " ")


def event_label(event: str, trigger: str | None = None, object_type: str | None = None,
                kind: str | None = None) -> str:
    """What an audit event records, in words (a workflow step by its trigger, read in the lifecycle
    of the event's object)."""
    if event in EVENT_LABELS:
        return str(EVENT_LABELS[event])
    if trigger:
        return trigger_label(trigger, object_type, kind)
    return event
