"""What the referral page shows of ownership: the owner of the referral at the education desk and of
each assignment the user may read the details of, with the claim, assign and release actions the
predicates allow (``casework.access.ownership``) and the officers an approver may name."""
from __future__ import annotations

from dataclasses import dataclass, field

from casework.access.ownership import may_assign, may_claim, may_release
from casework.accounts.models import User
from casework.ownership.services import assignable_users


@dataclass
class OwnerRow:
    item: object
    kind: str
    desk: str
    owner: User | None
    may_claim: bool = False
    may_assign: bool = False
    may_release: bool = False
    candidates: list[User] = field(default_factory=list)


def owner_rows(referral, assignments, user: User, detail_ids: set[int]) -> list[OwnerRow]:
    """One row per owned item shown (the owners resolve from the page's loaded people); one statement
    for the officers of each item the user may assign (their own desk's, at most two)."""
    items = [("referral", referral, referral.origin_agency.name)]
    items += [("assignment", a, a.agency.name) for a in assignments if a.id in detail_ids]
    rows = []
    for kind, item, desk in items:
        assigning = may_assign(user, item)
        rows.append(OwnerRow(item, kind, desk, item.owner, may_claim(user, item), assigning, may_release(user, item),
                             assignable_users(item) if assigning else []))
    return rows
