"""Inbox tabs, search and lists: every query starts from the user's scope.

Each page costs a fixed number of SQL statements: one for the tab counts, one for the
total of the current list and one for the rows (their agencies are joined eagerly).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, false, func, literal, or_, select
from sqlalchemy.orm import aliased

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.assignments.models import Assignment
from casework.db_types import utcnow
from casework.extensions import db
from casework.referrals.models import Referral
from casework.referrals.scoping import desk_referrals, has_case_role, scoped_referrals
from casework.targets.models import ReferralTarget, Target
from casework.web.i18n import CST

PAGE_SIZE = 30
DUE_SOON = timedelta(days=3)
EXPORT_LIMIT = 10_000
MATERIALISE_LIMIT = 2_000

REFERRAL_TERMINAL = frozenset({"closed", "not_referred", "withdrawn"})
ASSIGNMENT_TERMINAL = frozenset({"closed", "transferred", "refusal_upheld", "refusal_accepted"})

# Which states put an item on which tab, per desk (states of workflows/*.toml).
EDUCATION_TABS = {
    "receive": frozenset({"submitted"}),
    "action": frozenset({"draft", "under_assessment", "approved"}),
    "approval": frozenset({"assessed"}),
}
# Assignment states in which the referring department has to act (supplement, reconsider, close).
ORIGIN_ACTION_STATES = frozenset({"returned", "declined", "feedback_sent"})
AGENCY_TABS = {
    "receive": frozenset({"sent"}),
    "action": frozenset({"received", "accepted", "investigating", "disposition_approved", "executed", "no_penalty"}),
    "approval": frozenset({"disposition_proposed", "reconsideration_requested"}),
}
TAB_LABELS = {
    "receive": _l("New to receive"),
    "action": _l("Awaiting our action"),
    "approval": _l("Awaiting approval"),
    "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"),
    "all": _l("All"),
}
TAB_ORDER = ("receive", "action", "approval", "due_soon", "overdue", "all")


@dataclass
class Tab:
    key: str
    label: object
    count: int


@dataclass
class InboxRow:
    referral: Referral | ListedItem
    assignment: Assignment | ListedItem | None = None

    @property
    def due_at(self) -> datetime | None:
        return self.assignment.due_at if self.assignment else self.referral.due_at

    @property
    def state(self) -> str:
        return self.assignment.state if self.assignment else self.referral.state

    @property
    def is_overdue(self) -> bool:
        item = self.assignment or self.referral
        terminal = ASSIGNMENT_TERMINAL if self.assignment else REFERRAL_TERMINAL
        if item.state in terminal:
            return False
        return bool(item.overdue or (item.due_at is not None and item.due_at < utcnow()))


class ListedItem(SimpleNamespace):
    """The listed columns of a referral or assignment on an inbox page (read-only)."""


class ListedAgency(SimpleNamespace):
    """The listed columns of an agency."""


@dataclass
class Page:
    rows: list[InboxRow]
    total: int | None
    page: int
    has_next: bool = False
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int | None:
        if self.total is None:
            return None
        return max(1, math.ceil(self.total / self.page_size))


def is_agency_desk(user: User) -> bool:
    return user.agency.kind != "education"


@functools.cache
def open_states(subject: str) -> frozenset[str]:
    """States of the referral (or of any assignment variant) that are not final."""
    from workflows import declarations

    states: set[str] = set()
    for lifecycle in declarations().lifecycles.values():
        if lifecycle.subject == subject:
            states |= set(lifecycle.states) - lifecycle.final_states()
    return frozenset(states)


class Desk:
    """One user's inbox. Every query starts from the desk's part of the scope (``desk_referrals``).

    An education desk lists the referrals of its own (and supervised) departments; an agency desk
    lists its agency's assignments. Tab counts cover open work only, so they cost the same at
    100,000 referrals as at 100; the "all" tab is paged without a total.
    """

    def __init__(self, user: User, now: datetime | None = None):
        self.user = user = getattr(user, "_get_current_object", lambda: user)()
        self.agency = user.agency
        self.now = now or utcnow()
        self.agency_desk = is_agency_desk(user)
        self.base = desk_referrals(user)
        if self.agency_desk:
            self.item, self.tabs, self.terminal = Assignment, AGENCY_TABS, ASSIGNMENT_TERMINAL
            self.open = open_states("assignment")
        else:
            self.item, self.tabs, self.terminal = Referral, EDUCATION_TABS, REFERRAL_TERMINAL
            self.open = open_states("referral")

    def _select(self, *columns):
        """The desk's items reduced to ``columns``; an agency desk counts its assignments alone
        (every assignment has its referral), so the counts come from the assignments' index."""
        if not self.agency_desk:
            return self.base.with_only_columns(*columns)
        query = select(*columns).select_from(Assignment).where(Assignment.agency_id == self.user.agency_id)
        return query if has_case_role(self.user) else query.where(false())

    def _due(self):
        item, now = self.item, self.now
        due_soon = and_(item.due_at.is_not(None), item.due_at >= now, item.due_at < now + DUE_SOON,
                        item.overdue.is_(False))
        overdue = or_(item.overdue.is_(True), and_(item.due_at.is_not(None), item.due_at < now))
        return due_soon, overdue

    def condition(self, tab: str):
        due_soon, overdue = self._due()
        open_ = self.item.state.in_(self.open)
        if tab == "action" and not self.agency_desk:
            return or_(self.item.state.in_(self.tabs[tab]), and_(open_, _origin_action()))
        if tab in self.tabs:
            return self.item.state.in_(self.tabs[tab])
        return {"due_soon": and_(open_, due_soon), "overdue": and_(open_, overdue)}.get(tab, literal(True))

    def tabs_with_counts(self) -> list[Tab]:
        """The tabs with their counts, in one grouped query over the open items."""
        due_soon, overdue = self._due()
        waiting = literal(0)
        if not self.agency_desk:
            waiting = func.sum(case((and_(self.item.state.not_in(self.tabs["action"]), _origin_action()), 1),
                                    else_=0))
        query = self._select(
            self.item.state, func.count(),
            func.sum(case((due_soon, 1), else_=0)), func.sum(case((overdue, 1), else_=0)), waiting,
        ).where(self.item.state.in_(self.open)).group_by(self.item.state)
        counts: dict[str, int | None] = dict.fromkeys(TAB_ORDER, 0)
        for state, total, soon, late, origin_waiting in db.session.execute(query):
            counts["due_soon"] += soon or 0
            counts["overdue"] += late or 0
            counts["action"] += origin_waiting or 0
            for key, states in self.tabs.items():
                if state in states:
                    counts[key] += total
        counts["all"] = None
        return [Tab(key, TAB_LABELS[key], counts[key]) for key in TAB_ORDER]

    def page(self, tab: str, page: int = 1, total: int | None = None) -> Page:
        """One page of the tab's items; on work tabs the earliest due date first.

        Only the columns a list row shows are read, as plain rows (no ORM objects): the row's
        referral and assignment are light records with the same attribute names."""
        origin, columns = _listed_columns(self.agency_desk)
        query = (self.base.where(self.condition(tab)).with_only_columns(*columns)
                 .join(origin, origin.id == Referral.origin_agency_id))
        if tab == "all" and self.agency_desk:
            order = (Assignment.routed_at.desc(), Assignment.id.desc())
        elif tab == "all":
            order = (Referral.created_at.desc(), Referral.id.desc())
        else:
            order = (self.item.due_at.asc().nulls_last(), self.item.id.desc())
        query = query.order_by(*order).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
        rows = [self._row(r) for r in db.session.execute(query)]
        return Page(rows[:PAGE_SIZE], total, page, has_next=len(rows) > PAGE_SIZE)

    def _row(self, r) -> InboxRow:
        referral = ListedItem(id=r.id, number=r.number, title=r.title, region_code=r.region_code,
                              state=r.state, due_at=r.due_at, overdue=r.overdue, created_at=r.created_at,
                              origin_agency=ListedAgency(name=r.origin_name))
        if not self.agency_desk:
            return InboxRow(referral)
        return InboxRow(referral, ListedItem(state=r.held_state, due_at=r.held_due_at, overdue=r.held_overdue,
                                             agency=self.agency))


