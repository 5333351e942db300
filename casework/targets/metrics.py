"""Takedown metrics: time from routing to receipt, to disposition and to verified offline."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Collection

from sqlalchemy import Float, Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import aliased

from casework.agencies.models import Agency
from casework.assignments.models import Assignment
from casework.extensions import db
from casework.referrals.models import Referral
from casework.access.scope import referral_scope
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


class seconds_between(FunctionElement):
    """``end - start`` in seconds (to the millisecond), NULL when either is NULL."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between_postgresql(element, compiler, **kw):
    end, start = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"ROUND(EXTRACT(EPOCH FROM ({end} - {start})) * 1000) / 1000.0"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    end, start = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"ROUND((julianday({end}) - julianday({start})) * 86400000.0) / 1000.0"


DURATIONS = ("to_receipt", "to_disposition", "to_offline")


def _durations(where: Callable[[type[Assignment]], list]) -> Select:
    """A statement selecting (id, agency_id, agency_name, routed_at, to_receipt, to_disposition,
    to_offline), the durations in seconds, of every assignment that ``where(entity)`` selects.

    ``to_offline`` runs to the moment the last of the referral's targets was first seen offline after
    routing, and stays empty until every target has been."""
    chosen_entity = aliased(Assignment)
    chosen = select(chosen_entity.id, chosen_entity.referral_id, chosen_entity.routed_at) \
        .where(*where(chosen_entity)).cte("chosen")
    first_offline = (
        select(chosen.c.id.label("assignment_id"), chosen.c.referral_id,
               func.min(TargetStatusCheck.checked_at).label("offline_at"))
        .join(ReferralTarget, ReferralTarget.referral_id == chosen.c.referral_id)
        .join(TargetStatusCheck, and_(TargetStatusCheck.target_id == ReferralTarget.target_id,
                                      TargetStatusCheck.status == "offline",
                                      TargetStatusCheck.checked_at >= chosen.c.routed_at))
        .group_by(chosen.c.id, chosen.c.referral_id, ReferralTarget.target_id)
    ).subquery()
    target_count = (select(func.count()).select_from(ReferralTarget)
                    .where(ReferralTarget.referral_id == first_offline.c.referral_id).scalar_subquery())
    verified = (
        select(first_offline.c.assignment_id, func.max(first_offline.c.offline_at).label("verified_at"))
        .group_by(first_offline.c.assignment_id, first_offline.c.referral_id)
        .having(func.count() == target_count)
    ).subquery()
    return (
        select(Assignment.id, Assignment.agency_id, Agency.name.label("agency_name"), Assignment.routed_at,
               seconds_between(Assignment.received_at, Assignment.routed_at).label("to_receipt"),
               seconds_between(Assignment.disposed_at, Assignment.routed_at).label("to_disposition"),
               seconds_between(verified.c.verified_at, Assignment.routed_at).label("to_offline"))
        .join(chosen, chosen.c.id == Assignment.id)
        .join(Agency, Agency.id == Assignment.agency_id)
        .outerjoin(verified, verified.c.assignment_id == Assignment.id)
    )


def _delta(seconds) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=float(seconds))


def referral_metrics(*referrals) -> list[AssignmentTimes]:
    """One row per assignment of the referrals (in routing order), in one statement."""
    ids = [referral.id for referral in referrals]
    return [AssignmentTimes(row.id, row.agency_id, row.agency_name, row.routed_at,
                            *(_delta(getattr(row, name)) for name in DURATIONS))
            for row in db.session.execute(
                _durations(lambda entity: [entity.referral_id.in_(ids)]).order_by("id"))]


