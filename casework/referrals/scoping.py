"""Agency scope, in one place: which referrals and assignments a user may see.

Every view, list and API goes through these helpers; anything outside the scope
answers 404, so that its existence is not revealed.
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import aliased

from casework.accounts.models import User
from casework.accounts.roles import CASE_ROLES
from casework.agencies.models import Agency, AgencyKind
from casework.assignments.models import Assignment
from casework.extensions import db
from casework.referrals.models import Referral

CASE_ROLE_NAMES = frozenset(r.value for r in CASE_ROLES)


def supervised_agency_ids(user: User) -> set[int]:
    """The user's agency and, for an education department, every agency below it."""
    ids = {user.agency_id}
    if user.agency.kind != AgencyKind.EDUCATION.value:
        return ids
    frontier = {user.agency_id}
    while frontier:
        children = set(db.session.scalars(
            select(Agency.id).where(Agency.parent_id.in_(frontier), Agency.kind == AgencyKind.EDUCATION.value)
        ))
        frontier = children - ids
        ids |= children
    return ids


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


def desk_referrals(user: User, supervised: set[int] | None = None):
    """The part of ``scoped_referrals(user)`` that the user's own desk lists, without the OR of the
    full scope (so that the inbox can be counted from indexes alone).

    An education department's desk: the referrals of its own and supervised departments (the first
    branch of the scope). An agency's desk: ``Referral`` joined to the agency's own assignments (the
    second branch). Without a case role: nothing, as for the scope.
    """
    if not has_case_role(user):
        return select(Referral).where(false())
    if user.agency.kind == AgencyKind.EDUCATION.value:
        ids = supervised if supervised is not None else supervised_agency_ids(user)
        return select(Referral).where(Referral.origin_agency_id.in_(ids))
    return select(Referral).join_from(Referral, Assignment, and_(
        Assignment.referral_id == Referral.id, Assignment.agency_id == user.agency_id))


def can_see_referral(user: User, referral_id: int) -> bool:
    query = select(Referral.id).where(Referral.id == referral_id, referral_scope(user))
    return db.session.scalar(query) is not None


def get_referral_or_404(referral_id: int, user: User) -> Referral:
    """The referral if it is in the user's scope; otherwise 404."""
    referral = db.session.scalar(scoped_referrals(user).where(Referral.id == referral_id))
    if referral is None:
        abort(404)
    return referral


def get_assignment_or_404(assignment_id: int, user: User) -> Assignment:
    """An assignment whose referral is in the user's scope; otherwise 404."""
    assignment = db.session.scalar(
        select(Assignment).join(Referral, Assignment.referral_id == Referral.id)
        .where(Assignment.id == assignment_id, referral_scope(user))
    )
    if assignment is None:
        abort(404)
    return assignment


def assignments_with_details(user: User, referral: Referral, assignments: list[Assignment]) -> set[int]:
    """Ids of the assignments whose working details (reasons, notes, dispositions) ``user`` may read.

    The referring education department and those above it read all of them; an agency reads its own.
    Other agencies on the same referral see only each assignment's state and due date.
    """
    if referral.origin_agency_id in supervised_agency_ids(user):
        return {a.id for a in assignments}
    return {a.id for a in assignments if a.agency_id == user.agency_id}
