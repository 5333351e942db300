"""Lifecycle declarations loaded from the TOML files beside this module.

Everything is validated at load: an unknown state, role, clock rule, notice kind, field type or
choice list is a ``DeclarationError`` naming the file and the transition (guard names are checked
against the engine's guards when it builds its machines, or here when ``guard_names`` is given).
This package imports nothing from ``casework``: it is data, read by everything else.
"""
from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

ROLES_BY_PARTY = {
    "agency": frozenset({"case_officer", "approver"}),
    "origin": frozenset({"intake_officer", "assessor", "approver"}),
}
FIELD_TYPES = frozenset({
    "text", "textarea", "choice", "multichoice", "agency", "agencies", "target_actions",
    "target_outcomes", "date", "integer",
})
CLOCK_UNITS = frozenset({"calendar_days", "working_days", "hours"})
STYLES = frozenset({"primary", "danger", "default"})
FIELD_DEFAULTS = frozenset({"recommended_agencies"})
NOTICE_SUBJECTS = ("referral", "assignment", "any")


class DeclarationError(ValueError):
    """A declaration file is inconsistent."""


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    def pick(self, locale: str | None) -> str:
        return self.en if (locale or "zh").startswith("en") else self.zh


DESK_TABS = ("receive", "action", "approval")


@dataclass(frozen=True)
class AgencyKind:
    """``refers``: the kind that opens and routes referrals; the others dispose of them."""

    name: str
    label: Label
    refers: bool = False


@dataclass(frozen=True)
class NoticeKind:
    name: str
    label: Label  # the document's title
    series: str  # the numbering series
    subject: str  # "referral" | "assignment" | "any"


@dataclass(frozen=True)
class State:
    """``desk``: the inbox tab the state puts an item on at the desk that holds it (the education
    department for a referral, the agency for an assignment); ``origin_desk``: the tab an
    assignment in this state takes at the referring department's desk."""

    name: str
    label: Label
    final: bool = False
    desk: str | None = None
    origin_desk: str | None = None


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: Label
    required: bool = False
    choices: str | None = None
    default: str | None = None


@dataclass(frozen=True)
class Transition:
    trigger: str
    sources: tuple[str, ...]
    dest: str | None  # None: the state does not change (an internal transition)
    roles: tuple[str, ...]
    label: Label
    party: str = "agency"
    guards: tuple[str, ...] = ()
    starts: tuple[str, ...] = ()
    stops: tuple[str, ...] = ()
    notice: str | None = None
    confirm: bool = False
    style: str = "default"
    auto: bool = False
    fields: tuple[Field, ...] = ()

    @property
    def system(self) -> bool:
        return self.roles == ("system",)


@dataclass(frozen=True)
class Lifecycle:
    name: str
    subject: str
    initial: str
    states: dict[str, State]
    transitions: tuple[Transition, ...]
    kind: str | None = None
    initial_clocks: tuple[str, ...] = ()

    def transition(self, trigger: str, state: str) -> Transition | None:
        return next((t for t in self.transitions if t.trigger == trigger and state in t.sources), None)

    def triggers(self) -> list[str]:
        return list(dict.fromkeys(t.trigger for t in self.transitions))

    def final_states(self) -> set[str]:
        return {s.name for s in self.states.values() if s.final}


@dataclass(frozen=True)
class ClockRule:
    name: str
    subject: str
    unit: str
    amount: int
    responsible: str
    label: Label
    remind: bool = True
    on_expiry: str | None = None