@functools.cache
def _listed_columns(agency_desk: bool):
    """The origin agency's alias and the columns an inbox row shows."""
    origin = aliased(Agency)
    columns = [Referral.id, Referral.number, Referral.title, Referral.region_code, Referral.state,
               Referral.due_at, Referral.overdue, Referral.created_at, origin.name.label("origin_name")]
    if agency_desk:
        columns += [Assignment.state.label("held_state"), Assignment.due_at.label("held_due_at"),
                    Assignment.overdue.label("held_overdue")]
    return origin, tuple(columns)


def _origin_action():
    """The referral has an assignment waiting for the referring department."""
    return Referral.id.in_(select(Assignment.referral_id).where(Assignment.state.in_(ORIGIN_ACTION_STATES)))


def inbox_tabs(user: User, now: datetime | None = None) -> list[Tab]:
    return Desk(user, now).tabs_with_counts()


@dataclass
class SearchFilters:
    number: str = ""
    target: str = ""
    state: str = ""
    agency: str = ""
    region: str = ""
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> SearchFilters:
        filters = cls(
            number=(args.get("number") or "").strip()[:32],
            target=(args.get("target") or "").strip()[:200],
            state=(args.get("state") or "").strip()[:32],
            agency=(args.get("agency") or "").strip()[:40],
            region=(args.get("region") or "").strip()[:6],
            overdue=args.get("overdue") in ("1", "on", "true"),
        )
        for name in ("date_from", "date_to"):
            raw = (args.get(name) or "").strip()
            if not raw:
                continue
            try:
                setattr(filters, name, date.fromisoformat(raw))
            except ValueError:
                filters.errors[name] = str(_l("Enter a date as YYYY-MM-DD."))
        if filters.region and not filters.region.isdigit():
            filters.errors["region"] = str(_l("A region is given by its digits, e.g. 44 or 440100."))
        return filters

    def as_args(self) -> dict[str, str]:
        args = {"number": self.number, "target": self.target, "state": self.state, "agency": self.agency,
                "region": self.region, "date_from": self.date_from.isoformat() if self.date_from else "",
                "date_to": self.date_to.isoformat() if self.date_to else "",
                "overdue": "1" if self.overdue else ""}
        return {k: v for k, v in args.items() if v}

    @property
    def empty(self) -> bool:
        return not self.as_args()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def target_match(text: str):
    """Targets whose registry key (normalised domain/URL, package name, platform:account) contains
    ``text`` when it looks like an identifier, else whose name contains it. Evaluated once over the
    targets, not once per referral."""
    term = text.strip()
    if term.isascii() and " " not in term:
        term = term.lower().removeprefix("https://").removeprefix("http://")
        return Target.key.like(_like(term), escape="\\")
    return Target.name.like(_like(term), escape="\\")


