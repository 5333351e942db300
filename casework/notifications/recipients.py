"""Who is told: computed from the declarations (which roles act in the state an item reached, at which
desk) and from ownership (the owner if the item has one, else everyone at the desk with those roles)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from casework.accounts.models import User, UserRole
from casework.extensions import db
from workflows import Lifecycle, declarations

KIND_BY_TAB = {"receive": "to_receive", "action": "to_act", "approval": "to_approve"}


@dataclass(frozen=True)
class Desk:
    """The agency whose officers with ``roles`` act next, and what they are told."""

    agency_id: int
    roles: frozenset[str]
    kind: str


def lifecycle_of(obj) -> Lifecycle:
    if obj.audit_type == "referral":
        return declarations().lifecycle("referral")
    return declarations().lifecycle(f"assignment.{obj.agency.kind}")


def next_desk(obj, state: str) -> Desk | None:
    """The desk that has to act on ``obj`` in ``state``: its holder (``desk``) or, for an assignment,
    the referring department (``origin_desk``), with the roles of the steps that move it on from there
    (internal steps such as notes and extension requests tell no one)."""
    lifecycle = lifecycle_of(obj)
    declared = lifecycle.states.get(state)
    if declared is None:
        return None
    if declared.desk:
        party = "origin" if obj.audit_type == "referral" else "agency"
        agency_id = obj.origin_agency_id if obj.audit_type == "referral" else obj.agency_id
        tab = declared.desk
    elif declared.origin_desk:
        party, agency_id, tab = "origin", obj.referral.origin_agency_id, declared.origin_desk
    else:
        return None
    roles = acting_roles(lifecycle, state, party)
    return Desk(agency_id, roles, KIND_BY_TAB[tab]) if roles else None


_ACTING_ROLES: dict[tuple, frozenset[str]] = {}


def acting_roles(lifecycle: Lifecycle, state: str, party: str) -> frozenset[str]:
    """The roles of ``party`` whose steps move an item on from ``state`` (worked out once per lifecycle)."""
    key = (id(lifecycle), state, party)
    if key not in _ACTING_ROLES:
        _ACTING_ROLES[key] = frozenset(
            role for t in lifecycle.transitions
            if state in t.sources and t.dest and not t.system and t.party == party for role in t.roles)
    return _ACTING_ROLES[key]


def desk_user_ids(agency_id: int, roles: frozenset[str]) -> list[int]:
    """Ids of the active users of the agency holding any of ``roles`` (one statement)."""
    return list(db.session.scalars(
        select(User.id).where(User.agency_id == agency_id, User.active.is_(True),
                              User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(sorted(roles)))))
        .order_by(User.id)))


def _may_act_at(user: User, desk: Desk) -> bool:
    return bool(user.active and user.agency_id == desk.agency_id and user.roles & desk.roles)


def owner_of(obj) -> User | None:
    """The named owner (承办人) of an item, where the item has one."""
    return getattr(obj, "owner", None)


def recipients_for(obj, desk: Desk, actor=None) -> list[int]:
    """Ids of those told: the owner when the owner may act at that desk, otherwise the desk; never the actor."""
    if actor is not None and obj.owner_id == actor.id and _may_act_at(actor, desk):
        return []  # the owner acting on their own item tells nobody (and costs no query)
    owner = owner_of(obj)
    if owner is not None and _may_act_at(owner, desk):
        ids = [owner.id]
    else:
        ids = desk_user_ids(desk.agency_id, desk.roles)
    actor_id = getattr(actor, "id", None)
    return [user_id for user_id in ids if user_id != actor_id]
