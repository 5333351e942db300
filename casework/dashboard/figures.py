"""The picture across agencies and provinces, computed by the database in a fixed number of
statements whatever the number of referrals: states, per-agency counts and overdue rates, the
median and 90th percentile of each milestone per agency and per agency kind, disposal outcomes
per target kind and the targets back online after a takedown.

The referrals counted are those of the search page with the same filters (``search_query``: the
user's scope, province and period), so every figure can link to the list it counts. An agency's
desk counts its own assignments only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, distinct, func, select

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.assignments.models import Assignment, Disposition, DispositionAction
from casework.db_types import utcnow
from casework.extensions import db
from casework.inbox.tabs import is_agency_desk
from casework.referrals.queries import SearchFilters, open_states, search_query
from casework.referrals.models import Referral
from casework.targets.metrics import MILESTONES, milestone_percentiles
from casework.targets.models import ReferralTarget, Target

BACK_ONLINE_LISTED = 20


@dataclass
class StateCount:
    state: str
    is_open: bool
    count: int


@dataclass
class Timing:
    known: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


@dataclass
class GroupFigures:
    """One agency (``key`` its code) or agency kind (``key`` the kind)."""
    key: str
    name: str
    kind: str
    referrals: int = 0
    assignments: int = 0
    open: int = 0
    overdue: int = 0
    timings: dict[str, Timing] = field(default_factory=dict)

    @property
    def overdue_rate(self) -> float | None:
        return self.overdue / self.open if self.open else None


@dataclass
class Outcome:
    target_kind: str
    action: str
    outcome: str
    count: int


@dataclass
class BackOnline:
    target_id: int
    name: str
    key: str
    kind: str
    back_online_at: datetime | None


@dataclass
class Overview:
    subject: str  # "referral" (education desks) or "assignment" (an agency's own)
    states: list[StateCount]
    agencies: list[GroupFigures]
    kinds: list[GroupFigures]
    outcomes: list[Outcome]
    back_online_count: int
    back_online: list[BackOnline]

    @property
    def open_total(self) -> int:
        return sum(s.count for s in self.states if s.is_open)

    @property
    def closed_total(self) -> int:
        return sum(s.count for s in self.states if not s.is_open)


def _referral_ids(user: User, filters: SearchFilters):
    return search_query(user, filters).with_only_columns(Referral.id).order_by(None)


def _assignment_ids(user: User, referral_ids):
    query = select(Assignment.id).where(Assignment.referral_id.in_(referral_ids))
    if is_agency_desk(user):
        query = query.where(Assignment.agency_id == user.agency_id)
    return query


def _states(user: User, referral_ids, assignment_ids) -> tuple[str, list[StateCount]]:
    subject, model, ids = (("assignment", Assignment, assignment_ids) if is_agency_desk(user)
                           else ("referral", Referral, referral_ids))
    still_open = open_states(subject)
    rows = db.session.execute(select(model.state, func.count()).where(model.id.in_(ids))
                              .group_by(model.state).order_by(model.state)).all()
    return subject, [StateCount(state, state in still_open, count) for state, count in rows]


def _late(now: datetime):
    return and_(Assignment.state.in_(open_states("assignment")),
                (Assignment.overdue.is_(True)) | and_(Assignment.due_at.is_not(None), Assignment.due_at < now))


def _agency_counts(assignment_ids, now: datetime) -> dict[int, GroupFigures]:
    statement = (
        select(Agency.id, Agency.code, Agency.name, Agency.kind, func.count().label("assignments"),
               func.count(distinct(Assignment.referral_id)).label("referrals"),
               func.sum(case((Assignment.state.in_(open_states("assignment")), 1), else_=0)).label("open"),
               func.sum(case((_late(now), 1), else_=0)).label("overdue"))
        .join(Agency, Agency.id == Assignment.agency_id).where(Assignment.id.in_(assignment_ids))
        .group_by(Agency.id, Agency.code, Agency.name, Agency.kind))
    return {row.id: GroupFigures(row.code, row.name, row.kind, row.referrals, row.assignments,
                                 int(row.open or 0), int(row.overdue or 0))
            for row in db.session.execute(statement)}


def _timings(assignment_ids, group) -> dict[object, dict[str, Timing]]:
    found: dict[object, dict[str, Timing]] = {}
    for row in db.session.execute(milestone_percentiles(assignment_ids, group)):
        found.setdefault(row.grp, {})[row.milestone] = Timing(
            row.known, _delta(row.median), _delta(row.p90))
    return found


def _delta(seconds) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=float(seconds))


def _by_kind(agencies: list[GroupFigures], timings: dict) -> list[GroupFigures]:
    kinds: dict[str, GroupFigures] = {}
    for agency in agencies:
        kind = kinds.setdefault(agency.kind, GroupFigures(agency.kind, agency.kind, agency.kind))
        kind.assignments += agency.assignments
        kind.open += agency.open
        kind.overdue += agency.overdue
    for key, kind in kinds.items():
        kind.timings = timings.get(key, {})
    return sorted(kinds.values(), key=lambda k: k.key)


def _outcomes(assignment_ids) -> list[Outcome]:
    statement = (
        select(Target.kind, DispositionAction.action, DispositionAction.outcome, func.count())
        .join(Target, Target.id == DispositionAction.target_id)
        .join(Disposition, Disposition.id == DispositionAction.disposition_id)
        .where(Disposition.assignment_id.in_(assignment_ids), DispositionAction.executed_at.is_not(None))
        .group_by(Target.kind, DispositionAction.action, DispositionAction.outcome)
        .order_by(Target.kind, DispositionAction.action, DispositionAction.outcome))
    return [Outcome(*row) for row in db.session.execute(statement)]


def _back_online(referral_ids) -> tuple[int, list[BackOnline]]:
    """Targets of the referrals found online again after a takedown: how many, and the latest ones."""
    targets = select(ReferralTarget.target_id).where(ReferralTarget.referral_id.in_(referral_ids))
    found = Target.back_online.is_(True) & Target.id.in_(targets)
    count = db.session.scalar(select(func.count()).select_from(Target).where(found))
    listed = db.session.execute(
        select(Target.id, Target.name, Target.key, Target.kind, Target.back_online_at).where(found)
        .order_by(Target.back_online_at.desc(), Target.id.desc()).limit(BACK_ONLINE_LISTED)).all()
    return count, [BackOnline(*row) for row in listed]


def overview(user: User, filters: SearchFilters, now: datetime | None = None) -> Overview:
    """The figures of ``user``'s scope under ``filters`` (province and period): seven statements,
    and the scope's own (``referral_scope``)."""
    now = now or utcnow()
    referral_ids = _referral_ids(user, filters)
    assignment_ids = _assignment_ids(user, referral_ids)
    subject, states = _states(user, referral_ids, assignment_ids)
    by_agency = _agency_counts(assignment_ids, now)
    agency_timings = _timings(assignment_ids, Agency.id)
    for agency_id, figures in by_agency.items():
        figures.timings = agency_timings.get(agency_id, {})
    agencies = sorted(by_agency.values(), key=lambda a: (a.kind, a.key))
    kinds = _by_kind(agencies, _timings(assignment_ids, Agency.kind))
    back_count, back_listed = _back_online(referral_ids)
    return Overview(subject, states, agencies, kinds, _outcomes(assignment_ids), back_count, back_listed)


MILESTONE_NAMES = tuple(MILESTONES)
