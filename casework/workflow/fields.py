"""Transition fields: what the UI renders (FieldSpec) and how submitted data is checked and cleaned.

Encoding of the composite types (form keys; the JSON API takes the same keys):
``agencies=<id>`` repeated plus ``reason_<id>``; ``action_<target_id>``;
``outcome_<action_id>``, ``executed_at_<action_id>`` and optional ``note_<action_id>``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from casework.agencies.models import Agency
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.text import language
from casework.workflow.messages import _
from workflows import Field, Label, Transition, declarations

MAX_TEXT = 10_000


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    default: object = None


def values(data, key: str) -> list:
    """All values of ``key``: a MultiDict's list, a JSON list, or one value."""
    if hasattr(data, "getlist"):
        return [v for v in data.getlist(key) if v not in ("", None)]
    value = data.get(key)
    if value in ("", None):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def value(data, key: str):
    found = values(data, key)
    return found[0] if found else None


def _text(raw) -> str:
    return str(raw).strip() if raw is not None else ""


def _is_scalar(raw) -> bool:
    """Strings and whole numbers are what form keys carry; objects, lists and floats are not."""
    return isinstance(raw, (str, int)) and not isinstance(raw, bool)


def referral_of(obj):
    return getattr(obj, "referral", obj)


def disposing_agencies(exclude_id: int | None = None) -> list[Agency]:
    query = select(Agency).where(Agency.kind.in_(declarations().disposing_kinds())).order_by(Agency.id)
    return [a for a in db.session.scalars(query) if a.id != exclude_id]


def catalogue_for(obj, target=None) -> dict[str, Label]:
    """The disposal actions of the assignment's agency (those that apply to ``target``'s kind)."""
    kind = getattr(getattr(obj, "agency", None), "kind", None)
    return declarations().disposal_actions(kind, getattr(target, "kind", None))


def _choice_labels(field: Field) -> dict[str, Label]:
    return declarations().choices[field.choices] if field.choices else {}


def field_specs(transition: Transition, obj, actor, locale: str) -> tuple[FieldSpec, ...]:
    return tuple(_spec(f, obj, actor, locale) for f in transition.fields)


def _spec(field: Field, obj, actor, locale: str) -> FieldSpec:
    choices: tuple[tuple[str, str], ...] = ()
    default = None
    if field.type in ("choice", "multichoice", "target_outcomes"):
        choices = tuple((code, label.pick(locale)) for code, label in _choice_labels(field).items())
    elif field.type in ("agency", "agencies"):
        own = actor.agency_id if field.type == "agency" else None
        choices = tuple((str(a.id), a.name) for a in disposing_agencies(own))  # names as on every page
    elif field.type == "target_actions":
        choices = tuple((code, label.pick(locale)) for code, label in catalogue_for(obj).items())
    if field.default == "recommended_agencies":
        assessment = referral_of(obj).assessment
        default = tuple((r["agency_id"], r.get("reason", "")) for r in (assessment.recommendations if assessment else []))
    return FieldSpec(field.name, field.type, field.required, field.label.pick(locale), choices, default)


def clean_fields(transition: Transition, obj, actor, data) -> dict:
    """Check ``data`` against the transition's fields; ValidationFailed lists every problem by key."""
    errors: dict[str, str] = {}
    cleaned: dict = {}
    for field in transition.fields:
        known_errors = len(errors)
        result = CLEANERS[field.type](field, obj, actor, data, errors)
        if result is not None:
            cleaned[field.name] = result
        elif field.required and len(errors) == known_errors:
            errors[field.name] = _("This field is required.")
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _clean_text(field, obj, actor, data, errors):
    raw = value(data, field.name)
    if raw is not None and not isinstance(raw, str):
        errors[field.name] = _("enter text")
        return None
    text = _text(raw)
    if len(text) > MAX_TEXT:
        errors[field.name] = _("at most %(n)d characters", n=MAX_TEXT)
        return None
    return text or None


def _clean_choice(field, obj, actor, data, errors):
    raw = value(data, field.name)
    if raw is None:
        return None
    if not isinstance(raw, str) or raw not in _choice_labels(field):
        errors[field.name] = _("choose one of %(choices)s", choices=", ".join(_choice_labels(field)))
        return None
    return raw


def _clean_multichoice(field, obj, actor, data, errors):
    raw = values(data, field.name)
    if len(raw) == 1 and isinstance(raw[0], str) and "," in raw[0]:
        raw = [v.strip() for v in raw[0].split(",") if v.strip()]
    unknown = [v for v in raw if not isinstance(v, str) or v not in _choice_labels(field)]
    if unknown:
        errors[field.name] = _("unknown choices: %(values)s", values=", ".join(str(v)[:64] for v in unknown))
        return None
    return list(dict.fromkeys(raw)) or None


