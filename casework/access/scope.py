"""Agency scope, in one place: which referrals, assignments, notices and evidence a user may see.

Every view, list and API goes through these WHERE clauses and loaders; anything outside the
scope answers 404 (``casework.access.loaders``), so that its existence is not revealed. What a
user may *do* to an object in scope is decided by the predicates of ``casework.access.rules``.
"""
from __future__ import annotations

import functools

from sqlalchemy import ColumnElement, bindparam, false, or_, select
from sqlalchemy.orm import aliased

from casework.accounts.models import User
from casework.accounts.roles import CASE_ROLES
from casework.agencies.models import Agency, AgencyKind
from casework.assignments.models import Assignment
from casework.extensions import db
from casework.referrals.models import Referral

CASE_ROLE_NAMES = frozenset(r.value for r in CASE_ROLES)


def supervised_agency_ids(user: User) -> set[int]:
    """The user's agency and, for an education department, every education department below it."""
    if user.agency.kind != AgencyKind.EDUCATION.value:
        return {user.agency_id}
    return set(db.session.scalars(_education_subtree(), {"root_id": user.agency_id}))


@functools.cache
def _education_subtree():
    """An education department and the education departments below it, in one recursive query."""
    tree = select(Agency.id).where(Agency.id == bindparam("root_id")).cte("subtree", recursive=True)
    child = aliased(Agency)
    tree = tree.union(select(child.id).where(child.parent_id == tree.c.id, child.kind == AgencyKind.EDUCATION.value))
    return select(tree.c.id)


def has_case_role(user: User) -> bool:
    return bool(user.is_authenticated and user.roles & CASE_ROLE_NAMES)


def referral_scope(user: User) -> ColumnElement[bool]:
    """WHERE clause selecting the referrals ``user`` may see."""
    if not has_case_role(user):
        return false()
    holder = aliased(Assignment)
    held = (select(holder.id)
            .where(holder.referral_id == Referral.id, holder.agency_id == user.agency_id)
            .correlate(Referral).exists())
    return or_(Referral.origin_agency_id.in_(supervised_agency_ids(user)), held)


def scoped_referrals(user: User):
    """A ``select(Referral)`` limited to the user's scope; add filters and ordering to it."""
    return select(Referral).where(referral_scope(user))


def desk_agency_ids(user: User) -> list[int]:
    """The agencies whose work the user's own desk (the inbox) lists: the desk's branch of
    ``referral_scope``, without its OR, so that the inbox reads indexes and counters alone.

    An education department's desk: the referrals originated by it and the departments it
    supervises (the first branch). An agency's desk: its own assignments (the second branch).
    Without a case role: none.
    """
    statement, params = desk_agency_query(user)
    return sorted(db.session.scalars(statement, params)) if statement is not None else []


def desk_agency_query(user: User):
    """``desk_agency_ids`` as a statement selecting a column ``id``, and its parameters
    (``(None, {})`` without a case role), for queries that join more to it."""
    if not has_case_role(user):
        return None, {}
    if user.agency.kind == AgencyKind.EDUCATION.value:
        return _education_subtree(), {"root_id": user.agency_id}
    return _own_agency(), {"root_id": user.agency_id}


@functools.cache
def _own_agency():
    return select(Agency.id).where(Agency.id == bindparam("root_id"))


def may_see_referral(user: User, referral_id: int) -> bool:
    """Whether the referral is in the user's scope (one query)."""
    query = select(Referral.id).where(Referral.id == referral_id, referral_scope(user))
    return db.session.scalar(query) is not None
