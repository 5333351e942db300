"""Referral services: open a draft with its targets."""
from __future__ import annotations

from sqlalchemy import func, select

from casework.accounts.models import User
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import NotAllowed, ValidationFailed
from casework.extensions import db
from casework.referrals.models import REFERRAL_SOURCES, Referral
from casework.targets.models import ReferralTarget
from casework.targets.services import register_target


def next_referral_number(year: int) -> str:
    prefix = f"XS{year}-"
    last = db.session.scalar(
        select(func.max(Referral.number)).where(Referral.number.like(f"{prefix}%"))
    )
    serial = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{serial:06d}"


def open_referral(data: dict, actor: User) -> Referral:
    """Open a draft referral in the actor's education department, with its targets."""
    if actor.agency.kind != "education" or not actor.has_role("intake_officer"):
        raise NotAllowed("only an education department's intake officer opens referrals")
    errors = {}
    title = (data.get("title") or "").strip()
    if not title or len(title) > 200:
        errors["title"] = "a title of at most 200 characters is required"
    if data.get("source") not in REFERRAL_SOURCES:
        errors["source"] = f"source must be one of {', '.join(REFERRAL_SOURCES)}"
    if errors:
        raise ValidationFailed(errors)
    referral = Referral(
        number=next_referral_number(utcnow().year),
        title=title,
        source=data["source"],
        summary=(data.get("summary") or "").strip(),
        region_code=data.get("region_code") or actor.agency.region_code,
        origin_agency=actor.agency,
        created_by=actor,
        state="draft",
    )
    db.session.add(referral)
    db.session.flush()
    record_event("referral.create", actor, referral, to_state="draft",
                 payload={"number": referral.number, "title": title})
    for target_data in data.get("targets") or []:
        add_target(referral, target_data, actor)
    return referral


def add_target(referral: Referral, data: dict, actor: User) -> ReferralTarget:
    """Link a (registered or new) target to the referral."""
    target = register_target(data, actor)
    link = db.session.scalar(select(ReferralTarget).where(
        ReferralTarget.referral_id == referral.id, ReferralTarget.target_id == target.id))
    if link is None:
        link = ReferralTarget(referral=referral, target=target, note=data.get("note", ""), added_by=actor)
        db.session.add(link)
        db.session.flush()
        record_event("referral.add_target", actor, referral,
                     payload={"target_id": target.id, "kind": target.kind, "key": target.key})
    return link
