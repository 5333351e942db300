"""Display names of states, triggers, choices and disposal actions.

States, triggers and choice values are named in ``workflows/*.toml`` in both languages;
those names are shown as they are. Audit events outside the workflow get catalogue strings.
"""
from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from flask_babel import lazy_gettext as _l

from casework.text import language

WORKFLOWS_DIR = Path(__file__).resolve().parent.parent.parent / "workflows"

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
AGENCY_KIND_LABELS = {
    "education": _l("Education"),
    "cyberspace": _l("Cyberspace"),
    "telecom": _l("Telecom"),
    "police": _l("Police"),
    "market": _l("Market regulation"),
}


@functools.cache
def _workflow_files() -> dict[str, dict]:
    if not WORKFLOWS_DIR.is_dir():
        return {}
    return {path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
            for path in sorted(WORKFLOWS_DIR.glob("*.toml"))}


def _pick(names: dict | str | None) -> str | None:
    if names is None or isinstance(names, str):
        return names
    lang = current_language()
    return names.get(lang) or names.get("en") or names.get("zh")


def current_language() -> str:
    """``zh`` or ``en``: the language workflow labels are picked in."""
    return language()


def join_words(items, label=str, strong: bool = False) -> str:
    """A list in the user's language, each item through ``label``: 甲、乙 / a, b (``strong``: 甲；乙 / a; b)."""
    if current_language() == "zh":
        separator = "；" if strong else "、"
    else:
        separator = "; " if strong else ", "
    return separator.join(str(label(item)) for item in items)


def clock_unit_label(unit: str) -> str:
    return str(CLOCK_UNIT_LABELS.get(unit, unit))


def _states_of(name: str) -> dict:
    return _workflow_files().get(name, {}).get("states", {})


def state_label(state: str | None, kind: str | None = None) -> str:
    """``kind``: the agency kind of an assignment (a per-kind workflow may rename a state)."""
    if not state:
        return ""
    return _state_label(state, kind, current_language())


@functools.cache
def _state_label(state: str, kind: str | None, _lang: str) -> str:
    for name in ([f"assignment.{kind}"] if kind else []) + ["referral", "assignment"]:
        if state in _states_of(name):
            return _pick(_states_of(name)[state]) or state
    for name in _workflow_files():
        if state in _states_of(name):
            return _pick(_states_of(name)[state]) or state
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
    for name in ("referral", "assignment"):
        for state in _states_of(name):
            seen.setdefault(state, state_label(state))
    return list(seen.items())


def final_states(name: str) -> frozenset[str]:
    return frozenset(s for s, spec in _states_of(name).items() if isinstance(spec, dict) and spec.get("final"))


def trigger_label(trigger: str | None, object_type: str | None = None, kind: str | None = None) -> str:
    """A trigger's name in the lifecycle of the object it fired on (``kind``: the agency kind of an
    assignment; the same trigger can mean different steps for police and for market regulators)."""
    if not trigger:
        return ""
    return _trigger_label(trigger, object_type, kind if object_type == "assignment" else None, current_language())


@functools.cache
def _trigger_label(trigger: str, object_type: str | None, kind: str | None, _lang: str) -> str:
    preferred = {"referral": ["referral"], "assignment": [f"assignment.{kind}", "assignment"]}
    names = [name for name in preferred.get(object_type, []) if name in _workflow_files()]
    for name in names + [name for name in _workflow_files() if name not in names]:
        for transition in _workflow_files()[name].get("transitions", []):
            if transition.get("trigger") == trigger and transition.get("label"):
                return _pick(transition["label"])
    return trigger.replace("_", " ")


def choice_label(value: str | None) -> str:
    """A value of a named choice list or a disposal action (choices.toml, dispositions.toml)."""
    if not value:
        return ""
    for name in ("choices", "dispositions"):
        for group in _workflow_files().get(name, {}).values():
            if isinstance(group, dict) and isinstance(group.get(value), dict):
                return _pick(group[value])
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