@dataclass(frozen=True, eq=False)
class Declarations:
    lifecycles: dict[str, Lifecycle]
    clocks: dict[str, ClockRule]
    dispositions: dict[str, dict[str, Label]]
    choices: dict[str, dict[str, Label]] = field(default_factory=dict)
    # agency kind -> action -> the target kinds it applies to (empty: every kind)
    disposal_targets: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    agency_kinds: dict[str, AgencyKind] = field(default_factory=dict)
    target_kinds: dict[str, Label] = field(default_factory=dict)
    notice_kinds: dict[str, NoticeKind] = field(default_factory=dict)

    def disposing_kinds(self) -> tuple[str, ...]:
        """The agency kinds that receive assignments (each has an assignment variant)."""
        return tuple(k for k, spec in self.agency_kinds.items() if not spec.refers)

    @functools.cache
    def referring_kind(self) -> str:
        return next(k for k, spec in self.agency_kinds.items() if spec.refers)

    def assignment_lifecycle(self, agency_kind: str) -> Lifecycle:
        return self.lifecycles[f"assignment.{agency_kind}"]

    def lookup_order(self, subject: str | None, agency_kind: str | None = None) -> list[Lifecycle]:
        """The lifecycles to read a state or trigger name in: the object's own first (an
        assignment's agency variant, then the common assignment), then every other one."""
        first = {"referral": ["referral"],
                 "assignment": ([f"assignment.{agency_kind}"] if agency_kind else []) + ["assignment"]}
        names = [n for n in first.get(subject, []) if n in self.lifecycles]
        return [self.lifecycles[n] for n in names + [n for n in self.lifecycles if n not in names]]

    @functools.cache
    def producing_states(self, subject: str, notice: str) -> frozenset[str]:
        """States of ``subject`` a transition issuing ``notice`` leads to (its sources when internal)."""
        return frozenset(s for lc in self.subject_lifecycles(subject) for t in lc.transitions if t.notice == notice
                         for s in ((t.dest,) if t.dest else t.sources))

    def disposal_actions(self, agency_kind: str | None, target_kind: str | None = None) -> dict[str, Label]:
        """The agency's disposal actions, only those that apply to ``target_kind`` when it is given."""
        actions = self.dispositions.get(agency_kind, {})
        applies = self.disposal_targets.get(agency_kind, {})
        return {code: label for code, label in actions.items()
                if target_kind is None or not applies.get(code) or target_kind in applies[code]}

    def lifecycle(self, name: str) -> Lifecycle:
        return self.lifecycles[name]

    def subject_lifecycles(self, subject: str) -> list[Lifecycle]:
        """The referral's lifecycle, or every assignment variant."""
        return [lc for lc in self.lifecycles.values() if lc.subject == subject]

    @functools.cache
    def terminal_states(self, subject: str) -> frozenset[str]:
        """States that end the lifecycle in any variant of ``subject`` ("referral" or "assignment")."""
        return frozenset(s for lc in self.subject_lifecycles(subject) for s in lc.final_states())

    @functools.cache
    def open_states(self, subject: str) -> frozenset[str]:
        """States of any variant of ``subject`` that do not end it."""
        return frozenset(s for lc in self.subject_lifecycles(subject)
                         for s in lc.states if s not in lc.final_states())

    @functools.cache
    def desk_states(self, subject: str, tab: str, *, origin: bool = False) -> frozenset[str]:
        """States that put an item of ``subject`` on inbox ``tab``: at the desk holding it, or
        (``origin``, assignments) at the referring department's desk."""
        key = "origin_desk" if origin else "desk"
        return frozenset(s.name for lc in self.subject_lifecycles(subject) for s in lc.states.values()
                         if getattr(s, key) == tab)


def _read(directory: Path, name: str) -> dict:
    with (directory / name).open("rb") as fh:
        return tomllib.load(fh)


def _label(raw, where: str) -> Label:
    if not isinstance(raw, dict) or not raw.get("zh") or not raw.get("en"):
        raise DeclarationError(f"{where}: a label needs zh and en")
    return Label(raw["zh"], raw["en"])


def _target_kinds(raw: dict, where: str, known: dict) -> frozenset[str]:
    kinds = raw.get("targets", [])
    if not isinstance(kinds, list) or not set(kinds) <= set(known):
        raise DeclarationError(f"{where}: targets must be a list of {tuple(known)}")
    return frozenset(kinds)


