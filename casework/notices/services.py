"""Issuing notices: validate, number, render, hash and store, all in the caller's transaction."""
from __future__ import annotations

from casework.notices.models import Notice


def issue_notice(kind: str, subject, actor, data: dict | None = None) -> Notice:
    """Render, number, hash and store one notice inside the current transaction (flush, never commit).
    kind: referral_letter | assessment_opinion | receipt | return_notice | refusal_notice |
          disposition_decision | feedback_letter | reminder_letter | reconsideration_request
    subject: a Referral or an Assignment (casework.referrals.models / casework.assignments.models);
    the issuer is actor.agency (for reminder_letter issued by the sweep, actor may be None: then the
    issuer is the referral's origin agency or the supervising agency of the assignment).
    data: the transition's validated form data (reasons, legal basis, actions, outcomes ...)."""
    from casework.notices.issuing import issue

    return issue(kind, subject, actor, data or {})
