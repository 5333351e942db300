"""Account life cycle: anonymising a user keeps every audit event they caused."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casework.accounts.services import anonymise_user, create_user
from casework.audit.models import AuditEvent
from casework.audit.services import verify_chain
from casework.errors import NotAllowed
from casework.extensions import db
from casework.unit_of_work import unit_of_work
from tests.conftest import login
from tests.factories import make_referral


def _events_of(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == user_id))


def test_anonymising_keeps_events_and_chain(client, user):
    officer = user("edu-44.intake_officer")
    make_referral(officer)
    before = _events_of(officer.id)
    assert before > 0
    security = create_user({"username": "sec-admin-x", "agency_code": "moe", "roles": ["security_admin"],
                            "password": "Secur1ty-admin!"}, actor=None)
    anonymise_user(officer, {"reason": "left the department"}, security)
    assert _events_of(officer.id) == before
    assert officer.username.startswith("anonymised-") and not officer.active
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.actor_id == officer.id)
                             .order_by(AuditEvent.seq)).actor_name == "edu-44.intake_officer"
    assert verify_chain().ok
    assert login(client, "edu-44.intake_officer").status_code == 401


def test_only_a_security_admin_anonymises(db_session, user):
    target = user("psb-44.case_officer")
    with pytest.raises(NotAllowed):
        with unit_of_work():
            anonymise_user(target, {}, user("psb-44.approver"))
    assert target.active
    refused = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "user.anonymise")
                               .order_by(AuditEvent.seq.desc()))
    assert refused is not None and refused.outcome == "refused"
