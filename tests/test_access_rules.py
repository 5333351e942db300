"""Every access predicate of ``casework.access.rules``, as a table of role × state × action, and the
evidence upload following the same rule in the service, the evidence page and the referral page."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from casework.access import rules
from casework.access.scope import may_see_referral
from casework.accounts.models import User, UserRole
from casework.audit.models import AuditEvent
from casework.errors import NotAllowed
from casework.evidence.models import Evidence
from casework.evidence.services import attach_evidence
from casework.extensions import db
from tests.factories import assignment_row, find_agency, find_user, notice_row, referral_row

USERS = ("edu-44.intake_officer", "edu-44.assessor", "edu-44.approver", "moe.intake_officer",
         "edu-11.intake_officer", "psb-44.case_officer", "psb-44.approver", "cac-44.case_officer")
STATES = ("draft", "submitted", "routed", "closed")
OPEN = {"draft", "submitted", "routed"}
ALL = set(STATES)
ROUTED = {"routed", "closed"}  # states in which the referral has an assignment (to psb-44) and a notice

# action -> {user: the states in which the user may do it}; users not named may not.
ALLOWED = {
    "see referral": {"edu-44.intake_officer": ALL, "edu-44.assessor": ALL, "edu-44.approver": ALL,
                     "moe.intake_officer": ALL, "psb-44.case_officer": ROUTED, "psb-44.approver": ROUTED},
    "edit referral": {"edu-44.intake_officer": {"draft"}},
    "add evidence": {"edu-44.intake_officer": OPEN},
    "import targets": {"edu-44.intake_officer": OPEN, "edu-44.assessor": OPEN},
    "open a referral": {"edu-44.intake_officer": ALL, "moe.intake_officer": ALL, "edu-11.intake_officer": ALL},
    "export lists": {user: ALL for user in USERS},
    "see assignment details": {"edu-44.intake_officer": ROUTED, "edu-44.assessor": ROUTED,
                               "edu-44.approver": ROUTED, "moe.intake_officer": ROUTED,
                               "psb-44.case_officer": ROUTED, "psb-44.approver": ROUTED},
    "read notice": {"edu-44.intake_officer": ROUTED, "edu-44.assessor": ROUTED, "edu-44.approver": ROUTED,
                    "moe.intake_officer": ROUTED, "psb-44.case_officer": ROUTED, "psb-44.approver": ROUTED},
    "correct notice": {"edu-44.approver": ROUTED},
    "read the audit trail": {},
    "comment": {"edu-44.intake_officer": ALL, "edu-44.assessor": ALL, "edu-44.approver": ALL,
                "moe.intake_officer": ALL, "psb-44.case_officer": ROUTED, "psb-44.approver": ROUTED},
}
# Commenting follows seeing: the page loads the referral within scope, then asks ``may_comment``.
ALLOWED["comment"] = ALLOWED["see referral"]
# Actions on the referral's assignment or notice exist only once it is routed.
NEEDS_ROUTING = {"see assignment details", "read notice", "correct notice"}


def subject(state: str):
    """A referral of edu-44 in ``state``; once routed, held by psb-44 with a referral letter to it."""
    referral = referral_row("edu-44", state=state)
    if state not in ROUTED:
        return referral, None, None
    assignment = assignment_row(referral, "psb-44", "investigating" if state == "routed" else "closed")
    notice = notice_row(referral, "edu-44", recipient="psb-44", assignment=assignment)
    return referral, assignment, notice


def decide(action: str, user: User, referral, assignment, notice) -> bool:
    return {
        "see referral": lambda: may_see_referral(user, referral.id),
        "edit referral": lambda: rules.may_edit_referral(user, referral),
        "add evidence": lambda: rules.may_add_evidence(user, referral),
        "import targets": lambda: rules.may_import_targets(user, referral),
        "open a referral": lambda: rules.may_open_referral(user),
        "export lists": lambda: rules.may_export_referrals(user),
        "see assignment details": lambda: rules.may_see_assignment_details(user, referral, assignment),
        "read notice": lambda: rules.may_read_notice(user, notice),
        "correct notice": lambda: rules.may_correct_notice(user, notice),
        "read the audit trail": lambda: rules.may_read_audit_trail(user),
        "comment": lambda: rules.may_comment(user, referral),
    }[action]()


def test_the_table_names_every_predicate_of_the_rules_module():
    predicates = {name for name in dir(rules) if name.startswith("may_")}
    assert predicates == {"may_edit_referral", "may_add_evidence", "may_import_targets", "may_open_referral",
                          "may_export_referrals", "may_see_assignment_details", "may_read_notice",
                          "may_correct_notice", "may_read_audit_trail", "may_comment"}


@pytest.mark.parametrize("action, state", [(action, state) for action in sorted(ALLOWED) for state in STATES
                                           if action not in NEEDS_ROUTING or state in ROUTED])
def test_role_state_action_table(db_session, action, state):
    referral, assignment, notice = subject(state)
    decided = {username: decide(action, find_user(username), referral, assignment, notice) for username in USERS}
    expected = {username: state in ALLOWED[action].get(username, set()) for username in USERS}
    assert decided == expected


def test_administrators_work_no_cases_and_only_the_audit_administrator_reads_the_trail(db_session):
    moe = find_agency("moe")
    admins = {role: User(username=f"access-{role}", display_name=role, agency=moe, password_hash="x",
                         role_rows=[UserRole(role=role)])
              for role in ("system_admin", "security_admin", "audit_admin")}
    db.session.add_all(admins.values())
    db.session.flush()
    referral = referral_row("edu-44", state="routed")
    for role, admin in admins.items():
        assert not may_see_referral(admin, referral.id)
        assert not rules.may_open_referral(admin) and not rules.may_export_referrals(admin)
        assert rules.may_read_audit_trail(admin) == (role == "audit_admin")


# --- evidence upload: one rule in the service, the evidence page and the referral page --------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


class Upload(io.BytesIO):
    def __init__(self, name: str, data: bytes):
        super().__init__(data)
        self.filename = name


def _evidence_count(referral) -> int:
    return db.session.scalar(select(func.count()).select_from(Evidence).where(Evidence.referral_id == referral.id))


@pytest.mark.parametrize("username, state", [("edu-44.intake_officer", "closed"), ("edu-44.intake_officer", "withdrawn"),
                                             ("psb-44.case_officer", "routed"), ("edu-44.assessor", "routed"),
                                             ("moe.intake_officer", "routed")])
def test_the_service_refuses_evidence_and_audits_the_refusal(db_session, username, state):
    referral = referral_row("edu-44", state=state)
    assignment_row(referral, "psb-44", "investigating")
    with pytest.raises(NotAllowed):
        attach_evidence(referral, Upload("shot.png", PNG), {}, find_user(username))
    assert _evidence_count(referral) == 0


def test_the_service_accepts_evidence_from_the_referring_intake_officer_on_an_open_referral(db_session):
    referral = referral_row("edu-44", state="routed")
    evidence = attach_evidence(referral, Upload("shot.png", PNG), {}, find_user("edu-44.intake_officer"))
    assert evidence.referral_id == referral.id


def _post_evidence(client, referral):
    return client.post(f"/referrals/{referral.id}/evidence", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(PNG), "shot.png")})


def test_upload_on_a_closed_referral_is_refused_and_audited(db_session, login_as):
    referral = referral_row("edu-44", state="closed")
    client = login_as("edu-44.intake_officer")
    response = _post_evidence(client, referral)
    assert response.status_code == 403
    assert _evidence_count(referral) == 0
    refused = db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "evidence.upload", AuditEvent.object_type == "referral",
        AuditEvent.object_id == referral.id))
    assert refused is not None and refused.outcome == "refused"
    page = client.get(f"/referrals/{referral.id}/evidence").get_data(as_text=True)
    assert 'name="file"' not in page


def test_upload_by_another_agency_is_refused(db_session, login_as):
    referral = referral_row("edu-44", state="routed")
    assignment_row(referral, "psb-44", "investigating")
    assert _post_evidence(login_as("psb-44.case_officer"), referral).status_code == 403
    assert _post_evidence(login_as("cac-44.case_officer"), referral).status_code == 404
    assert _evidence_count(referral) == 0
    assert _post_evidence(login_as("edu-44.intake_officer"), referral).status_code == 302
    assert _evidence_count(referral) == 1


@pytest.mark.parametrize("state", STATES)
def test_the_referral_page_offers_upload_exactly_where_the_rule_allows(db_session, login_as, state):
    referral, _assignment, _notice = subject(state)
    for username in ("edu-44.intake_officer", "edu-44.assessor", "psb-44.case_officer"):
        response = login_as(username).get(f"/referrals/{referral.id}")
        if username == "psb-44.case_officer" and state not in ROUTED:
            assert response.status_code == 404
            continue
        offered = f'class="button" href="/referrals/{referral.id}/evidence"' in response.get_data(as_text=True)
        assert offered == (username == "edu-44.intake_officer" and state in OPEN), (username, state)
