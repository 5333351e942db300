"""Every "may this user do X to this object" rule, each one named predicate.

Views check them before acting, services enforce them again (the API and the CLI come through
the services), and pages show a button or a link only where the predicate holds (the page
objects compute them, templates read the result). Seeing an object at all is the scope's
business (``casework.access.scope``, ``casework.access.loaders``); a rule that asks for the
referring department implies the scope (its own referrals are always in it).

The states they name come from the declarations: a referral is edited in its lifecycle's initial
state (the draft) and is open until a final state.
"""
from __future__ import annotations

from typing import Callable, Iterable

from casework.access.scope import has_case_role, supervised_agency_ids
from casework.accounts.models import User
from casework.agencies.models import AgencyKind
from casework.assignments.models import Assignment
from casework.notices.models import Notice
from casework.referrals.models import Referral
from workflows import declarations

EDITABLE_STATES = frozenset({declarations().lifecycle("referral").initial})
REFERRAL_TERMINAL = declarations().terminal_states("referral")
# The notice every referral letter carries as its attachment (附件): every recipient reads it.
REFERRAL_LETTER_ATTACHMENT = "assessment_opinion"


def _education_intake_officer(user: User) -> bool:
    return user.agency.kind == AgencyKind.EDUCATION.value and user.has_role("intake_officer")


def _of_origin(user: User, referral: Referral) -> bool:
    return referral.origin_agency_id == user.agency_id


def is_open(referral: Referral) -> bool:
    return referral.state not in REFERRAL_TERMINAL


# --- referrals -------------------------------------------------------------------------------------

def may_open_referral(user: User) -> bool:
    """An education department's intake officer opens referrals."""
    return user.is_authenticated and _education_intake_officer(user)


def may_edit_referral(user: User, referral: Referral) -> bool:
    """The referring department's intake officer edits the referral while it is a draft."""
    return _education_intake_officer(user) and _of_origin(user, referral) and referral.state in EDITABLE_STATES


def may_add_evidence(user: User, referral: Referral) -> bool:
    """The referring department's intake officer adds evidence files while the referral is open
    (the referral page, the evidence page, intake and a target's manual check alike)."""
    return _education_intake_officer(user) and _of_origin(user, referral) and is_open(referral)


def may_import_targets(user: User, referral: Referral) -> bool:
    """The referring department's intake officers and assessors add targets from a file while the
    referral is open."""
    return user.has_role("intake_officer", "assessor") and _of_origin(user, referral) and is_open(referral)


def may_export_referrals(user: User) -> bool:
    """Lists are exported by those who work cases (the export holds only their scope)."""
    return has_case_role(user)


# --- assignments -----------------------------------------------------------------------------------

def may_see_assignment_details(user: User, referral: Referral, assignment: Assignment,
                               supervised: set[int] | None = None) -> bool:
    """The working details of an assignment (reasons, notes, dispositions, extension requests):
    the referring education department and those above it read all of them, an agency its own.
    Other agencies on the same referral see only each assignment's state and due date.
    ``supervised``: the user's ``supervised_agency_ids`` when already known."""
    supervised = supervised_agency_ids(user) if supervised is None else supervised
    return referral.origin_agency_id in supervised or assignment.agency_id == user.agency_id


def assignments_with_details(user: User, referral: Referral, assignments: Iterable[Assignment]) -> set[int]:
    """Ids of the assignments whose details ``user`` may read (``may_see_assignment_details``)."""
    supervised = supervised_agency_ids(user)
    return {a.id for a in assignments if may_see_assignment_details(user, referral, a, supervised)}


def may_comment(user: User, referral: Referral) -> bool:
    """A party on the case writes comments: the referring department (or one supervising it), or an
    agency the referral went to."""
    if not has_case_role(user):
        return False
    return (referral.origin_agency_id in supervised_agency_ids(user)
            or any(a.agency_id == user.agency_id for a in referral.assignments))


# --- notices ---------------------------------------------------------------------------------------

def notice_reader(user: User) -> Callable[[Notice], bool]:
    """``may_read_notice`` for one user over many notices (the education subtree is looked up once).

    The education side reads every notice of its referrals; an agency reads the notices it issued,
    received or was copied on, those of its own assignment, and the assessment opinion that every
    referral letter carries as its attachment (附件)."""
    supervised = supervised_agency_ids(user) if user.agency.kind == AgencyKind.EDUCATION.value else set()

    def may_read(notice: Notice) -> bool:
        if notice.referral.origin_agency_id in supervised:
            return True
        parties = {notice.issuer_agency_id, notice.recipient_agency_id, *(notice.copy_agency_ids or [])}
        if notice.assignment is not None:
            parties.add(notice.assignment.agency_id)
        if notice.kind == REFERRAL_LETTER_ATTACHMENT:
            parties.update(assignment.agency_id for assignment in notice.referral.assignments)
        return user.agency_id in parties

    return may_read


def may_read_notice(user: User, notice: Notice) -> bool:
    return notice_reader(user)(notice)


def may_correct_notice(user: User, notice: Notice) -> bool:
    """An approver of the issuing agency corrects a notice that no later notice supersedes."""
    return (notice.superseded_by is None and user.agency_id == notice.issuer_agency_id
            and user.has_role("approver"))


# --- administration --------------------------------------------------------------------------------

def may_read_audit_trail(user: User) -> bool:
    return user.is_authenticated and user.has_role("audit_admin")