def _medians(durations, name: str):
    """Per agency, the median of one duration over the assignments where it is known."""
    value = durations.c[name]
    ranked = select(
        durations.c.agency_id, value.label("value"),
        func.row_number().over(partition_by=durations.c.agency_id, order_by=value).label("rank"),
        func.count().over(partition_by=durations.c.agency_id).label("known"),
    ).where(value.is_not(None)).subquery()
    middle = or_(ranked.c.rank == (ranked.c.known + 1) // 2, ranked.c.rank == (ranked.c.known + 2) // 2)
    return (select(ranked.c.agency_id, func.avg(ranked.c.value).label("median"))
            .where(middle).group_by(ranked.c.agency_id).subquery(f"median_{name}"))


def _summaries_by_agency(where: Callable[[type[Assignment]], list]) -> dict[int, tuple[str, dict[str, Summary]]]:
    """Count, count known, median and mean of each duration per agency, computed by the database:
    {agency id: (agency name, {duration: Summary})}."""
    durations = _durations(where).cte("durations")
    medians = {name: _medians(durations, name) for name in DURATIONS}
    columns = [durations.c.agency_id, durations.c.agency_name, func.count().label("total")]
    for name in DURATIONS:
        columns += [func.count(durations.c[name]).label(f"{name}_known"),
                    func.avg(durations.c[name]).label(f"{name}_mean"),
                    func.max(medians[name].c.median).label(f"{name}_median")]
    statement = select(*columns).group_by(durations.c.agency_id, durations.c.agency_name)
    for median in medians.values():
        statement = statement.outerjoin(median, median.c.agency_id == durations.c.agency_id)
    summaries = {}
    for row in db.session.execute(statement).mappings():
        summaries[row["agency_id"]] = (row["agency_name"], {
            name: Summary(row["total"], row[f"{name}_known"], _delta(row[f"{name}_median"]),
                          _delta(row[f"{name}_mean"]))
            for name in DURATIONS})
    return summaries


def _routed_since(entity, since: datetime | None) -> list:
    return [] if since is None else [entity.routed_at >= since]


def agency_metrics(agency_ids: Collection[int], since: datetime | None = None) -> dict[int, dict[str, Summary]]:
    """Per agency id, median and mean of each duration over all its assignments (routed since
    ``since``), in one statement; empty summaries for an agency without any."""
    found = _summaries_by_agency(lambda entity: [entity.agency_id.in_(agency_ids), *_routed_since(entity, since)])
    empty = {name: Summary(0, 0, None, None) for name in DURATIONS}
    return {agency_id: found[agency_id][1] if agency_id in found else empty for agency_id in agency_ids}


def scoped_agency_metrics(user, since: datetime | None = None) -> list[tuple[str, dict[str, Summary]]]:
    """Per agency, over the assignments of the referrals ``user`` may see: (agency name, summaries)."""
    found = _summaries_by_agency(lambda entity: [
        entity.referral_id.in_(select(Referral.id).where(referral_scope(user))), *_routed_since(entity, since)])
    return sorted(found.values(), key=lambda item: item[0])


# The milestones of an assignment, each timed from its routing.
MILESTONES = {"receive": Assignment.received_at, "accept": Assignment.accepted_at,
              "dispose": Assignment.disposed_at, "feedback": Assignment.feedback_at}


def milestone_percentiles(assignment_ids: Select, group) -> Select:
    """One statement selecting, per ``group`` value (a column of ``Assignment`` or its ``Agency``) and
    milestone: ``known`` (assignments that reached it), ``median`` and ``p90`` (nearest rank) of the
    seconds from routing to it, over the assignments whose ids ``assignment_ids`` selects. The
    database ranks the values with window functions; nothing is read row by row."""
    chosen = assignment_ids.cte("chosen_assignments")
    values = union_all(*(
        select(group.label("grp"), literal(name).label("milestone"),
               seconds_between(column, Assignment.routed_at).label("value"))
        .select_from(Assignment).join(chosen, chosen.c[0] == Assignment.id)
        .join(Agency, Agency.id == Assignment.agency_id).where(column.is_not(None))
        for name, column in MILESTONES.items())).subquery("milestone_values")
    window = {"partition_by": (values.c.grp, values.c.milestone)}
    ranked = select(values.c.grp, values.c.milestone, values.c.value,
                    func.row_number().over(**window, order_by=values.c.value).label("rank"),
                    func.count().over(**window).label("known")).subquery("ranked_values")
    middle = or_(ranked.c.rank == (ranked.c.known + 1) // 2, ranked.c.rank == (ranked.c.known + 2) // 2)
    return (select(ranked.c.grp, ranked.c.milestone, func.max(ranked.c.known).label("known"),
                   func.avg(case((middle, ranked.c.value))).label("median"),
                   func.min(case((ranked.c.rank * 10 >= ranked.c.known * 9, ranked.c.value))).label("p90"))
            .group_by(ranked.c.grp, ranked.c.milestone))


def target_time_to_offline(target, referrals) -> timedelta | None:
    """From the first routing of any of ``referrals`` to the target's first verified offline check."""
    start = db.session.scalar(select(func.min(Assignment.routed_at))
                              .where(Assignment.referral_id.in_([r.id for r in referrals])))
    if start is None:
        return None
    start = _aware(start)
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
