"""Composite indexes for the inbox and search at 100,000 referrals."""
from sqlalchemy import Index

from casework.assignments.models import Assignment
from casework.referrals.models import Referral

INBOX_INDEXES = (
    # ``id`` last: the education desk's "waiting for the referring department" count joins these
    # referrals to assignments from the index alone (PostgreSQL indexes do not carry the key).
    Index("ix_referrals_origin_state", Referral.origin_agency_id, Referral.state, Referral.due_at,
          Referral.overdue, Referral.id),
    Index("ix_referrals_origin_created", Referral.origin_agency_id, Referral.created_at),
    Index("ix_referrals_state_due", Referral.state, Referral.due_at, Referral.overdue,
          Referral.origin_agency_id),
    Index("ix_assignments_agency_state", Assignment.agency_id, Assignment.state, Assignment.due_at,
          Assignment.overdue),
    Index("ix_assignments_agency_due", Assignment.agency_id, Assignment.due_at),
    Index("ix_assignments_agency_routed", Assignment.agency_id, Assignment.routed_at),
    Index("ix_assignments_state_referral", Assignment.state, Assignment.referral_id),
)
