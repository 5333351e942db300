"""Status history of targets: record checks, track verified takedowns and flag comebacks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from casework.assignments.models import Disposition, DispositionAction
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.targets.models import CHECK_METHODS, TARGET_STATUSES, Target, TargetStatusCheck
from casework.targets.text import _

COMPLETED_OUTCOMES = ("done", "partial")


def completed_takedown_at(target_id: int, before: datetime) -> datetime | None:
    """When the latest completed disposal action against the target was executed (not after ``before``)."""
    return db.session.scalar(
        select(DispositionAction.executed_at)
        .join(Disposition, DispositionAction.disposition_id == Disposition.id)
        .where(DispositionAction.target_id == target_id,
               DispositionAction.outcome.in_(COMPLETED_OUTCOMES),
               DispositionAction.executed_at.is_not(None),
               DispositionAction.executed_at <= before)
        .order_by(DispositionAction.executed_at.desc()).limit(1)
    )


def record_status_check(target: Target, result: dict, actor=None) -> TargetStatusCheck:
    """Append one observation to the target's history and update its current status.

    ``result``: status (online/offline/unknown), method (http/manual), detail, optional
    http_status, final_url, redirects, evidence (an Evidence of one of the target's referrals),
    checked_at. An ``online`` observation after a completed takedown flags the target as back
    online on all its referrals; a later ``offline`` clears the flag.
    """
    status, method = result.get("status"), result.get("method")
    errors = {}
    if status not in TARGET_STATUSES:
        errors["status"] = _("Choose online, offline or undetermined.")
    if method not in CHECK_METHODS:
        errors["method"] = _("Unknown check method.")
    if method == "manual" and actor is None:
        errors["method"] = _("A manual check needs the officer who made it.")
    if errors:
        raise ValidationFailed(errors)
    checked_at = result.get("checked_at") or utcnow()
    previous = target.status
    check = TargetStatusCheck(
        target=target, status=status, method=method, checked_at=checked_at,
        detail=(result.get("detail") or "")[:4000], http_status=result.get("http_status"),
        final_url=result.get("final_url"), redirects=result.get("redirects") or [],
        checked_by=actor if method == "manual" else None, evidence=result.get("evidence"),
    )
    db.session.add(check)
    target.status = status
    target.status_checked_at = checked_at
    if status == "offline" and previous != "offline":
        target.offline_since = checked_at
    if status == "offline":
        target.back_online = False
    if status == "online":
        target.offline_since = None
        takedown = completed_takedown_at(target.id, checked_at)
        if takedown is not None and not target.back_online:
            check.back_online = True
            target.back_online = True
            target.back_online_at = checked_at
    db.session.flush()
    record_event("target.check", actor, target, trigger=method, from_state=previous, to_state=status,
                 payload={"check_id": check.id, "http_status": check.http_status,
                          "evidence_id": result["evidence"].id if result.get("evidence") else None})
    if check.back_online:
        for link in target.referral_links:
            record_event("referral.target_back_online", actor, link.referral,
                         payload={"target_id": target.id, "key": target.key, "check_id": check.id})
    return check
