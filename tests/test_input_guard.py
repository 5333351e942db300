"""The input-cleaning layer: control characters, lone surrogates, deep or huge JSON and nameless
multipart parts are 400s naming the field, on SQLite and PostgreSQL alike (issue 14, item 1)."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from casework.audit.models import AuditEvent
from casework.errors import ValidationFailed
from casework.evidence.detect import detect_type
from casework.extensions import db
from casework.referrals.models import Referral
from casework.workflow.fields import clean_fields
from tests.factories import (  # noqa: F401
    assignment_of, find_user, new_referral, notices_switch, routed_referral,
)
from workflows import declarations

NUL = "a\x00b"


def nameless_multipart(fields: dict) -> tuple[bytes, str]:
    boundary = "casework-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.parametrize("path", ["/login", "/verify", "/logout", "/referrals/new"])
def test_a_multipart_part_without_a_name_is_400_before_the_csrf_check(client, csrf_on, path):
    body, content_type = nameless_multipart({"username": "x", "password": "y"})
    response = client.post(path, data=body, content_type=content_type)
    assert response.status_code == 400
    assert "without a name" in response.get_data(as_text=True) or "没有名称" in response.get_data(as_text=True)


def assert_refused(response, field: str | None = None):
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:500])
    if field is not None and response.is_json:
        assert field in response.get_json()["errors"]


@pytest.mark.parametrize("path", [
    "/search?number=" + NUL, "/search?target=" + NUL, "/search?agency=" + NUL, "/search?region=" + NUL,
    "/search/export.csv?target=" + NUL, "/search/export.xlsx?number=" + NUL, "/audit?actor=" + NUL,
    "/audit?event=" + NUL, "/audit?object_type=" + NUL, "/referrals/known-target?kind=app&name=" + NUL,
    "/api/targets/known?url=" + NUL, "/?tab=" + NUL, "/search?" + NUL + "=1", "/targets/metrics?days=" + NUL,
])
def test_nul_in_query_arguments_is_400(login_as, path):
    assert_refused(login_as("edu-44.intake_officer").get(path))


def test_nul_in_the_login_user_name_is_400(client):
    assert_refused(client.post("/login", data={"username": "edu-44.intake_officer\x00", "password": "x"}))


@pytest.mark.parametrize("field", ["title", "summary", "region_code", "targets-0-name", "targets-0-url",
                                   "evidence_description"])
def test_nul_in_intake_fields_is_400_and_nothing_is_saved(db_session, login_as, field):
    form = {"title": "标题", "source": "public_tip", "summary": "", "targets-0-kind": "other",
            "targets-0-name": "某平台", "action": "save"}
    form[field] = "x\x00y"
    before = db_session.scalar(select(db.func.count(Referral.id)))
    assert_refused(login_as("edu-44.intake_officer").post("/referrals/new", data=form))
    assert db_session.scalar(select(db.func.count(Referral.id))) == before


def test_nul_in_evidence_and_check_descriptions_is_400(db_session, login_as):
    referral = new_referral()
    client = login_as("edu-44.intake_officer")
    assert_refused(client.post(f"/referrals/{referral.id}/evidence", data={
        "file": (io.BytesIO(b"plain text"), "a.txt"), "description": NUL}))
    assert_refused(client.post(f"/referrals/{referral.id}/evidence", data={
        "file": (io.BytesIO(b"plain text"), "a\x01.txt"), "description": "ok"}))
    target = referral.targets[0]
    assert_refused(client.post(f"/targets/{target.id}/checks", data={"status": "online", "detail": NUL}))


@pytest.mark.parametrize("reason", [NUL, "\ud800 lone", "bell \x07"])
def test_control_characters_and_lone_surrogates_in_workflow_text_are_400(db_session, login_as, reason):
    referral = new_referral()
    client = login_as("edu-44.intake_officer")
    api = client.post(f"/api/referrals/{referral.id}/fire/withdraw", json={"data": {"reason": reason}})
    assert_refused(api, "body.data.reason")
    if "\ud800" not in reason:  # a form body cannot carry a lone surrogate (it is not UTF-8)
        assert_refused(client.post(f"/referrals/{referral.id}/fire/withdraw", data={"reason": reason}))
    db_session.expire_all()
    assert referral.state == "draft"


def test_tab_newline_and_return_stay_allowed(db_session, login_as):
    referral = new_referral()
    response = login_as("edu-44.intake_officer").post(
        f"/api/referrals/{referral.id}/fire/withdraw", json={"data": {"reason": "误报\t第一行\r\n第二行"}})
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("body", ["[" * 100_000, "{" * 50_000, '{"data": ' * 40 + "1" + "}" * 40,
                                  '{"data": {"reason": NaN}}', '{"version": Infinity}', "{not json"])
def test_deep_invalid_or_non_finite_json_bodies_are_400(db_session, login_as, body):
    referral = new_referral()
    response = login_as("edu-44.intake_officer").post(
        f"/api/referrals/{referral.id}/fire/submit", data=body, content_type="application/json")
    assert_refused(response, "body")
    assert "error" in response.get_json()


def test_a_json_body_over_the_limit_is_413(db_session, login_as):
    referral = new_referral()
    response = login_as("edu-44.intake_officer").post(
        f"/api/referrals/{referral.id}/fire/submit", json={"data": {"reason": "x" * (1024 * 1024)}})
    assert response.status_code == 413 and response.is_json


def test_a_trigger_name_over_64_characters_is_a_4xx_not_an_audit_overflow(db_session, login_as):
    referral = new_referral()
    client = login_as("edu-44.intake_officer")
    for path in (f"/api/referrals/{referral.id}/fire/{'x' * 80}", f"/referrals/{referral.id}/fire/{'x' * 80}"):
        response = client.post(path, json={}) if path.startswith("/api") else client.post(path, data={})
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert not db_session.scalars(select(AuditEvent).where(db.func.length(AuditEvent.event) > 64)).all()


@pytest.mark.parametrize("data", [
    {"conclusion": {"a": 1}, "severity": ["x"]}, {"conclusion": float("inf")}, {"behaviours": [{"a": 1}]},
    {"conclusion": 10 ** 400}, {"behaviours": "a,b", "severity": True}])
def test_objects_and_numbers_where_choices_are_expected_are_field_errors(db_session, data):
    referral = new_referral()
    assess = next(t for t in declarations().lifecycle("referral").transitions if t.trigger == "assess")
    with pytest.raises(ValidationFailed) as caught:
        clean_fields(assess, referral, find_user("edu-44.assessor"), data)
    assert isinstance(caught.value.errors, dict) and caught.value.errors


@pytest.mark.parametrize("raw", [{"id": 1}, float("inf"), float("nan"), 10 ** 400, "9" * 5000, [1], True, "１２"])
def test_objects_and_infinity_where_agency_ids_are_expected_are_field_errors(db_session, raw):
    referral = routed_referral("44", "cac-44")
    assignment = assignment_of(referral, "cac-44")
    transfer = next(t for t in declarations().lifecycle("assignment").transitions if t.trigger == "transfer")
    for data in ({"agency": raw, "reason": "x"}, {"agency": "1", "reason": raw}):
        with pytest.raises(ValidationFailed):
            clean_fields(transfer, assignment, find_user("cac-44.case_officer"), data)
    route = next(t for t in declarations().lifecycle("referral").transitions if t.trigger == "route")
    for data in ({"agencies": [raw]}, {"agencies": [{"id": raw, "reason": "x"}]},
                 {"agencies": [{"id": 1, "reason": raw}]}):
        with pytest.raises(ValidationFailed):
            clean_fields(route, referral, find_user("edu-44.assessor"), data)


def test_objects_and_infinity_in_the_api_answer_400_with_field_errors(db_session, login_as):
    referral = routed_referral("44", "cac-44")
    assignment = assignment_of(referral, "cac-44")
    client = login_as("cac-44.case_officer")
    assert client.post(f"/api/assignments/{assignment.id}/fire/receive", json={}).status_code == 200
    for data in ({"agency": {"id": 1}, "reason": "x"}, {"agency": 1e308, "reason": []}):
        response = client.post(f"/api/assignments/{assignment.id}/fire/transfer", json={"data": data})
        assert_refused(response)
        assert response.get_json()["errors"]


def test_a_control_character_in_a_title_keeps_the_xlsx_export_working(db_session, login_as):
    referral = new_referral()
    db_session.execute(update(Referral).where(Referral.id == referral.id).values(title="旧数据\x0b标题\x1f"))
    db_session.commit()
    response = login_as("edu-44.intake_officer").get("/search/export.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    titles = [row[1] for row in sheet.iter_rows(values_only=True)]
    assert "旧数据\ufffd标题\ufffd" in titles


def test_deeply_nested_json_in_a_text_evidence_file_is_plain_text(db_session, login_as):
    deep = b"{" + b'"a":[' * 200_000
    assert detect_type(deep) == "text/plain; charset=utf-8"
    assert detect_type(b'{"a":' * 100_000 + b"1" + b"}" * 100_000) == "text/plain; charset=utf-8"
    referral = new_referral()
    response = login_as("edu-44.intake_officer").post(f"/referrals/{referral.id}/evidence", data={
        "file": (io.BytesIO(deep), "deep.txt")})
    assert response.status_code == 302


def test_strings_over_their_column_are_refused_at_flush(db_session):
    referral = new_referral()
    referral.region_code = "4" * 100
    with pytest.raises(ValidationFailed) as caught:
        db_session.flush()
    assert "region_code" in caught.value.errors
    db_session.rollback()


def test_an_old_value_that_breaks_the_rules_does_not_block_other_changes(db_session):
    referral = new_referral()
    db_session.execute(update(Referral).where(Referral.id == referral.id).values(title="旧数据\x0b标题"))
    db_session.commit()
    db_session.expire_all()
    referral = db_session.get(Referral, referral.id)
    referral.summary = "新的摘要"
    db_session.flush()
    referral.summary = "坏\x00摘要"
    with pytest.raises(ValidationFailed) as caught:
        db_session.flush()
    assert list(caught.value.errors) == ["summary"]
    db_session.rollback()
