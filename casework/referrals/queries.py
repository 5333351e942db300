"""Search, export lists and the rows that lists show (the inbox, ``casework.inbox``, shows them
too): every query starts from the user's scope.

A search page costs a fixed number of SQL statements: one for the total of the list, one for
the rows (their agencies are joined eagerly) and one for which of them have late assignments.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from casework.access.scope import scoped_referrals
from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.assignments.models import Assignment, Disposition, DispositionAction
from casework.db_types import utcnow
from casework.extensions import db
from casework.referrals.models import Referral
from casework.targets.models import ReferralTarget, Target
from casework.targets.normalize import normalize_url
from casework.web.i18n import CST
from workflows import declarations

PAGE_SIZE = 30
EXPORT_LIMIT = 10_000
MATERIALISE_LIMIT = 2_000

_DECLARED = declarations()
REFERRAL_TERMINAL = _DECLARED.terminal_states("referral")
ASSIGNMENT_TERMINAL = _DECLARED.terminal_states("assignment")


def item_is_late(item, terminal: frozenset[str], now: datetime | None = None) -> bool:
    """An open referral or assignment whose clock has run out (marked by the sweep or past due)."""
    if item.state in terminal:
        return False
    return bool(item.overdue or (item.due_at is not None and item.due_at < (now or utcnow())))


def referral_is_late(referral: Referral, now: datetime | None = None) -> bool:
    """The referral's own clock, or the clock of any of its open assignments, has run out."""
    now = now or utcnow()
    return item_is_late(referral, REFERRAL_TERMINAL, now) or any(
        item_is_late(a, ASSIGNMENT_TERMINAL, now) for a in referral.assignments)


@dataclass
class InboxRow:
    referral: Referral | ListedItem
    assignment: Assignment | ListedItem | None = None
    late_work: bool = False

    @property
    def due_at(self) -> datetime | None:
        return self.assignment.due_at if self.assignment else self.referral.due_at

    @property
    def state(self) -> str:
        return self.assignment.state if self.assignment else self.referral.state

    @property
    def is_overdue(self) -> bool:
        """Late itself, or (a search row) a referral with an open assignment that is late."""
        if self.assignment:
            return item_is_late(self.assignment, ASSIGNMENT_TERMINAL)
        return self.late_work or item_is_late(self.referral, REFERRAL_TERMINAL)


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


def open_states(subject: str) -> frozenset[str]:
    """States of the referral (or of any assignment variant) that are not final."""
    return declarations().open_states(subject)


EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)


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
                day = date.fromisoformat(raw)
            except ValueError:
                filters.errors[name] = str(_l("Enter a date as YYYY-MM-DD."))
                continue
            if not EARLIEST_DATE <= day <= LATEST_DATE:
                filters.errors[name] = str(_l("Enter a date between %(first)s and %(last)s.",
                                              first=EARLIEST_DATE.isoformat(), last=LATEST_DATE.isoformat()))
                continue
            setattr(filters, name, day)
        if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
            filters.errors["date_to"] = str(_l("The end date is before the start date."))
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


FULL_NUMBER = re.compile(r"XS\d{4}-\d{6,}", re.IGNORECASE)


def number_match(text: str):
    """A whole referral number (``XS2026-000123``, any case) by its index; anything else as a part."""
    if FULL_NUMBER.fullmatch(text):
        return Referral.number == text.upper()
    return Referral.number.ilike(_like(text), escape="\\")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def target_match(text: str):
    """Targets whose registry key (normalised domain/URL, package name, platform:account) contains
    ``text`` when it looks like an identifier, else whose name contains it. Evaluated once over the
    targets, not once per referral."""
    term = text.strip()
    if term.isascii() and " " not in term:
        return Target.key.like(_like(_key_part(term)), escape="\\")
    return Target.name.like(_like(term), escape="\\")


def _key_part(term: str) -> str:
    """A pasted web address in the form registry keys take (no scheme, ``www.`` or trailing slash);
    any other identifier lower-cased."""
    if re.match(r"^https?://", term, re.IGNORECASE):
        try:
            return normalize_url(term)["key"]
        except ValueError:
            pass
    return term.lower().removeprefix("https://").removeprefix("http://")


def _cst_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CST)


def search_query(user: User, filters: SearchFilters, now: datetime | None = None):
    """``scoped_referrals(user)`` with the filters applied (no ordering)."""
    now = now or utcnow()
    query = scoped_referrals(user)
    if filters.number:
        query = query.where(number_match(filters.number))
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
        query = query.where(or_(and_(Referral.state.in_(open_states("referral")), _late(Referral, now)),
                                Referral.id.in_(late_assignments(now))))
    return query


def _late(item, now: datetime):
    return or_(item.overdue.is_(True), and_(item.due_at.is_not(None), item.due_at < now))


def late_assignments(now: datetime):
    """``select`` of the referral ids that have an open assignment whose clock has run out."""
    return select(Assignment.referral_id).where(Assignment.state.in_(open_states("assignment")),
                                                _late(Assignment, now))


def search_page(user: User, filters: SearchFilters, page: int = 1) -> Page:
    query = search_query(user, filters)
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None))
    rows = db.session.scalars(
        query.order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    late = set(db.session.scalars(late_assignments(utcnow()).where(
        Assignment.referral_id.in_([r.id for r in rows])))) if rows else set()
    return Page([InboxRow(r, late_work=r.id in late) for r in rows], total, page,
                has_next=page * PAGE_SIZE < total)


def export_rows(user: User, filters: SearchFilters) -> list[Referral]:
    """The current list for export, capped at ``EXPORT_LIMIT`` rows, with what the export shows
    (owners, assessments, targets, assignments, dispositions and their actions) loaded in a fixed
    number of statements."""
    dispositions = selectinload(Referral.assignments).selectinload(Assignment.dispositions)
    return list(db.session.scalars(
        search_query(user, filters).options(
            selectinload(Referral.owner), selectinload(Referral.assessments), selectinload(Referral.target_links),
            selectinload(Referral.assignments).selectinload(Assignment.owner),
            dispositions.selectinload(Disposition.actions).selectinload(DispositionAction.target))
        .order_by(Referral.created_at.desc(), Referral.id.desc()).limit(EXPORT_LIMIT)
    ))
