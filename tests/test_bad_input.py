"""Bad input answers 4xx, never 500: ids beyond the database, odd digits, wrong JSON types, no session."""
from __future__ import annotations

import pytest

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [
    f"/referrals/{HUGE}", f"/referrals/{HUGE}/evidence", f"/referrals/{HUGE}/dossier.zip", f"/targets/{HUGE}",
    f"/notices/{HUGE}.pdf", f"/evidence/{HUGE}/download", "/referrals/2147483648",
])
def test_ids_beyond_the_database_are_404_pages(login_as, path):
    response = login_as("edu-44.intake_officer").get(path)
    assert response.status_code == 404


@pytest.mark.parametrize("method, path", [
    ("get", f"/api/referrals/{HUGE}"), ("get", f"/api/assignments/{HUGE}/triggers"),
    ("post", f"/api/assignments/{HUGE}/fire/accept"),
])
def test_ids_beyond_the_database_are_404_json(login_as, method, path):
    response = getattr(login_as("edu-44.intake_officer"), method)(path, json={})
    assert response.status_code == 404 and response.is_json


def test_the_api_without_a_session_answers_401_json(client):
    response = client.get("/api/referrals")
    assert response.status_code == 401 and response.is_json
    page = client.get("/search?target=x")
    assert page.status_code == 302 and "/login?next=/search?target%3Dx" in page.headers["Location"]


def test_the_api_after_the_idle_timeout_answers_401_json(login_as):
    client = login_as("edu-44.intake_officer")
    with client.session_transaction() as sess:
        sess["last_seen"] = sess["last_seen"] - 31 * 60
    response = client.get("/api/referrals")
    assert response.status_code == 401 and response.is_json


@pytest.mark.parametrize("text, largest, value", [("42", None, 42), ("2147483648", None, None), ("²", None, None),
                                                  ("3000000000", 2**63 - 1, 3000000000), (" 7 ", None, 7), ("", None, None)])
def test_database_id_reads_only_ids_the_column_holds(text, largest, value):
    from casework.db_types import database_id

    assert (database_id(text) if largest is None else database_id(text, largest)) == value