def _cst_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CST)


def search_query(user: User, filters: SearchFilters, now: datetime | None = None):
    """``scoped_referrals(user)`` with the filters applied (no ordering)."""
    now = now or utcnow()
    query = scoped_referrals(user)
    if filters.number:
        query = query.where(Referral.number.ilike(_like(filters.number), escape="\\"))
    if filters.target:
        named = select(ReferralTarget.referral_id).where(
            ReferralTarget.target_id.in_(select(Target.id).where(target_match(filters.target))))
        found = db.session.scalars(named.limit(MATERIALISE_LIMIT + 1)).all()
        query = query.where(Referral.id.in_(found if len(found) <= MATERIALISE_LIMIT else named))
    if filters.state:
        query = query.where(or_(Referral.state == filters.state, Referral.id.in_(
            select(Assignment.referral_id).where(Assignment.state == filters.state))))
    if filters.agency:
        agency_id = select(Agency.id).where(Agency.code == filters.agency).scalar_subquery()
        query = query.where(or_(Referral.origin_agency_id == agency_id, Referral.id.in_(
            select(Assignment.referral_id).where(Assignment.agency_id == agency_id))))
    if filters.region:
        query = query.where(Referral.region_code.like(f"{filters.region}%"))
    if filters.date_from:
        query = query.where(Referral.created_at >= _cst_start(filters.date_from))
    if filters.date_to:
        query = query.where(Referral.created_at < _cst_start(filters.date_to + timedelta(days=1)))
    if filters.overdue:
        late = lambda item: or_(item.overdue.is_(True), and_(item.due_at.is_not(None), item.due_at < now))  # noqa: E731
        query = query.where(or_(
            and_(Referral.state.in_(open_states("referral")), late(Referral)),
            Referral.id.in_(select(Assignment.referral_id).where(
                Assignment.state.in_(open_states("assignment")), late(Assignment)))))
    return query


def search_page(user: User, filters: SearchFilters, page: int = 1) -> Page:
    query = search_query(user, filters)
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None))
    rows = db.session.scalars(
        query.order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return Page([InboxRow(r) for r in rows], total, page, has_next=page * PAGE_SIZE < total)


def export_rows(user: User, filters: SearchFilters) -> list[Referral]:
    """The current list for export, capped at ``EXPORT_LIMIT`` rows, assignments loaded in one go."""
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(
        search_query(user, filters).options(selectinload(Referral.assignments))
        .order_by(Referral.created_at.desc(), Referral.id.desc()).limit(EXPORT_LIMIT)
    ))
