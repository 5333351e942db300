"""Takedown metrics: time from routing to receipt, to disposition and to verified offline."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from casework.assignments.models import Assignment
from casework.extensions import db
from casework.referrals.models import Referral
from casework.referrals.scoping import referral_scope
from casework.targets.models import ReferralTarget, TargetStatusCheck
from casework.targets.text import _


@dataclass
class AssignmentTimes:
    assignment_id: int
    agency_id: int
    agency_name: str
    routed_at: datetime
    to_receipt: timedelta | None
    to_disposition: timedelta | None
    to_offline: timedelta | None


@dataclass
class Summary:
    count: int
    done: int
    median: timedelta | None
    mean: timedelta | None


def first_offline_after(target_ids: list[int], since: datetime) -> dict[int, datetime]:
    """For each target, its first check that found it offline at or after ``since``."""
    if not target_ids:
        return {}
    rows = db.session.execute(
        select(TargetStatusCheck.target_id, func.min(TargetStatusCheck.checked_at))
        .where(TargetStatusCheck.target_id.in_(target_ids), TargetStatusCheck.status == "offline",
               TargetStatusCheck.checked_at >= since)
        .group_by(TargetStatusCheck.target_id)
    ).all()
    return {target_id: _aware(at) for target_id, at in rows}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _since(start: datetime, end: datetime | None) -> timedelta | None:
    return end - start if end is not None and start is not None else None


def _target_ids(referral_id: int) -> list[int]:
    return list(db.session.scalars(
        select(ReferralTarget.target_id).where(ReferralTarget.referral_id == referral_id)))


def assignment_times(assignment: Assignment, target_ids: list[int] | None = None) -> AssignmentTimes:
    """The three durations of one assignment; ``to_offline`` once every target was seen offline."""
    targets = _target_ids(assignment.referral_id) if target_ids is None else target_ids
    offline = first_offline_after(targets, assignment.routed_at)
    verified = max(offline.values()) if targets and len(offline) == len(targets) else None
    return AssignmentTimes(
        assignment_id=assignment.id, agency_id=assignment.agency_id, agency_name=assignment.agency.name,
        routed_at=assignment.routed_at,
        to_receipt=_since(assignment.routed_at, assignment.received_at),
        to_disposition=_since(assignment.routed_at, assignment.disposed_at),
        to_offline=_since(assignment.routed_at, verified),
    )


def referral_metrics(referral) -> list[AssignmentTimes]:
    """One row per assignment of the referral (in routing order)."""
    targets = _target_ids(referral.id)
    return [assignment_times(a, targets) for a in sorted(referral.assignments, key=lambda a: a.id)]


def summarise(values: list[timedelta | None]) -> Summary:
    done = [v for v in values if v is not None]
    if not done:
        return Summary(len(values), 0, None, None)
    seconds = [v.total_seconds() for v in done]
    return Summary(len(values), len(done), timedelta(seconds=statistics.median(seconds)),
                   timedelta(seconds=statistics.fmean(seconds)))


def agency_metrics(agency_id: int, since: datetime | None = None) -> dict[str, Summary]:
    """Median and mean of each duration over the agency's assignments (routed since ``since``)."""
    query = select(Assignment).where(Assignment.agency_id == agency_id)
    if since is not None:
        query = query.where(Assignment.routed_at >= since)
    rows = [assignment_times(a) for a in db.session.scalars(query.order_by(Assignment.id))]
    return {
        "to_receipt": summarise([r.to_receipt for r in rows]),
        "to_disposition": summarise([r.to_disposition for r in rows]),
        "to_offline": summarise([r.to_offline for r in rows]),
    }


def scoped_agency_metrics(user, since: datetime | None = None) -> list[tuple[str, dict[str, Summary]]]:
    """Per agency, over the assignments of the referrals ``user`` may see: (agency name, summaries)."""
    visible = aliased(Assignment)
    query = select(visible).where(visible.referral_id.in_(select(Referral.id).where(referral_scope(user))))
    if since is not None:
        query = query.where(visible.routed_at >= since)
    by_agency: dict[str, list[AssignmentTimes]] = {}
    for assignment in db.session.scalars(query.order_by(visible.id)):
        times = assignment_times(assignment)
        by_agency.setdefault(times.agency_name, []).append(times)
    return [(name, {"to_receipt": summarise([r.to_receipt for r in rows]),
                    "to_disposition": summarise([r.to_disposition for r in rows]),
                    "to_offline": summarise([r.to_offline for r in rows])})
            for name, rows in sorted(by_agency.items())]


def target_time_to_offline(target, referrals) -> timedelta | None:
    """From the first routing of any of ``referrals`` to the target's first verified offline check."""
    routed = [a.routed_at for r in referrals for a in r.assignments if a.routed_at is not None]
    if not routed:
        return None
    start = min(routed)
    return _since(start, first_offline_after([target.id], start).get(target.id))


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h", d=days, h=hours)
    if hours:
        return _("%(h)d h %(m)d min", h=hours, m=minutes)
    return _("%(m)d min", m=minutes)
