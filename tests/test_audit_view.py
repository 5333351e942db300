"""The audit trail page: the audit administrator reads it; nobody else sees it exists."""
from __future__ import annotations

import pytest

from casework.accounts.services import create_user
from tests.conftest import login
from tests.factories import make_referral

ADMIN_PASSWORD = "Audit-adm1n-pass"


@pytest.fixture
def admin_client(app, db_session):
    def make(role: str):
        create_user({"username": f"x-{role}", "agency_code": "moe", "roles": [role],
                     "password": ADMIN_PASSWORD, "must_change_password": False}, actor=None)
        client = app.test_client()
        assert login(client, f"x-{role}", ADMIN_PASSWORD).status_code == 302
        return client

    return make


def test_audit_admin_reads_and_filters_the_trail(admin_client, user):
    referral = make_referral(user("edu-44.intake_officer"))
    client = admin_client("audit_admin")
    page = client.get("/audit").get_data(as_text=True)
    assert "登记线索" in page
    assert "审计日志" in page and "casework audit verify" not in page
    assert f"{referral.number}" in page
    filtered = client.get(f"/audit?object_type=referral&object_id={referral.id}&event=referral.")
    rows = filtered.get_data(as_text=True).split("<tbody>")[1]
    assert "referral.create" in rows and "auth.login" not in rows


@pytest.mark.parametrize("role", ["system_admin", "security_admin"])
def test_other_admins_cannot_see_the_trail(admin_client, role):
    assert admin_client(role).get("/audit").status_code == 404


def test_case_officers_cannot_see_the_trail(login_as):
    assert login_as("psb-44.case_officer").get("/audit").status_code == 404


def test_the_trail_has_no_write_routes(app):
    methods = {m for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")
               for m in rule.methods}
    assert methods <= {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("query", ["object_id=99999999999999999999", "object_id=²", "before=99999999999999999999", "before=3000000000",
                                   "before=²", "since=9999-12-31&until=9999-12-31",
                                   "since=0001-01-01&until=0001-01-01"])
def test_filters_ignore_what_is_not_an_id_or_a_day(admin_client, query):
    assert admin_client("audit_admin").get(f"/audit?{query}").status_code == 200
