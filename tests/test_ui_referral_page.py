"""The referral page: actions rendered from the workflow's FieldSpecs and fired through one route."""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from casework.agencies.models import Agency
from casework.extensions import db
from casework.audit.models import AuditEvent
from casework.audit.services import record_event
from casework.referrals.labels import event_label
from casework.referrals.models import Referral
from casework.referrals.referral_page import ReferralPage


def _agency_id(code: str) -> int:
    return db.session.scalar(select(Agency.id).where(Agency.code == code))


def _version(client, referral_id: int, form_id: str) -> str:
    html = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    match = re.search(rf'id="{form_id}".*?name="version" value="(\d+)"', html, re.S)
    assert match, f"no form {form_id} on the page"
    return match.group(1)


def fire(client, kind: str, object_id: int, referral_id: int, trigger: str, expect: int = 302, **fields):
    data = {"version": _version(client, referral_id, f"{kind}-{object_id}-{trigger}")}
    data.update({k: v for k, v in fields.items()})
    response = client.post(f"/{kind}s/{object_id}/fire/{trigger}", data=data)
    assert response.status_code == expect, response.get_data(as_text=True)[:1500]
    return response


def submitted_referral(login_as) -> tuple[Referral, object]:
    intake = login_as("edu-44.intake_officer")
    response = intake.post("/referrals/new", data={
        "title": "秒刷网课应用", "source": "university_report", "summary": "多名学生使用该应用代刷网课。",
        "targets-0-kind": "app", "targets-0-name": "秒刷", "targets-0-package_name": "com.miaoshua.page",
        "targets-1-kind": "website", "targets-1-url": "https://miaoshua-page.example.cn/",
        "action": "submit"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    referral = db.session.scalar(select(Referral).order_by(Referral.id.desc()).limit(1))
    return referral, intake


def assessed_referral(login_as):
    referral, intake = submitted_referral(login_as)
    assessor = login_as("edu-44.assessor")
    fire(assessor, "referral", referral.id, referral.id, "start_assessment")
    cac, ca = _agency_id("cac-44"), _agency_id("ca-44")
    fire(assessor, "referral", referral.id, referral.id, "assess", conclusion="refer", severity="high",
         behaviours=["brushing", "proxy_study"], opinion="构成刷课，建议移送网信和通信管理部门。",
         legal_basis="教高〔2022〕1号", agencies=[str(cac), str(ca)],
         **{f"reason_{cac}": "应用下架", f"reason_{ca}": "网站停止接入"})
    return referral, assessor


def test_the_assessor_sees_only_allowed_actions_and_recommended_agencies(login_as):
    referral, _intake = submitted_referral(login_as)
    assessor = login_as("edu-44.assessor")
    html = assessor.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert 'data-trigger="start_assessment"' in html
    assert 'data-trigger="withdraw"' not in html
    fire(assessor, "referral", referral.id, referral.id, "start_assessment")
    html = assessor.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert 'data-trigger="assess"' in html
    cac, ca = _agency_id("cac-44"), _agency_id("ca-44")
    for agency_id in (cac, ca):
        assert re.search(rf'name="agencies" value="{agency_id}" checked', html), "not preselected"
    assert not re.search(rf'name="agencies" value="{_agency_id("amr-44")}" checked', html)


def test_a_refused_form_comes_back_with_input_and_field_errors(login_as):
    referral, _intake = submitted_referral(login_as)
    assessor = login_as("edu-44.assessor")
    fire(assessor, "referral", referral.id, referral.id, "start_assessment")
    cac = _agency_id("cac-44")
    response = fire(assessor, "referral", referral.id, referral.id, "assess", expect=400,
                    conclusion="refer", severity="", opinion="保留的意见文字", agencies=[str(cac)])
    html = response.get_data(as_text=True)
    assert "保留的意见文字" in html
    assert 'id="referral-%d-assess-severity-err"' % referral.id in html
    assert f'id="referral-{referral.id}-assess-agencies-reason-{cac}-err"' in html
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "under_assessment"


def test_a_stale_version_answers_409(login_as):
    referral, _intake = submitted_referral(login_as)
    assessor = login_as("edu-44.assessor")
    response = assessor.post(f"/referrals/{referral.id}/fire/start_assessment", data={"version": "0"})
    assert response.status_code == 409
    assert "已被他人修改" in response.get_data(as_text=True)


def test_an_action_of_another_role_is_refused_with_a_message(login_as):
    referral, intake = submitted_referral(login_as)
    response = intake.post(f"/referrals/{referral.id}/fire/start_assessment",
                           data={"version": str(referral.version)}, follow_redirects=True)
    assert "不能执行此操作" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "submitted"



def test_refused_attempts_stay_out_of_the_shared_timeline(login_as, user):
    referral, _intake = submitted_referral(login_as)
    record_event("referral.start_assessment", user("edu-44.intake_officer"), referral, trigger="start_assessment",
                 outcome="refused", payload={"reason": "needs the role assessor"})
    record_event("referral.nope", user("edu-44.intake_officer"), referral, trigger="nope", outcome="refused")
    db.session.commit()
    page = login_as("edu-44.assessor").get(f"/referrals/{referral.id}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"'):]
    timeline = timeline[:timeline.index("</ol>")]
    assert "提交" in timeline
    assert "开始研判" not in timeline and "nope" not in timeline and "needs the role" not in timeline


def test_outside_scope_is_404(login_as):
    referral, _intake = submitted_referral(login_as)
    other = login_as("edu-11.assessor")
    assert other.get(f"/referrals/{referral.id}").status_code == 404
    assert other.post(f"/referrals/{referral.id}/fire/start_assessment", data={"version": "1"}).status_code == 404


def test_from_assessment_to_closure_through_the_page(login_as, user):
    referral, assessor = assessed_referral(login_as)
    approver = login_as("edu-44.approver")
    fire(approver, "referral", referral.id, referral.id, "approve_assessment")
    html = assessor.get(f"/referrals/{referral.id}").get_data(as_text=True)
    cac = _agency_id("cac-44")
    assert re.search(rf'name="agencies" value="{cac}" checked', html)
    assert 'value="应用下架"' in html
    fire(assessor, "referral", referral.id, referral.id, "route", agencies=[str(cac)],
         **{f"reason_{cac}": "应用下架"})
    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert referral.state == "routed"
    assignment = referral.assignments[0]

    officer = login_as("cac-44.case_officer")
    inbox = officer.get("/?tab=receive").get_data(as_text=True)
    assert referral.number in inbox
    for trigger in ("receive", "accept", "start_investigation"):
        fire(officer, "assignment", assignment.id, referral.id, trigger)
    app_target = next(t for t in referral.targets if t.kind == "app")
    fire(officer, "assignment", assignment.id, referral.id, "propose_disposition",
         summary="责令应用商店下架", **{f"action_{app_target.id}": "remove_app"})
    fire(login_as("cac-44.approver"), "assignment", assignment.id, referral.id, "approve_disposition")
    db.session.expire_all()
    action = db.session.get(type(assignment), assignment.id).disposition.actions[0]
    fire(officer, "assignment", assignment.id, referral.id, "record_execution",
         **{f"outcome_{action.id}": "done", f"executed_at_{action.id}": date.today().isoformat()})
    fire(officer, "assignment", assignment.id, referral.id, "send_feedback", summary="应用已下架")
    fire(approver, "assignment", assignment.id, referral.id, "close")
    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert referral.state == "closed"
    page = approver.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "已办结" in page and "应用已下架" in page
    assert "<svg" in page and f"/referrals/{referral.id}/dossier.pdf" in page
    assert page.count('<li class="outcome-ok">') >= 12
    timeline = page[page.index('id="timeline"'):]
    officer_user = user("cac-44.case_officer")
    assert officer_user.display_name in timeline and f">{officer_user.username}<" not in timeline


def test_recommendations_follow_target_kinds_and_hacking(app, user):
    from casework.referrals.routing_recommendation import recommended_agencies
    from tests.factories import make_referral

    referral = make_referral(user("edu-44.intake_officer"), summary="利用外挂脚本破解学习平台", targets=[
        {"kind": "shop", "name": "代刷小店", "platform": "taobao", "account_id": "shop-rec"},
        {"kind": "website", "name": "代刷网", "url": "https://rec.example.cn/"}])
    with app.test_request_context():
        chosen = recommended_agencies(referral)
    assert set(chosen) == {str(_agency_id(code)) for code in ("ca-44", "psb-44", "amr-44")}
    assert all(chosen.values())


@pytest.mark.parametrize("object_type, kind, locale, expected", [
    ("assignment", "police", "zh", "复议撤销原决定并立案"),
    ("assignment", "cyberspace", "zh", "复议撤销原决定并受理"),
    ("assignment", "market", "en", "Reverse the refusal and accept"),
    ("assignment", "police", "en", "Reverse the refusal and file"),
    ("assignment", None, "zh", "复议撤销原决定并受理"),
])
def test_a_step_is_named_in_the_lifecycle_of_its_agency(app, object_type, kind, locale, expected):
    with app.test_request_context(), force_locale(locale):
        assert event_label("assignment.reverse_refusal", "reverse_refusal", object_type, kind) == expected


def test_automatic_steps_are_by_the_system_in_the_users_language(app):
    page = ReferralPage(referral=None, assignments=[], timeline=[], notices=[], evidence=[], actions=[],
                        diagram=None, own_diagram=None, own_assignment=None, actor_names={7: "广东省教育厅受理员"})
    with app.test_request_context(), force_locale("zh"):
        assert page.actor_label(AuditEvent(actor_id=None, actor_name="system")) == "系统"
        assert page.actor_label(AuditEvent(actor_id=7, actor_name="edu-44-intake")) == "广东省教育厅受理员"


def test_the_approver_sees_what_an_extension_request_asks(db_session, login_as):
    from tests.factories import act, assignment_of, routed_referral

    referral = routed_referral("44", "cac-44")
    assignment = assignment_of(referral, "cac-44")
    act(assignment, "receive", "cac-44.case_officer")
    act(assignment, "request_extension", "cac-44.case_officer", amount=5, reason="需向应用商店调取开发者资料")
    page = login_as("cac-44.approver").get(f"/referrals/{referral.id}").get_data(as_text=True)
    panel = page[page.index(f'id="extension-{assignment.id}"'):]
    panel = panel[:panel.index("</div>")]
    assert "申请延长 5 个工作日" in panel and "需向应用商店调取开发者资料" in panel and "受理期限" in panel
    assert f'id="assignment-{assignment.id}-approve_extension"' in page
