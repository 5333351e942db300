"""The inbox: one user's desk, its tabs with counts and its pages, at a fixed cost per request.

The desk is the user's own branch of the agency scope (``desk_agency_ids`` in
``casework.access.scope``): an education department lists the referrals of its own and
supervised departments, an agency its own assignments; without a case role, nothing. Per request it reads

- the tab counts of the work tabs from the counters (``casework.inbox.counts``: a few counter rows,
  whatever the archive);
- "due soon", "overdue", "unassigned" (and, for education, the referrals waiting for the referring
  department) in one statement of index range counts over the open items only;
- "mine" (the open items the user owns) in one statement over the owner index;
- one page of rows, with only the columns a row shows (the owner's name joined).

The statements are built once per desk kind and tab with bound parameters, so a request only binds
its agency ids and clock times.
"""
from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select, true
from sqlalchemy.orm import aliased

from casework.access.scope import desk_agency_ids
from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.assignments.models import Assignment
from casework.db_types import utcnow
from casework.extensions import db
from casework.inbox.models import DeskCount
from casework.inbox.tabs import (AGENCY_TABS, DUE_SOON, EDUCATION_TABS, ORIGIN_ACTION_STATES, TAB_LABELS, TAB_ORDER,
                                 Tab, is_agency_desk)
from casework.referrals.models import Referral
from casework.referrals.queries import (PAGE_SIZE, InboxRow, ListedAgency, ListedItem, Page, late_assignments,
                                        open_states)

AGENCY_IDS = bindparam("agency_ids", expanding=True)
NOW = bindparam("now")
SOON = bindparam("soon")
USER_ID = bindparam("user_id")


class Desk:
    """One user's inbox: which tabs it has, how many items each holds, and a page of one tab."""

    def __init__(self, user: User, now: datetime | None = None, agency_ids: list[int] | None = None):
        """``agency_ids``: the desk's agencies when already read (``casework.inbox.cache.desk_key``)."""
        self.user = user = getattr(user, "_get_current_object", lambda: user)()
        self.agency = user.agency
        self.agency_desk = is_agency_desk(user)
        self.tabs = AGENCY_TABS if self.agency_desk else EDUCATION_TABS
        now = now or utcnow()
        self.params = {"agency_ids": list(agency_ids) if agency_ids is not None else desk_agency_ids(user), "now": now, "soon": now + DUE_SOON, "user_id": user.id}

    @staticmethod
    def work_tabs(agency_desk: bool) -> tuple[str, ...]:
        return tuple(AGENCY_TABS if agency_desk else EDUCATION_TABS)

    def tabs_with_counts(self) -> list[Tab]:
        """The tabs and their counts: the work tabs from the counters, the others from the open items."""
        return tabs_of({**self.shared_counts(), "mine": self.mine_count()})

    def shared_counts(self) -> dict[str, int | None]:
        """The counts every user of the desk sees alike (all but "mine")."""
        subject = "assignment" if self.agency_desk else "referral"
        by_state = dict(db.session.execute(_counter_statement(subject), self.params).all())
        clocks = db.session.execute(_clock_statement(self.agency_desk), self.params).one()
        counts: dict[str, int | None] = {key: sum(by_state.get(state, 0) for state in states)
                                         for key, states in self.tabs.items()}
        counts["due_soon"], counts["overdue"] = clocks.due_soon, clocks.overdue
        counts["unassigned"] = clocks.unassigned
        if not self.agency_desk:
            counts["action"] += clocks.waiting
        counts["all"] = None
        return counts

    def mine_count(self) -> int:
        """The open items of the desk the user owns."""
        return db.session.execute(_mine_statement(self.agency_desk), self.params).scalar_one()

    def page(self, tab: str, page: int = 1, total: int | None = None) -> Page:
        """One page of the tab's items; on work tabs the earliest due date first."""
        window = {"limit": PAGE_SIZE + 1, "offset": (page - 1) * PAGE_SIZE}
        found = db.session.execute(_page_statement(self.agency_desk, tab), {**self.params, **window}).all()
        listed = [r.id for r in found[:PAGE_SIZE]]
        late = set() if self.agency_desk or not listed else set(db.session.scalars(
            late_assignments(self.params["now"]).where(Assignment.referral_id.in_(listed))))
        rows = [self._row(r, r.id in late) for r in found]
        return Page(rows[:PAGE_SIZE], total, page, has_next=len(rows) > PAGE_SIZE)

    def _row(self, r, late_work: bool = False) -> InboxRow:
        referral = ListedItem(id=r.id, number=r.number, title=r.title, region_code=r.region_code,
                              state=r.state, due_at=r.due_at, overdue=r.overdue, created_at=r.created_at,
                              origin_agency=ListedAgency(name=r.origin_name), owner_name=r.owner_name)
        if not self.agency_desk:
            return InboxRow(referral, late_work=late_work)
        return InboxRow(referral, ListedItem(state=r.held_state, due_at=r.held_due_at, overdue=r.held_overdue,
                                             agency=self.agency, owner_name=r.owner_name))