def _kinds(raw: dict) -> tuple[dict[str, AgencyKind], dict[str, Label], dict[str, NoticeKind]]:
    agencies = {name: AgencyKind(name, _label(spec, f"kinds.agencies.{name}"), bool(spec.get("refers")))
                for name, spec in raw.get("agencies", {}).items()}
    if sum(spec.refers for spec in agencies.values()) != 1:
        raise DeclarationError("kinds.toml: exactly one agency kind refers (refers = true)")
    targets = _labels(raw.get("targets", {}), "kinds.targets")
    notices = {}
    for name, spec in raw.get("notices", {}).items():
        where = f"kinds.notices.{name}"
        if spec.get("subject") not in NOTICE_SUBJECTS or not spec.get("series"):
            raise DeclarationError(f"{where}: needs a series and a subject of {NOTICE_SUBJECTS}")
        notices[name] = NoticeKind(name, _label(spec, where), spec["series"], spec["subject"])
    return agencies, targets, notices


def _labels(table: dict, where: str) -> dict[str, Label]:
    return {code: _label(raw, f"{where}.{code}") for code, raw in table.items()}


def _field(raw: dict, where: str, choices: dict) -> Field:
    unknown = set(raw) - {"name", "type", "required", "label", "choices", "default"}
    if unknown:
        raise DeclarationError(f"{where}: unknown field keys {sorted(unknown)}")
    if raw.get("type") not in FIELD_TYPES:
        raise DeclarationError(f"{where}: unknown field type {raw.get('type')!r}")
    if raw.get("choices") is not None and raw["choices"] not in choices:
        raise DeclarationError(f"{where}: unknown choice list {raw['choices']!r}")
    if raw["type"] in ("choice", "multichoice") and raw.get("choices") is None:
        raise DeclarationError(f"{where}: a {raw['type']} field needs a choice list")
    if raw.get("default") is not None and raw["default"] not in FIELD_DEFAULTS:
        raise DeclarationError(f"{where}: unknown default {raw['default']!r}")
    return Field(raw["name"], raw["type"], _label(raw.get("label"), where), bool(raw.get("required")),
                 raw.get("choices"), raw.get("default"))


def _transition(raw: dict, where: str, choices: dict) -> dict:
    known = {"trigger", "from", "to", "roles", "label", "party", "guards", "starts", "stops", "notice",
             "confirm", "style", "auto", "fields"}
    if set(raw) - known:
        raise DeclarationError(f"{where}: unknown keys {sorted(set(raw) - known)}")
    where = f"{where} ({raw.get('trigger')})"
    return dict(
        trigger=raw["trigger"], sources=raw["from"], dest=raw.get("to"), roles=tuple(raw["roles"]),
        label=_label(raw.get("label"), where), party=raw.get("party"),
        guards=tuple(raw.get("guards", ())), starts=tuple(raw.get("starts", ())),
        stops=tuple(raw.get("stops", ())), notice=raw.get("notice"), confirm=bool(raw.get("confirm")),
        style=raw.get("style", "default"), auto=bool(raw.get("auto")),
        fields=tuple(_field(f, f"{where} field {f.get('name')}", choices) for f in raw.get("fields", ())),
    )


def _resolve(name: str, files: dict[str, dict], choices: dict) -> tuple[dict, list[dict]]:
    raw = files[name]
    if "extends" not in raw:
        states = dict(raw["states"])
        transitions = [_transition(t, name, choices) for t in raw.get("transitions", ())]
        return {**raw, "states": states}, transitions
    base, transitions = _resolve(raw["extends"], files, choices)
    removed = set(raw.get("remove", ()))
    unknown = removed - {t["trigger"] for t in transitions}
    if unknown:
        raise DeclarationError(f"{name}: cannot remove unknown triggers {sorted(unknown)}")
    own = [_transition(t, name, choices) for t in raw.get("transitions", ())]
    replaced = {t["trigger"] for t in own}
    merged_transitions, placed = [], set()
    for t in transitions:
        if t["trigger"] in removed:
            continue
        if t["trigger"] in replaced:
            if t["trigger"] not in placed:
                merged_transitions += [o for o in own if o["trigger"] == t["trigger"]]
                placed.add(t["trigger"])
            continue
        merged_transitions.append(t)
    transitions = merged_transitions + [o for o in own if o["trigger"] not in placed]
    states = {name: {**base["states"].get(name, {}), **spec} if isinstance(spec, dict) else spec
              for name, spec in raw.get("states", {}).items()}
    states = {**base["states"], **states}
    for gone in raw.get("remove_states", ()):
        if gone not in states:
            raise DeclarationError(f"{name}: cannot remove unknown state {gone!r}")
        del states[gone]
        for t in transitions:
            if isinstance(t["sources"], list):
                t["sources"] = [s for s in t["sources"] if s != gone]
    merged = {**base, **{k: v for k, v in raw.items() if k not in ("transitions", "remove", "remove_states")}}
    merged["states"] = states
    return merged, transitions


