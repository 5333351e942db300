"""Target registry services: one normalised entry per target, linked to all its referrals."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from casework.assignments.models import Assignment, Disposition, DispositionAction
from casework.audit.services import record_event
from casework.db_types import database_id
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.referrals.models import Referral
from casework.access.scope import referral_scope, supervised_agency_ids
from casework.targets import normalize
from casework.targets.models import TARGET_KINDS, ReferralTarget, Target
from casework.targets.text import _

ACCOUNT_KINDS = ("account", "shop", "group")
KEY_MAX = Target.__table__.c.key.type.length  # a registry key longer than its column cannot be stored
OPTIONAL_FIELDS = ("icp_number", "ip_addresses", "operator_name", "operator_uscc", "contact", "developer",
                   "store")


def _text(data: dict, name: str, limit: int) -> str | None:
    value = " ".join(str(data.get(name) or "").split())
    if len(value) > limit:
        raise ValueError(_("At most %(n)d characters.", n=limit))
    return value or None


def clean_target(data: dict) -> dict:
    """Validate and normalise target input without touching the database.

    Returns the Target fields including ``kind`` and ``key``; raises
    ``ValidationFailed({field: message})`` naming every malformed field.
    """
    kind = (data.get("kind") or "").strip().lower()
    if kind not in TARGET_KINDS:
        raise ValidationFailed({"kind": _("Choose the kind of target.")})
    errors: dict[str, str] = {}
    fields: dict = {"kind": kind}

    def attempt(field: str, call):
        try:
            return call()
        except ValueError as exc:
            errors[field] = str(exc)
            return None

    if kind == "website":
        fields.update(attempt("url", lambda: normalize.normalize_url(data.get("url"))) or {})
    elif kind == "app":
        fields.update(attempt("package_name", lambda: normalize.normalize_app(data.get("package_name"))) or {})
        fields["store"] = attempt("store", lambda: normalize.normalize_store(data.get("store")))
    elif kind in ACCOUNT_KINDS:
        platform = attempt("platform", lambda: normalize.normalize_platform(data.get("platform"), kind))
        if platform:
            fields.update(attempt("account_id", lambda: normalize.normalize_account(
                platform, data.get("account_id"))) or {})
    else:
        fields.update(attempt("name", lambda: normalize.normalize_other(data.get("name"))) or {})
    fields["icp_number"] = attempt("icp_number", lambda: normalize.normalize_icp(data.get("icp_number")))
    fields["ip_addresses"] = attempt("ip_addresses", lambda: normalize.normalize_ips(data.get("ip_addresses")))
    fields["operator_uscc"] = attempt("operator_uscc", lambda: normalize.normalize_uscc(data.get("operator_uscc")))
    for name, limit in (("operator_name", 200), ("contact", 200), ("developer", 200)):
        fields[name] = attempt(name, lambda n=name, lim=limit: _text(data, n, lim))
    name = attempt("name", lambda: _text(data, "name", 200))
    if len(fields.get("key") or "") > KEY_MAX:
        errors["url" if kind == "website" else "name"] = _("At most %(n)d characters.", n=KEY_MAX)
    if errors:
        raise ValidationFailed(errors)
    fields["name"] = name or fields.get("name") or fields["key"][:200]
    fields["ip_addresses"] = fields["ip_addresses"] or []
    fields.setdefault("store", None)
    return fields


def target_identity(data: dict) -> tuple[str | None, str]:
    """(kind, registry key) of the described target; (kind given, "") when it is malformed."""
    try:
        fields = clean_target(data)
    except ValidationFailed:
        return data.get("kind"), ""
    return fields["kind"], fields["key"]


def find_target(kind: str, key: str) -> Target | None:
    return db.session.scalar(select(Target).where(Target.kind == kind, Target.key == key))


def register_target(data: dict, actor) -> Target:
    """Find the registry entry for this target (by its normalised key) or create it.

    Attributes missing on an existing entry are filled in; existing values are kept.
    Raises ``ValidationFailed({field: message})`` for malformed input.
    """
    fields = clean_target(data)
    target = find_target(fields["kind"], fields["key"])
    if target is None:
        target = new_target(fields)
        db.session.flush()
        record_event("target.create", actor, target, payload={"kind": target.kind, "key": target.key})
        return target
    fill_missing(target, fields, actor)
    return target


def new_target(fields: dict) -> Target:
    """A registry entry from ``clean_target`` output, added to the session (not flushed)."""
    target = Target(**{k: v for k, v in fields.items() if k in Target.__table__.columns})
    db.session.add(target)
    return target


def fill_missing(target: Target, fields: dict, actor) -> None:
    """Set optional attributes the entry lacks; audited as ``target.update``."""
    filled = {}
    for name in OPTIONAL_FIELDS:
        if fields.get(name) and not getattr(target, name):
            setattr(target, name, fields[name])
            filled[name] = fields[name]
    if filled:
        db.session.flush()
        record_event("target.update", actor, target, payload={"filled": filled})


def find_targets(identities: list[tuple[str, str]]) -> dict[tuple[str, str], Target]:
    """Registry entries by (kind, key), looked up in chunks."""
    found: dict[tuple[str, str], Target] = {}
    keys = sorted({key for _kind, key in identities})
    wanted = set(identities)
    for start in range(0, len(keys), 500):
        for target in db.session.scalars(select(Target).where(Target.key.in_(keys[start:start + 500]))):
            if (target.kind, target.key) in wanted:
                found[(target.kind, target.key)] = target
    return found


def latest_disposal(target_id: int, user) -> dict | None:
    """The most recent executed (else proposed) disposal action against the target among those whose
    details ``user`` may read: on referrals in the user's scope, by the user's own agency or on
    referrals the user's education department supervises (as ``assignments_with_details``)."""
    row = db.session.execute(
        select(DispositionAction, Disposition.state)
        .join(Disposition, DispositionAction.disposition_id == Disposition.id)
        .join(Assignment, Disposition.assignment_id == Assignment.id)
        .join(Referral, Assignment.referral_id == Referral.id)
        .where(DispositionAction.target_id == target_id, referral_scope(user),
               or_(Assignment.agency_id == user.agency_id,
                   Referral.origin_agency_id.in_(supervised_agency_ids(user))))
        .order_by(DispositionAction.executed_at.is_(None), DispositionAction.executed_at.desc(),
                  DispositionAction.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    action, state = row
    return {"action": action.action, "outcome": action.outcome, "executed_at": action.executed_at,
            "disposition_state": state}


def visible_referrals_of(target: Target, user) -> list[Referral]:
    """The target's referrals that ``user`` may open, newest first."""
    return list(db.session.scalars(
        select(Referral)
        .where(Referral.id.in_(select(ReferralTarget.referral_id).where(ReferralTarget.target_id == target.id)),
               referral_scope(user))
        .order_by(Referral.created_at.desc(), Referral.id.desc())
    ))


class TargetSummary(dict):
    """The summary as a dict; it is truthy only when the target is already known."""

    def __bool__(self) -> bool:
        return bool(self.get("known"))


def known_target_summary(data: dict, user) -> TargetSummary:
    """What the registry knows about the target described by ``data``, within ``user``'s scope.

    Returns ``{"known", "target_id", "kind", "key", "referral_count", "visible_referrals"
    (list of {"id", "number", "title", "state"}), "hidden_count", "latest_disposal",
    "status", "back_online", "errors"}``. Referrals outside the scope appear only as a count
    (``hidden_count``): the target's id, status and latest disposal are given only when one of its
    referrals is visible, and the disposal only from what the user may read (``latest_disposal``).
    A ``referral_id`` in ``data`` (the referral being edited) is left out of the counts.
    """
    summary = TargetSummary({"known": False, "target_id": None, "kind": None, "key": None, "referral_count": 0,
               "visible_referrals": [], "hidden_count": 0, "latest_disposal": None,
               "status": None, "back_online": False, "errors": {}})
    try:
        fields = clean_target(data)
    except ValidationFailed as error:
        summary["errors"] = error.errors
        return summary
    summary.update(kind=fields["kind"], key=fields["key"])
    target = find_target(fields["kind"], fields["key"])
    if target is None:
        return summary
    editing = database_id(str(data.get("referral_id") or ""))
    total = db.session.scalar(select(func.count()).select_from(ReferralTarget).where(
        ReferralTarget.target_id == target.id, ReferralTarget.referral_id != (editing or 0))) or 0
    visible = [r for r in visible_referrals_of(target, user) if r.id != editing]
    if total == 0:
        return summary
    summary.update(known=True, referral_count=total, hidden_count=total - len(visible))
    if visible:
        summary.update(
            target_id=target.id,
            visible_referrals=[{"id": r.id, "number": r.number, "title": r.title, "state": r.state}
                               for r in visible],
            latest_disposal=latest_disposal(target.id, user),
            status=target.status,
            back_online=target.back_online,
        )
    return summary