def _agency_id(raw) -> int | None:
    if isinstance(raw, str):
        raw = raw.strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def _clean_agency(field, obj, actor, data, errors):
    raw = value(data, field.name)
    if raw is None:
        return None
    allowed = {a.id: a for a in disposing_agencies(actor.agency_id if actor else None)}
    agency = allowed.get(_agency_id(raw))
    if agency is None:
        errors[field.name] = _("choose another receiving agency")
    return agency


def _clean_agencies(field, obj, actor, data, errors):
    raw = values(data, field.name)
    pairs = []
    for item in raw:
        if isinstance(item, dict):
            pairs.append((item.get("id", item.get("agency_id")), item.get("reason")))
        elif _is_scalar(item):
            pairs.append((item, value(data, f"reason_{item}")))
        else:
            errors[field.name] = _("unknown receiving agency %(id)s", id=str(item)[:64])
    if not pairs:
        return None
    allowed = {a.id: a for a in disposing_agencies()}
    chosen = []
    for raw_id, reason in pairs:
        agency = allowed.get(_agency_id(raw_id))
        if agency is None:
            errors[field.name] = _("unknown receiving agency %(id)s", id=str(raw_id)[:64])
            continue
        if not isinstance(reason, str) or not reason.strip():
            errors[f"reason_{agency.id}"] = _("give a reason for each agency")
            continue
        if len(reason.strip()) > MAX_TEXT:
            errors[f"reason_{agency.id}"] = _("at most %(n)d characters", n=MAX_TEXT)
            continue
        if agency.id not in {c["agency"].id for c in chosen}:
            chosen.append({"agency": agency, "reason": _text(reason)})
    return chosen or None


def _clean_target_actions(field, obj, actor, data, errors):
    nested = data.get(field.name) if isinstance(data, dict) and isinstance(data.get(field.name), dict) else {}
    chosen = []
    for target in referral_of(obj).targets:
        raw = nested.get(str(target.id)) or value(data, f"action_{target.id}")
        if raw is None:
            continue
        applicable = catalogue_for(obj, target)
        if not isinstance(raw, str) or raw not in applicable:
            errors[f"action_{target.id}"] = _("choose one of %(choices)s",
                                              choices=", ".join(label.pick(language()) for label in applicable.values()))
            continue
        chosen.append({"target": target, "action": raw})
    if field.required and not chosen and not errors:
        errors[field.name] = _("choose a disposal action for at least one target")
    return chosen or None


def _parse_date(raw) -> date | None:
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _clean_target_outcomes(field, obj, actor, data, errors):
    disposition = getattr(obj, "disposition", None)
    if disposition is None:
        errors[field.name] = _("there is no disposition to record")
        return None
    outcomes = []
    for action in disposition.actions:
        outcome = value(data, f"outcome_{action.id}")
        executed = _parse_date(value(data, f"executed_at_{action.id}"))
        note = value(data, f"note_{action.id}")
        if not isinstance(outcome, str) or outcome not in _choice_labels(field):
            errors[f"outcome_{action.id}"] = _("choose done, partial or failed")
        if executed is None or executed > date.today():
            errors[f"executed_at_{action.id}"] = _("give the date (YYYY-MM-DD, not in the future)")
        if note is not None and not isinstance(note, str):
            errors[f"note_{action.id}"] = _("enter text")
        elif len(_text(note)) > MAX_TEXT:
            errors[f"note_{action.id}"] = _("at most %(n)d characters", n=MAX_TEXT)
        outcomes.append({"action": action, "outcome": outcome, "executed_at": executed, "note": _text(note)})
    return outcomes or None


def _clean_date(field, obj, actor, data, errors):
    raw = value(data, field.name)
    if raw is None:
        return None
    parsed = _parse_date(raw)
    if parsed is None:
        errors[field.name] = _("use YYYY-MM-DD")
    return parsed


def _clean_integer(field, obj, actor, data, errors):
    raw = value(data, field.name)
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 6:
        number = int(raw.strip())
    else:
        number = 0
    if not 1 <= number <= 365:
        errors[field.name] = _("a whole number from 1 to 365")
        return None
    return number


CLEANERS = {
    "text": _clean_text, "textarea": _clean_text, "choice": _clean_choice, "multichoice": _clean_multichoice,
    "agency": _clean_agency, "agencies": _clean_agencies, "target_actions": _clean_target_actions,
    "target_outcomes": _clean_target_outcomes, "date": _clean_date, "integer": _clean_integer,
}


def plain(cleaned: dict) -> dict:
    """The cleaned data with model objects replaced by ids (for audit payloads and notices)."""
    def convert(item):
        if isinstance(item, dict):
            return {k: convert(v) for k, v in item.items()}
        if isinstance(item, list):
            return [convert(v) for v in item]
        if hasattr(item, "__tablename__"):
            return item.id
        if isinstance(item, date):
            return item.isoformat()
        return item
    return convert(cleaned)
