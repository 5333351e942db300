"""Referral services: open and edit drafts with their targets, validated all at once."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from casework.access.rules import may_edit_referral, may_open_referral
from casework.accounts.models import User
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import NotAllowed, ValidationFailed
from casework.evidence.services import attach_evidence
from casework.extensions import db
from casework.referrals.models import REFERRAL_SOURCES, Referral
from casework.targets.models import TARGET_KINDS, ReferralTarget
from casework.targets.services import clean_target, register_target, target_identity
from workflows import declarations

TITLE_MAX = 200
SUMMARY_MAX = 4000
NAME_MAX = 200
NOTE_MAX = 1000
REGION_RE = re.compile(r"^\d{6}$")
HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9\u00a1-\uffff]([a-z0-9\u00a1-\uffff-]{0,61}[a-z0-9\u00a1-\uffff])?\.)+"
                     r"[a-z\u00a1-\uffff]{2,63}$|^\d{1,3}(\.\d{1,3}){3}$")
TARGET_FIELDS = ("kind", "name", "url", "package_name", "store", "developer", "platform", "account_id",
                 "icp_number", "operator_name", "note")
REQUIRED_BY_KIND = {
    "website": ("url",),
    "app": ("name", "package_name"),
    "account": ("platform", "account_id"),
    "shop": ("platform", "account_id"),
    "group": ("platform", "account_id"),
    "other": ("name",),
}
FIELD_LIMITS = {"name": NAME_MAX, "url": 512, "package_name": 255, "store": 64, "developer": 200,
                "platform": 64, "account_id": 200, "icp_number": 64, "operator_name": 200, "note": NOTE_MAX}


def is_web_url(value: str) -> bool:
    parts = urlsplit(value.strip())
    host = (parts.hostname or "").lower()
    return parts.scheme in ("http", "https") and bool(HOST_RE.match(host)) and " " not in value.strip()


FRIENDLY_TARGET_ERRORS = {
    "url": _l("Enter a full web address starting with http:// or https://."),
    "package_name": _l("A package name looks like com.example.app."),
    "account_id": _l("Not a valid account ID for this platform."),
    "icp_number": _l("Not a valid ICP filing number."),
    "name": _l("At most %(n)d characters.", n=NAME_MAX),
}


def target_errors(index: int, data: dict) -> dict[str, str]:
    """Field errors of one target, keyed ``targets-<index>-<field>`` (the registry's rules)."""
    prefix = f"targets-{index}-"
    kind = data.get("kind")
    if kind not in TARGET_KINDS:
        return {prefix + "kind": str(_l("Choose the kind of target."))}
    errors: dict[str, str] = {}
    for name in REQUIRED_BY_KIND[kind]:
        if not (data.get(name) or "").strip():
            errors[prefix + name] = str(_l("This field is required."))
    for name, limit in FIELD_LIMITS.items():
        if len(data.get(name) or "") > limit:
            errors[prefix + name] = str(_l("At most %(n)d characters.", n=limit))
    if errors:
        return errors
    url = (data.get("url") or "").strip()
    if url and not is_web_url(url):
        return {prefix + "url": str(FRIENDLY_TARGET_ERRORS["url"])}
    try:
        clean_target(_clean_target(data))
    except ValidationFailed as error:
        problems = error.errors if isinstance(error.errors, dict) else {"kind": "; ".join(error.errors)}
        for name, message in problems.items():
            field = name if name in TARGET_FIELDS else "kind"
            if name == "package_name" and (data.get("store") or "") and "store" in str(message):
                field, message = "store", _l("Choose the app store from the list.")
            elif name == "account_id" and "platform must be" in str(message):
                field, message = "platform", _l("Choose the platform from the list.")
            else:
                message = FRIENDLY_TARGET_ERRORS.get(name, message)
            errors[prefix + field] = str(message)
    return errors


def referral_errors(data: dict, *, submitting: bool = False) -> dict[str, str]:
    """Every problem of a referral's input at once (empty when it may be saved)."""
    errors: dict[str, str] = {}
    title = (data.get("title") or "").strip()
    if not title:
        errors["title"] = str(_l("This field is required."))
    elif len(title) > TITLE_MAX:
        errors["title"] = str(_l("At most %(n)d characters.", n=TITLE_MAX))
    if data.get("source") not in REFERRAL_SOURCES:
        errors["source"] = str(_l("Choose where the lead came from."))
    if len(data.get("summary") or "") > SUMMARY_MAX:
        errors["summary"] = str(_l("At most %(n)d characters.", n=SUMMARY_MAX))
    region = (data.get("region_code") or "").strip()
    if region and not REGION_RE.match(region):
        errors["region_code"] = str(_l("A region code has six digits, e.g. 440000."))
    targets = data.get("targets") or []
    for index, target in enumerate(targets):
        errors.update(target_errors(index, target))
    keys = [target_identity(_clean_target(t)) for t in targets]
    for index, key in enumerate(keys):
        if key[1] and key in keys[:index]:
            errors[f"targets-{index}-kind"] = str(_l("This target is listed twice."))
    if submitting and not targets and not data.get("kept_targets"):
        errors["targets"] = str(_l("Name at least one target before submitting."))
    return errors


def _check_intake_officer(actor: User) -> None:
    if not may_open_referral(actor):
        raise NotAllowed(str(_l("Only an education department's intake officer opens referrals.")))


def next_referral_number(year: int) -> str:
    prefix = f"XS{year}-"
    last = db.session.scalar(
        select(func.max(Referral.number)).where(Referral.number.like(f"{prefix}%"))
    )
    serial = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{serial:06d}"


def _clean_target(data: dict) -> dict:
    return {k: (data.get(k) or "").strip() or None for k in TARGET_FIELDS if k != "note"} | {
        "note": (data.get("note") or "").strip()}


def open_referral(data: dict, actor: User, *, submitting: bool = False) -> Referral:
    """Open a draft referral in the actor's education department, with its targets."""
    _check_intake_officer(actor)
    if errors := referral_errors(data, submitting=submitting):
        raise ValidationFailed(errors)
    title = data["title"].strip()
    referral = Referral(
        number=next_referral_number(utcnow().year),
        title=title,
        source=data["source"],
        summary=(data.get("summary") or "").strip(),
        region_code=(data.get("region_code") or "").strip() or actor.agency.region_code,
        origin_agency=actor.agency,
        created_by=actor,
        owner=actor,
        state=declarations().lifecycle("referral").initial,
    )
    db.session.add(referral)
    db.session.flush()
    record_event("referral.create", actor, referral, to_state=referral.state,
                 payload={"number": referral.number, "title": title, "owner_id": actor.id})
    for target_data in data.get("targets") or []:
        add_target(referral, target_data, actor)
    return referral


def update_referral(referral: Referral, data: dict, actor: User, *, submitting: bool = False) -> Referral:
    """Edit a draft (or a referral returned for more material): fields and the set of targets."""
    _check_intake_officer(actor)
    if not may_edit_referral(actor, referral):
        raise NotAllowed(str(_l("This referral can no longer be edited.")))
    if errors := referral_errors(data, submitting=submitting):
        raise ValidationFailed(errors)
    before = {"title": referral.title, "source": referral.source, "summary": referral.summary,
              "region_code": referral.region_code}
    referral.title = data["title"].strip()
    referral.source = data["source"]
    referral.summary = (data.get("summary") or "").strip()
    referral.region_code = (data.get("region_code") or "").strip() or actor.agency.region_code
    wanted = {target_identity(_clean_target(t)): t for t in data.get("targets") or []}
    shown = set(data["shown_target_ids"]) if "shown_target_ids" in data else None  # None: the form showed all
    for link in list(referral.target_links):
        if (shown is None or link.target_id in shown) and (link.target.kind, link.target.key) not in wanted:
            referral.target_links.remove(link)
            record_event("referral.remove_target", actor, referral,
                         payload={"target_id": link.target_id, "key": link.target.key})
    db.session.flush()
    for target_data in wanted.values():
        add_target(referral, target_data, actor)
    changed = {k: v for k, v in before.items() if getattr(referral, k) != v}
    record_event("referral.update", actor, referral, payload={"changed": sorted(changed)})
    db.session.flush()
    return referral


def add_target(referral: Referral, data: dict, actor: User) -> ReferralTarget:
    """Link a (registered or new) target to the referral."""
    target = register_target(_clean_target(data), actor)
    link = db.session.scalar(select(ReferralTarget).where(
        ReferralTarget.referral_id == referral.id, ReferralTarget.target_id == target.id))
    if link is None:
        link = ReferralTarget(referral=referral, target=target, note=(data.get("note") or "").strip(),
                              added_by=actor)
        db.session.add(link)
        db.session.flush()
        record_event("referral.add_target", actor, referral,
                     payload={"target_id": target.id, "kind": target.kind, "key": target.key})
    return link


def attach_files(referral: Referral, uploads: list[tuple], actor: User) -> list:
    """Attach uploaded evidence files through the evidence service (one call per file); a refused
    file is reported on the form's ``evidence`` field (its refusal stays audited)."""
    if not uploads:
        return []
    attached = []
    for storage, meta in uploads:
        try:
            attached.append(attach_evidence(referral, storage, meta, actor))
        except ValidationFailed as error:
            problems = error.errors.values() if isinstance(error.errors, dict) else error.errors
            refused = ValidationFailed({"evidence": f"{storage.filename}: {'; '.join(map(str, problems))}"})
            refused.audit = error.audit
            raise refused from error
    return attached
