"""Who may claim, assign and release an item: one named predicate each, used by views, templates,
services and the API alike.

An item's desk is the agency holding it: the referring education department for a referral, the
receiving agency for an assignment. Its working roles are the desk party's roles in the
declarations other than the approver's; an approver of the desk assigns and reassigns.
"""
from __future__ import annotations

from workflows import ROLES_BY_PARTY, declarations

ASSIGNING_ROLE = "approver"


def desk_agency_id(item) -> int:
    return item.origin_agency_id if item.audit_type == "referral" else item.agency_id


def working_roles(item) -> frozenset[str]:
    party = "origin" if item.audit_type == "referral" else "agency"
    return ROLES_BY_PARTY[party] - {ASSIGNING_ROLE}


def is_open(item) -> bool:
    return item.state not in declarations().terminal_states(item.audit_type)


def works_at_desk(user, item) -> bool:
    """An active user of the item's desk with one of its working roles."""
    return bool(user is not None and user.active and user.agency_id == desk_agency_id(item)
                and user.roles & working_roles(item))


def may_claim(user, item) -> bool:
    """领办: an officer of the desk takes an open item that has no owner (an approver reassigns an
    owned one)."""
    return is_open(item) and item.owner_id is None and works_at_desk(user, item)


def may_assign(user, item) -> bool:
    """指派/改派: an approver of the desk names an officer for an open item."""
    return bool(is_open(item) and user is not None and user.active and user.agency_id == desk_agency_id(item)
                and user.has_role(ASSIGNING_ROLE))


def may_release(user, item) -> bool:
    """The owner (or an approver of the desk) gives an open item back to the desk."""
    return item.owner_id is not None and (item.owner_id == getattr(user, "id", None) or may_assign(user, item))

