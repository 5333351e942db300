"""The workflow JSON API: triggers, fire, field errors, refusals, scope (404), version conflicts (409), CSRF."""
from __future__ import annotations

from casework.extensions import db
from tests.factories import (  # noqa: F401
    act, agencies_form, assignment_of, find_agency, new_referral, notices_switch, routed_referral,
)


def test_triggers_list_what_the_user_may_fire(db_session, login_as):
    referral = new_referral()
    answer = login_as("edu-44.intake_officer").get(f"/api/referrals/{referral.id}/triggers").get_json()
    assert answer["state"] == "draft" and answer["version"] == referral.version
    names = [t["name"] for t in answer["triggers"]]
    assert names == ["submit", "withdraw"]
    withdraw = answer["triggers"][1]
    assert withdraw["confirm"] is True and withdraw["style"] == "danger"
    assert withdraw["fields"][0]["name"] == "reason" and withdraw["fields"][0]["required"] is True
    assessor = login_as("edu-44.assessor").get(f"/api/referrals/{referral.id}/triggers").get_json()
    assert assessor["triggers"] == []


def test_route_field_preselects_the_recommended_agencies(db_session, login_as):
    from tests.factories import approved_referral

    referral = approved_referral("44", "cac-44", "psb-44")
    answer = login_as("edu-44.assessor").get(f"/api/referrals/{referral.id}/triggers").get_json()
    route = next(t for t in answer["triggers"] if t["name"] == "route")
    agencies = route["fields"][0]
    assert agencies["type"] == "agencies"
    assert [pair[0] for pair in agencies["default"]] == [find_agency("cac-44").id, find_agency("psb-44").id]
    assert str(find_agency("cac-44").id) in [c[0] for c in agencies["choices"]]


def test_fire_moves_the_state_and_answers_the_new_version(db_session, login_as):
    referral = new_referral()
    client = login_as("edu-44.intake_officer")
    response = client.post(f"/api/referrals/{referral.id}/fire/submit", json={"data": {}, "version": referral.version})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["state"] == "submitted"
    stale = client.post(f"/api/referrals/{referral.id}/fire/withdraw",
                        json={"data": {"reason": "误报"}, "version": body["version"] - 1})
    assert stale.status_code == 409
    assert stale.get_json()["error"].startswith("已由 edu-44 intake_officer 于 ")
    assert stale.get_json()["error"].endswith(" 提交，请刷新页面后重试")


def test_field_errors_are_400_with_keys(db_session, login_as):
    referral = routed_referral("44", "cac-44")
    assignment = assignment_of(referral, "cac-44")
    client = login_as("cac-44.case_officer")
    assert client.post(f"/api/assignments/{assignment.id}/fire/receive", json={}).status_code == 200
    response = client.post(f"/api/assignments/{assignment.id}/fire/decline", json={"data": {"reason": "  "}})
    assert response.status_code == 400
    assert "reason" in response.get_json()["errors"]


def test_refusals_are_403_or_422_and_other_scopes_404(db_session, login_as):
    referral = routed_referral("44", "cac-44")
    assignment = assignment_of(referral, "cac-44")
    wrong_role = login_as("cac-44.approver").post(f"/api/assignments/{assignment.id}/fire/receive", json={})
    assert wrong_role.status_code == 403 and "承办人" in wrong_role.get_json()["error"]
    wrong_state = login_as("cac-44.case_officer").post(f"/api/assignments/{assignment.id}/fire/accept", json={})
    assert wrong_state.status_code == 422
    outsider = login_as("psb-11.case_officer")
    assert outsider.get(f"/api/assignments/{assignment.id}/triggers").status_code == 404
    assert outsider.post(f"/api/referrals/{referral.id}/fire/withdraw", json={"reason": "x"}).status_code == 404
    db.session.expire_all()
    assert assignment.state == "sent"


def test_the_api_keeps_csrf_and_takes_the_header(app, db_session, login_as):
    referral = new_referral()
    client = login_as("edu-44.intake_officer")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/api/referrals/{referral.id}/fire/submit", json={})
        assert refused.status_code == 400
        with client.session_transaction() as session:
            session["csrf_token"] = "known-raw-token"
        from flask_wtf.csrf import generate_csrf

        with app.test_request_context():
            from flask import session as request_session

            request_session["csrf_token"] = "known-raw-token"
            token = generate_csrf()
        accepted = client.post(f"/api/referrals/{referral.id}/fire/submit", json={}, headers={"X-CSRFToken": token})
        assert accepted.status_code == 200, accepted.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_values_of_the_wrong_json_type_are_field_errors(db_session, login_as):
    referral = routed_referral("44", "cac-44")
    assignment = assignment_of(referral, "cac-44")
    client = login_as("cac-44.case_officer")
    for trigger in ("receive", "accept"):
        assert client.post(f"/api/assignments/{assignment.id}/fire/{trigger}", json={}).status_code == 200
    url = f"/api/assignments/{assignment.id}/fire/"
    note = client.post(url + "add_note", json={"data": {"body": {"x": 1}}})
    assert note.status_code == 400 and "body" in note.get_json()["errors"]
    for amount in (1.5, True, "1.5", "²"):
        more_time = client.post(url + "request_extension", json={"data": {"amount": amount, "reason": "需要核查"}})
        assert more_time.status_code == 400 and "amount" in more_time.get_json()["errors"], amount
    version = client.post(url + "add_note", json={"data": {"body": "已调取"}, "version": True})
    assert version.status_code == 400 and "version" in version.get_json()["errors"]
