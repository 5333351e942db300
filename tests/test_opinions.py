"""Opinions on decisions (审批意见): every approve/refuse step takes one (required when refusing), it is
stored with the decision, shown in the referral page's timeline and printed in the notice that
reports the decision."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from casework.errors import ValidationFailed
from casework.notices.models import Notice
from casework.extensions import db
from casework.workflow.clocks import pending_extension
from casework.workflow.fields import catalogue_for
from sqlalchemy import select
from tests.factories import (  # noqa: F401
    act, agencies_form, assignment_of, find_user, new_referral, notices_switch, routed_referral,
)
from workflows import declarations

APPROVING = ("approve_assessment", "not_refer", "approve_disposition", "approve_decline_filing", "approve_no_penalty",
             "approve_extension")
REFUSING = ("reject_assessment", "reject_disposition", "reject_decline_filing", "reject_no_penalty",
            "reject_extension", "uphold_refusal")
ANSWERING = ("reverse_refusal",)


def declared(trigger: str):
    found = [t for lc in declarations().lifecycles.values() for t in lc.transitions if t.trigger == trigger]
    assert found, trigger
    return found


def opinion_field(transition):
    return next((f for f in transition.fields if f.label.zh == "审批意见"), None)


@pytest.mark.parametrize("trigger", APPROVING + REFUSING + ANSWERING)
def test_every_decision_step_declares_an_opinion_required_when_refusing(trigger):
    for transition in declared(trigger):
        field = opinion_field(transition)
        assert field is not None and field.type == "textarea", transition.trigger
        assert (field.name, field.label.en) == (("opinion", "Opinion") if trigger in APPROVING else ("reason", "Opinion"))
        assert field.required == (trigger not in APPROVING)


def refused_without_opinion(obj, trigger: str, username: str) -> None:
    """The refusing step without its opinion (blank) is a field error on it, and nothing changes."""
    state = obj.state
    with pytest.raises(ValidationFailed) as refused:
        act(obj, trigger, username, reason="  ")
    assert set(refused.value.errors) == {"reason"} and obj.state == state


def pdf_text(notice: Notice) -> str:
    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(notice.pdf)).pages)


def latest_notice(referral, kind: str) -> Notice:
    return db.session.scalars(select(Notice).where(Notice.referral_id == referral.id, Notice.kind == kind)
                              .order_by(Notice.id.desc())).first()


def investigating(code: str = "cac-44"):
    referral = routed_referral("44", code)
    assignment = assignment_of(referral, code)
    act(assignment, "receive", f"{code}.case_officer")
    act(assignment, "accept", f"{code}.case_officer")
    act(assignment, "start_investigation", f"{code}.case_officer")
    return referral, assignment


def propose(assignment, code: str = "cac-44"):
    target = assignment.referral.targets[0]
    act(assignment, "propose_disposition", f"{code}.case_officer", summary="关闭该网站账号",
        **{f"action_{target.id}": next(iter(catalogue_for(assignment, target)))})


def test_an_approved_disposition_keeps_shows_and_prints_its_opinion(db_session, login_as):
    referral, cyber = investigating()
    propose(cyber)
    act(cyber, "approve_disposition", "cac-44.approver", opinion="同意下架，请于三日内执行")
    assert cyber.disposition.decision_note == "同意下架，请于三日内执行"
    notice = latest_notice(referral, "disposition_decision")
    assert notice.data["facts"]["approval_opinion"] == "同意下架，请于三日内执行"
    assert "审批意见：同意下架，请于三日内执行。" in pdf_text(notice)
    page = login_as("cac-44.case_officer").get(f"/referrals/{referral.id}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"'):]
    assert "审批意见：</span>同意下架，请于三日内执行" in timeline
    assert "同意下架，请于三日内执行" in page[page.index('class="disposition"'):page.index('id="notices"')]


def test_an_approval_without_opinion_prints_none(db_session):
    referral, cyber = investigating()
    propose(cyber)
    act(cyber, "approve_disposition", "cac-44.approver")
    notice = latest_notice(referral, "disposition_decision")
    assert cyber.disposition.decision_note == "" and "审批意见" not in pdf_text(notice)


def test_a_rejected_disposition_keeps_the_opinion_and_the_form_asks_for_it(db_session, login_as):
    referral, cyber = investigating()
    propose(cyber)
    approver = login_as("cac-44.approver")
    refused = approver.post(f"/assignments/{cyber.id}/fire/reject_disposition",
                            data={"version": cyber.version, "reason": "  "})
    assert refused.status_code == 400
    form = refused.get_data(as_text=True)
    form = form[form.index(f'id="assignment-{cyber.id}-reject_disposition"'):]
    assert "审批意见" in form[:form.index("</form>")] and "必填" in form[:form.index("</form>")]
    refused_without_opinion(cyber, "reject_disposition", "cac-44.approver")
    act(cyber, "reject_disposition", "cac-44.approver", reason="处置措施不足，需补充约谈")
    assert (cyber.state, cyber.dispositions[-1].decision_note) == ("investigating", "处置措施不足，需补充约谈")


def test_the_assessment_keeps_the_approvers_opinion_and_its_notice_prints_it(db_session, login_as):
    referral = new_referral("44")
    act(referral, "submit", "edu-44.intake_officer")
    act(referral, "start_assessment", "edu-44.assessor")
    assess = dict(conclusion="refer", severity="high", opinion="构成代刷网课", **agencies_form("cac-44"))
    act(referral, "assess", "edu-44.assessor", **assess)
    refused_without_opinion(referral, "reject_assessment", "edu-44.approver")
    act(referral, "reject_assessment", "edu-44.approver", reason="请补充涉案金额")
    rejected = referral.assessment
    assert rejected.approval_opinion == "请补充涉案金额" and rejected.approved_at is None
    act(referral, "assess", "edu-44.assessor", **{**assess, "opinion": "构成代刷网课，涉案金额约十万元"})
    act(referral, "approve_assessment", "edu-44.approver", opinion="同意移送网信部门")
    assert referral.assessment is not rejected and referral.assessment.approval_opinion == "同意移送网信部门"
    text = pdf_text(latest_notice(referral, "assessment_opinion"))
    assert re.search("四、研判意见构成代刷网课，涉案金额约十万元.*六、审批意见同意移送网信部门", text), text
    page = login_as("edu-44.assessor").get(f"/referrals/{referral.id}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"'):]
    assert "审批意见：</span>请补充涉案金额" in timeline and "审批意见：</span>同意移送网信部门" in timeline
    assert "研判意见：</span>构成代刷网课，涉案金额约十万元" in timeline


def test_not_referring_takes_an_optional_opinion(db_session):
    referral = new_referral("44")
    act(referral, "submit", "edu-44.intake_officer")
    act(referral, "start_assessment", "edu-44.assessor")
    act(referral, "assess", "edu-44.assessor", conclusion="no_brushing", severity="low", opinion="不构成")
    act(referral, "not_refer", "edu-44.approver", opinion="同意不予移送")
    assert (referral.state, referral.assessment.approval_opinion) == ("not_referred", "同意不予移送")


def test_the_police_refusal_to_file_carries_the_approvers_opinion(db_session):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    act(police, "decline_filing", "psb-44.case_officer", reason="未达到立案标准")
    refused_without_opinion(police, "reject_decline_filing", "psb-44.approver")
    act(police, "reject_decline_filing", "psb-44.approver", reason="请核实涉案金额后再议")
    assert (police.state, police.decision_reason, police.approval_opinion) == ("received", "", "请核实涉案金额后再议")
    act(police, "decline_filing", "psb-44.case_officer", reason="涉案金额不足五千元")
    assert police.approval_opinion == ""
    act(police, "approve_decline_filing", "psb-44.approver", opinion="同意不予立案")
    assert police.approval_opinion == "同意不予立案"
    text = pdf_text(latest_notice(referral, "refusal_notice"))
    assert "理由如下：涉案金额不足五千元" in text and "审批意见：同意不予立案。" in text
    act(police, "request_reconsideration", "edu-44.approver", reason="涉案金额较大")
    refused_without_opinion(police, "uphold_refusal", "psb-44.approver")
    act(police, "uphold_refusal", "psb-44.approver", reason="经复议，涉案金额确不足立案标准")
    decision = latest_notice(referral, "reconsideration_decision")
    assert "理由如下：经复议，涉案金额确不足立案标准" in pdf_text(decision)


def test_no_penalty_decisions_keep_the_opinion(db_session):
    referral = routed_referral("44", "amr-44")
    market = assignment_of(referral, "amr-44")
    act(market, "receive", "amr-44.case_officer")
    act(market, "accept", "amr-44.case_officer")
    act(market, "open_case", "amr-44.case_officer")
    act(market, "decide_no_penalty", "amr-44.case_officer", reason="首次违法")
    refused_without_opinion(market, "reject_no_penalty", "amr-44.approver")
    act(market, "reject_no_penalty", "amr-44.approver", reason="违法所得较大，应继续调查")
    assert (market.state, market.approval_opinion) == ("investigating", "违法所得较大，应继续调查")
    act(market, "decide_no_penalty", "amr-44.case_officer", reason="首次违法且及时改正")
    act(market, "approve_no_penalty", "amr-44.approver", opinion="同意")
    assert (market.state, market.approval_opinion) == ("no_penalty", "同意")


def test_an_extension_decision_keeps_the_opinion(db_session):
    referral = routed_referral("44", "cac-44")
    cyber = assignment_of(referral, "cac-44")
    act(cyber, "receive", "cac-44.case_officer")
    act(cyber, "request_extension", "cac-44.case_officer", amount=3, reason="需调取资料")
    request = pending_extension(cyber)
    act(cyber, "approve_extension", "cac-44.approver", opinion="同意延长三日")
    assert (request.state, request.decision_note) == ("approved", "同意延长三日")
    act(cyber, "request_extension", "cac-44.case_officer", amount=3, reason="仍需时间")
    request = pending_extension(cyber)
    refused_without_opinion(cyber, "reject_extension", "cac-44.approver")
    act(cyber, "reject_extension", "cac-44.approver", reason="期限已足够")
    assert (request.state, request.decision_note) == ("rejected", "期限已足够")
