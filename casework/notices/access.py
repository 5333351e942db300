"""Who may read a notice of a referral they can see: one rule for the page, downloads and dossiers."""
from __future__ import annotations

from typing import Callable

from casework.notices.models import Notice
from casework.referrals.scoping import supervised_agency_ids


def notice_reader(user) -> Callable[[Notice], bool]:
    """A test of which notices ``user`` may read (the education subtree is looked up once).

    The education side sees every notice of its referrals; an agency sees the notices it issued,
    received or was copied on, those of its own assignment, and the assessment opinion that every
    referral letter carries as its attachment (附件)."""
    supervised = supervised_agency_ids(user) if user.agency.kind == "education" else set()

    def may_read(notice: Notice) -> bool:
        if notice.referral.origin_agency_id in supervised:
            return True
        parties = {notice.issuer_agency_id, notice.recipient_agency_id, *(notice.copy_agency_ids or [])}
        if notice.assignment is not None:
            parties.add(notice.assignment.agency_id)
        if notice.kind == "assessment_opinion":
            parties.update(assignment.agency_id for assignment in notice.referral.assignments)
        return user.agency_id in parties

    return may_read


def may_see_notice(notice: Notice, user) -> bool:
    return notice_reader(user)(notice)
