"""Loaders that answer 404 for anything outside the user's scope (its existence is not revealed)."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select

from casework.access.rules import may_read_notice
from casework.access.scope import may_see_referral, referral_scope, scoped_referrals
from casework.accounts.models import User
from casework.assignments.models import Assignment
from casework.evidence.models import Evidence
from casework.extensions import db
from casework.notices.models import Notice
from casework.referrals.models import Referral


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


def get_notice_or_404(notice_id: int, user: User) -> Notice:
    """A notice of a referral in the user's scope that the user may read; otherwise 404."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or not may_see_referral(user, notice.referral_id) or not may_read_notice(user, notice):
        abort(404)
    return notice


def get_evidence_or_404(evidence_id: int, user: User) -> Evidence:
    """An evidence file of a referral in the user's scope; otherwise 404."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or not may_see_referral(user, evidence.referral_id):
        abort(404)
    return evidence