def _lifecycle(name: str, files: dict, clocks: dict, choices: dict, guards: set[str] | None,
               notices: dict) -> Lifecycle:
    raw, transitions = _resolve(name, files, choices)
    states = {s: _state(s, v, f"{name}.states.{s}") for s, v in raw["states"].items()}
    finals = {s for s, st in states.items() if st.final}
    built = []
    for t in transitions:
        where = f"{name}: transition {t['trigger']}"
        t["party"] = t["party"] or ("origin" if raw["subject"] == "referral" else "agency")
        if raw["subject"] == "referral" and t["party"] != "origin":
            raise DeclarationError(f"{where}: referral transitions belong to the referring department")
        if t["sources"] == "*":
            t["sources"] = [s for s in states if s not in finals]
        t["sources"] = tuple(t["sources"])
        if not t["sources"]:
            raise DeclarationError(f"{where}: no source state left")
        for state in (*t["sources"], *([t["dest"]] if t["dest"] else [])):
            if state not in states:
                raise DeclarationError(f"{where}: unknown state {state!r}")
        _check_roles(t, where)
        for guard in t["guards"]:
            if guards is not None and guard not in guards:
                raise DeclarationError(f"{where}: unknown guard {guard!r}")
        for clock in (*t["starts"], *t["stops"]):
            if clock not in clocks or clocks[clock].subject != raw["subject"]:
                raise DeclarationError(f"{where}: unknown clock rule {clock!r} for a {raw['subject']}")
        if t["notice"] is not None and t["notice"] not in notices:
            raise DeclarationError(f"{where}: unknown notice kind {t['notice']!r}")
        if t["style"] not in STYLES:
            raise DeclarationError(f"{where}: unknown style {t['style']!r}")
        built.append(Transition(**t))
    _check_no_overlap(name, built)
    if raw["initial"] not in states:
        raise DeclarationError(f"{name}: unknown initial state {raw['initial']!r}")
    for clock in raw.get("initial_clocks", ()):
        if clock not in clocks:
            raise DeclarationError(f"{name}: unknown initial clock {clock!r}")
    return Lifecycle(name=raw["name"], subject=raw["subject"], initial=raw["initial"], states=states,
                     transitions=tuple(built), kind=raw.get("kind"),
                     initial_clocks=tuple(raw.get("initial_clocks", ())))


def _state(name: str, raw: dict, where: str) -> State:
    unknown = set(raw) - {"zh", "en", "final", "desk", "origin_desk"}
    if unknown:
        raise DeclarationError(f"{where}: unknown state keys {sorted(unknown)}")
    for key in ("desk", "origin_desk"):
        if raw.get(key) is not None and raw[key] not in DESK_TABS:
            raise DeclarationError(f"{where}: {key} must be one of {DESK_TABS}")
    if raw.get("final") and (raw.get("desk") or raw.get("origin_desk")):
        raise DeclarationError(f"{where}: a final state sits on no desk tab")
    return State(name, _label({k: raw.get(k) for k in ("zh", "en")}, where), bool(raw.get("final")),
                 raw.get("desk"), raw.get("origin_desk"))