def tabs_of(counts: dict[str, int | None]) -> list[Tab]:
    return [Tab(key, TAB_LABELS[key], counts[key]) for key in TAB_ORDER]


def _desk_item(agency_desk: bool):
    """The counted item of a desk and the column naming its agency."""
    return (Assignment, Assignment.agency_id) if agency_desk else (Referral, Referral.origin_agency_id)


@functools.cache
def _mine_statement(agency_desk: bool):
    item, owner = _desk_item(agency_desk)
    return select(func.count()).select_from(item).where(
        item.owner_id == USER_ID, owner.in_(AGENCY_IDS), item.state.in_(sorted(open_states(item.audit_type))))


@functools.cache
def _counter_statement(subject: str):
    return (select(DeskCount.state, func.sum(DeskCount.count))
            .where(DeskCount.agency_id.in_(AGENCY_IDS), DeskCount.subject == subject)
            .group_by(DeskCount.state))


@functools.cache
def _clock_statement(agency_desk: bool):
    """Due soon, overdue (and waiting for the referring department): index range counts.

    A subject's ``overdue`` flag is set only once its earliest running due date has passed
    (``casework.workflow.clocks.sync_subject``), so "overdue" is a due date before now."""
    item, owner = _desk_item(agency_desk)
    open_ = item.state.in_(sorted(open_states(item.audit_type)))

    def count(*conditions):
        return select(func.count()).select_from(item).where(owner.in_(AGENCY_IDS), open_, *conditions)

    columns = [count(item.due_at >= NOW, item.due_at < SOON).scalar_subquery().label("due_soon"),
               count(item.due_at < NOW).scalar_subquery().label("overdue"),
               count(item.owner_id.is_(None)).scalar_subquery().label("unassigned")]
    if not agency_desk:
        waiting = (select(func.count(func.distinct(Assignment.referral_id)))
                   .join(Referral, Referral.id == Assignment.referral_id)
                   .where(Assignment.state.in_(sorted(ORIGIN_ACTION_STATES)), Referral.origin_agency_id.in_(AGENCY_IDS),
                          Referral.state.in_(sorted(open_states("referral") - EDUCATION_TABS["action"]))))
        columns.append(waiting.scalar_subquery().label("waiting"))
    return select(*columns)


def _tab_condition(agency_desk: bool, tab: str):
    item, _owner = _desk_item(agency_desk)
    tabs = AGENCY_TABS if agency_desk else EDUCATION_TABS
    open_ = item.state.in_(sorted(open_states(item.audit_type)))
    if tab == "action" and not agency_desk:
        waiting = Referral.id.in_(select(Assignment.referral_id).where(Assignment.state.in_(sorted(ORIGIN_ACTION_STATES))))
        return or_(item.state.in_(sorted(tabs[tab])), and_(open_, waiting))
    if tab in tabs:
        return item.state.in_(sorted(tabs[tab]))
    if tab == "mine":
        return and_(open_, item.owner_id == USER_ID)
    if tab == "unassigned":
        return and_(open_, item.owner_id.is_(None))
    if tab == "due_soon":
        return and_(open_, item.due_at >= NOW, item.due_at < SOON)
    if tab == "overdue":
        return and_(open_, item.due_at < NOW)
    return true()


@functools.cache
def _page_statement(agency_desk: bool, tab: str):
    """The rows of one tab, a window at a time: the listed columns of the referral, its origin's
    name, the owner's name and, on an agency desk, the agency's own assignment."""
    origin, owner = aliased(Agency), aliased(User)
    item, _owner = _desk_item(agency_desk)
    columns = [Referral.id, Referral.number, Referral.title, Referral.region_code, Referral.state,
               Referral.due_at, Referral.overdue, Referral.created_at, origin.name.label("origin_name"),
               owner.display_name.label("owner_name")]
    if agency_desk:
        columns += [Assignment.state.label("held_state"), Assignment.due_at.label("held_due_at"),
                    Assignment.overdue.label("held_overdue")]
        query = select(*columns).select_from(Referral).join(
            Assignment, and_(Assignment.referral_id == Referral.id, Assignment.agency_id.in_(AGENCY_IDS)))
    else:
        query = select(*columns).where(Referral.origin_agency_id.in_(AGENCY_IDS))
    query = (query.join(origin, origin.id == Referral.origin_agency_id).outerjoin(owner, owner.id == item.owner_id)
             .where(_tab_condition(agency_desk, tab)))
    if tab == "all" and agency_desk:
        order = (Assignment.routed_at.desc(), Assignment.id.desc())
    elif tab == "all":
        order = (Referral.created_at.desc(), Referral.id.desc())
    else:
        order = (item.due_at.asc().nulls_last(), item.id.desc())
    return query.order_by(*order).limit(bindparam("limit")).offset(bindparam("offset"))
