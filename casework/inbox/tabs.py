"""The inbox's tabs: which states put an item on which tab, read from the declarations
(``desk`` / ``origin_desk`` of each state in ``workflows/*.toml``), the owner tabs and the clock tabs."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from casework.accounts.models import User
from casework.agencies.models import AgencyKind
from workflows import DESK_TABS, declarations

DUE_SOON = timedelta(days=3)

_DECLARED = declarations()
# Which referral states put a referral on which tab of an education department's desk.
EDUCATION_TABS = {tab: _DECLARED.desk_states("referral", tab) for tab in DESK_TABS}
# Assignment states in which the referring department has to act (supplement, reconsider, close).
ORIGIN_ACTION_STATES = _DECLARED.desk_states("assignment", "action", origin=True)
# Which assignment states put an assignment on which tab of an agency's desk.
AGENCY_TABS = {tab: _DECLARED.desk_states("assignment", tab) for tab in DESK_TABS}
TAB_LABELS = {
    "receive": _l("New to receive"),
    "action": _l("Awaiting our action"),
    "approval": _l("Awaiting approval"),
    "mine": _l("Mine"),
    "unassigned": _l("Unassigned"),
    "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"),
    "all": _l("All"),
}
# "mine": open items the user owns at the desk; "unassigned": open items of the desk without an owner.
OWNER_TABS = ("mine", "unassigned")
TAB_ORDER = (*DESK_TABS, *OWNER_TABS, "due_soon", "overdue", "all")


@dataclass
class Tab:
    key: str
    label: object
    count: int | None


def is_agency_desk(user: User) -> bool:
    """An agency's desk lists its assignments; an education department's desk its referrals."""
    return user.agency.kind != AgencyKind.EDUCATION.value