def _check_roles(t: dict, where: str) -> None:
    if t["roles"] == ("system",):
        return
    if t["auto"]:
        raise DeclarationError(f"{where}: only system transitions can be automatic")
    allowed = ROLES_BY_PARTY.get(t["party"])
    if allowed is None:
        raise DeclarationError(f"{where}: unknown party {t['party']!r}")
    if not t["roles"] or set(t["roles"]) - allowed:
        raise DeclarationError(f"{where}: unknown roles {sorted(set(t['roles']) - allowed)} for party {t['party']}")


def _check_no_overlap(name: str, transitions: list[Transition]) -> None:
    seen: dict[tuple[str, str], Transition] = {}
    for t in transitions:
        for source in t.sources:
            if (t.trigger, source) in seen:
                raise DeclarationError(f"{name}: trigger {t.trigger} declared twice from {source}")
            seen[(t.trigger, source)] = t


def _clock_rules(raw: dict) -> dict[str, ClockRule]:
    rules = {}
    for name, r in raw.items():
        if r.get("unit") not in CLOCK_UNITS:
            raise DeclarationError(f"clocks.{name}: unknown unit {r.get('unit')!r}")
        if not isinstance(r.get("amount"), int) or r["amount"] <= 0:
            raise DeclarationError(f"clocks.{name}: amount must be a positive integer")
        if r.get("subject") not in ("referral", "assignment") or r.get("responsible") not in ROLES_BY_PARTY:
            raise DeclarationError(f"clocks.{name}: subject or responsible party unknown")
        rules[name] = ClockRule(name, r["subject"], r["unit"], r["amount"], r["responsible"],
                                _label(r.get("label"), f"clocks.{name}"), r.get("remind", True),
                                r.get("on_expiry"))
    return rules


def load(directory: Path | None = None, guard_names: set[str] | None = None) -> Declarations:
    """Read and validate every declaration in ``directory`` (default: this package's folder).
    ``guard_names``: check the transitions' guards against them too."""
    directory = directory or HERE
    agency_kinds, target_kinds, notice_kinds = _kinds(_read(directory, "kinds.toml"))
    choices = {name: _labels(table, f"choices.{name}") for name, table in _read(directory, "choices.toml").items()}
    clocks = _clock_rules(_read(directory, "clocks.toml"))
    disposal_table = _read(directory, "dispositions.toml")
    dispositions = {kind: _labels(table, f"dispositions.{kind}") for kind, table in disposal_table.items()}
    disposing = [k for k, spec in agency_kinds.items() if not spec.refers]
    if set(dispositions) != set(disposing):
        raise DeclarationError(f"dispositions.toml must list exactly {disposing}")
    disposal_targets = {kind: {code: _target_kinds(raw, f"dispositions.{kind}.{code}", target_kinds)
                               for code, raw in table.items()}
                        for kind, table in disposal_table.items()}
    files = {}
    for path in sorted(directory.glob("*.toml")):
        if path.stem.startswith(("referral", "assignment")):
            raw = _read(directory, path.name)
            if raw.get("name") != path.stem:
                raise DeclarationError(f"{path.name}: name must be {path.stem!r}")
            files[path.stem] = raw
    lifecycles = {name: _lifecycle(name, files, clocks, choices, guard_names, notice_kinds) for name in files}
    for kind in disposing:
        if f"assignment.{kind}" not in lifecycles:
            raise DeclarationError(f"missing assignment.{kind}.toml")
    for rule in clocks.values():
        if rule.on_expiry:
            names = [lc for lc in lifecycles.values() if lc.subject == rule.subject]
            if not all(any(t.trigger == rule.on_expiry and t.system for t in lc.transitions) for lc in names):
                raise DeclarationError(f"clocks.{rule.name}: on_expiry {rule.on_expiry!r} is not a system trigger")
    return Declarations(lifecycles, clocks, dispositions, choices, disposal_targets, agency_kinds, target_kinds,
                        notice_kinds)


@functools.cache
def declarations() -> Declarations:
    """The validated declarations of this package's folder, loaded once per process
    (``declarations.cache_clear()`` after pointing ``HERE`` elsewhere reads another folder)."""
    return load()
