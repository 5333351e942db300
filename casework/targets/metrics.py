"""Takedown metrics: time from routing to receipt, to disposition and to verified offline."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.orm import aliased

from casework.agencies.models import Agency
from casework.assignments.models import Assignment
from casework.db_types import UTCDateTime
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


def _times(where: Callable[[type[Assignment]], list]) -> list[AssignmentTimes]:
    """The durations of every assignment that ``where(entity)`` selects, in one statement.

    ``to_offline`` runs to the moment the last of the referral's targets was first seen offline after
    routing, and stays empty until every target has been."""
    chosen_entity = aliased(Assignment)
    chosen = select(chosen_entity.id, chosen_entity.referral_id, chosen_entity.routed_at) \
        .where(*where(chosen_entity)).cte("chosen")
    first_offline = (
        select(chosen.c.id.label("assignment_id"),
               func.min(TargetStatusCheck.checked_at).label("offline_at"))
        .join(ReferralTarget, ReferralTarget.referral_id == chosen.c.referral_id)
        .outerjoin(TargetStatusCheck, and_(TargetStatusCheck.target_id == ReferralTarget.target_id,
                                           TargetStatusCheck.status == "offline",
                                           TargetStatusCheck.checked_at >= chosen.c.routed_at))
        .group_by(chosen.c.id, ReferralTarget.target_id)
    ).subquery()
    all_offline = func.count() == func.count(first_offline.c.offline_at)
    verified = (
        select(first_offline.c.assignment_id,
               type_coerce(case((all_offline, func.max(first_offline.c.offline_at))), UTCDateTime)
               .label("verified_at"))
        .group_by(first_offline.c.assignment_id)
    ).subquery()
    rows = db.session.execute(
        select(Assignment.id, Assignment.agency_id, Agency.name, Assignment.routed_at,
               Assignment.received_at, Assignment.disposed_at, verified.c.verified_at)
        .join(chosen, chosen.c.id == Assignment.id)
        .join(Agency, Agency.id == Assignment.agency_id)
        .outerjoin(verified, verified.c.assignment_id == Assignment.id)
        .order_by(Assignment.id)
    ).all()
    return [AssignmentTimes(assignment_id=row.id, agency_id=row.agency_id, agency_name=row.name,
                            routed_at=row.routed_at, to_receipt=_since(row.routed_at, row.received_at),
                            to_disposition=_since(row.routed_at, row.disposed_at),
                            to_offline=_since(row.routed_at, row.verified_at))
            for row in rows]


def referral_metrics(referral) -> list[AssignmentTimes]:
    """One row per assignment of the referral (in routing order)."""
    return _times(lambda entity: [entity.referral_id == referral.id])


def summarise(values: list[timedelta | None]) -> Summary:
    done = [v for v in values if v is not None]
    if not done:
        return Summary(len(values), 0, None, None)
    seconds = [v.total_seconds() for v in done]
    return Summary(len(values), len(done), timedelta(seconds=statistics.median(seconds)),
                   timedelta(seconds=statistics.fmean(seconds)))


def _summaries(rows: list[AssignmentTimes]) -> dict[str, Summary]:
    return {"to_receipt": summarise([r.to_receipt for r in rows]),
            "to_disposition": summarise([r.to_disposition for r in rows]),
            "to_offline": summarise([r.to_offline for r in rows])}


def _routed_since(entity, since: datetime | None) -> list:
    return [] if since is None else [entity.routed_at >= since]


def agency_metrics(agency_id: int, since: datetime | None = None) -> dict[str, Summary]:
    """Median and mean of each duration over the agency's assignments (routed since ``since``)."""
    return _summaries(_times(lambda entity: [entity.agency_id == agency_id, *_routed_since(entity, since)]))


def scoped_agency_metrics(user, since: datetime | None = None) -> list[tuple[str, dict[str, Summary]]]:
    """Per agency, over the assignments of the referrals ``user`` may see: (agency name, summaries)."""
    rows = _times(lambda entity: [entity.referral_id.in_(select(Referral.id).where(referral_scope(user))),
                                  *_routed_since(entity, since)])
    by_agency: dict[str, list[AssignmentTimes]] = {}
    for times in rows:
        by_agency.setdefault(times.agency_name, []).append(times)
    return [(name, _summaries(agency_rows)) for name, agency_rows in sorted(by_agency.items())]


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
