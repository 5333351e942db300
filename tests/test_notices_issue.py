"""Issuing: gap-free numbers, refusals that consume nothing, corrections, audit."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from casework.audit.models import AuditEvent
from casework.errors import DomainError, ValidationFailed
from casework.extensions import db
from casework.notices.content import document_kind
from casework.notices.dossier import dossier_rows, referral_notices
from casework.notices.models import Notice, NoticeCounter
from casework.notices.services import balanced_lines, correct_notice, issue_notice
from tests.factories import assignment_row, disposition_row, find_agency, find_user, referral_row

YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year


def counter(agency_code: str, series: str) -> int:
    agency = find_agency(agency_code)
    value = db.session.scalar(select(NoticeCounter.last_serial).where(
        NoticeCounter.agency_id == agency.id, NoticeCounter.series == series))
    return value or 0


def notice_count() -> int:
    return db.session.scalar(select(func.count(Notice.id)))


def test_numbers_run_per_agency_series_and_year_without_gaps(db_session):
    referral = referral_row("edu-11")
    officer = find_user("cac-11.case_officer")
    first = [issue_notice("receipt", assignment_row(referral, "cac-11", state="received"), officer)
             for _ in range(3)]
    letter = issue_notice("return_notice", assignment_row(referral, "cac-11", state="returned"), officer,
                          {"reason": "请补充截图。"})
    assert [n.serial for n in first] == [1, 2, 3]
    assert [n.document_number for n in first] == [f"京网信收〔{YEAR}〕{i}号" for i in (1, 2, 3)]
    assert letter.serial == 1 and letter.document_number == f"京网信函〔{YEAR}〕1号"
    assert counter("cac-11", "receipt") == 3 and counter("cac-11", "letter") == 1
    assert len({n.verification_code for n in [*first, letter]}) == 4


def test_referral_letter_for_a_routed_referral_goes_to_every_waiting_assignment(db_session):
    referral = referral_row("edu-11")
    assignments = [assignment_row(referral, code) for code in ("cac-11", "psb-11")]
    first = issue_notice("referral_letter", referral, find_user("edu-11.assessor"), {})
    letters = db.session.scalars(select(Notice).where(Notice.referral_id == referral.id)).all()
    assert first.recipient_agency_id == assignments[0].agency_id
    assert sorted(n.recipient_agency_id for n in letters) == sorted(a.agency_id for a in assignments)
    assert [n.serial for n in sorted(letters, key=lambda n: n.id)] == [1, 2]


def test_issuing_is_audited(db_session):
    referral = referral_row("edu-11")
    notice = issue_notice("receipt", assignment_row(referral, "psb-11", state="received"),
                          find_user("psb-11.case_officer"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "notice.issue",
                                                       AuditEvent.object_id == notice.id))
    assert event.payload["document_number"] == notice.document_number
    assert event.payload["sha256"] == notice.sha256


@pytest.mark.parametrize("kind,state", [("receipt", "sent"), ("refusal_notice", "accepted"),
                                        ("feedback_letter", "investigating"), ("reminder_letter", "closed")])
def test_a_state_that_does_not_produce_the_notice_is_refused(db_session, kind, state):
    referral = referral_row("edu-11")
    assignment = assignment_row(referral, "amr-11", state=state)
    before = notice_count()
    with pytest.raises(DomainError, match=f"state {state!r} does not produce|has ended"):
        issue_notice(kind, assignment, find_user("amr-11.case_officer"), {"reason": "理由", "summary": "结果"})
    assert notice_count() == before and counter("amr-11", "letter") == 0 and counter("amr-11", "receipt") == 0


def test_an_agency_without_number_prefix_cannot_issue(db_session):
    referral = referral_row("edu-11")
    assignment = assignment_row(referral, "ca-11", state="received")
    assignment.agency.number_prefix = None
    db.session.flush()
    before = notice_count()
    with pytest.raises(DomainError, match="no document-number prefix"):
        issue_notice("receipt", assignment, find_user("ca-11.case_officer"))
    assert notice_count() == before and counter("ca-11", "receipt") == 0


@pytest.mark.parametrize("data,field", [({"reason": "理" * 1501}, "reason"), ({"reason": "含表情😀的理由"}, "characters")])
def test_text_that_would_overflow_or_not_print_is_refused(db_session, data, field):
    referral = referral_row("edu-11")
    assignment = assignment_row(referral, "psb-11", state="declined")
    with pytest.raises(ValidationFailed) as caught:
        issue_notice("refusal_notice", assignment, find_user("psb-11.case_officer"), data)
    assert field in caught.value.errors
    assert counter("psb-11", "letter") == 0


def test_an_overlong_title_is_refused(db_session):
    referral = referral_row("edu-11", title="某" * 55)
    with pytest.raises(ValidationFailed) as caught:
        issue_notice("referral_letter", assignment_row(referral, "cac-11"), find_user("edu-11.assessor"))
    assert "title" in caught.value.errors and counter("edu-11", "letter") == 0


def test_a_failed_render_consumes_no_number(db_session, monkeypatch):
    import casework.notices.services as services

    referral = referral_row("edu-11")
    officer = find_user("ca-11.case_officer")
    issue_notice("receipt", assignment_row(referral, "ca-11", state="received"), officer)

    def broken(*_args, **_kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(services, "render_notice", broken)
    with pytest.raises(RuntimeError):
        issue_notice("receipt", assignment_row(referral, "ca-11", state="received"), officer)
    monkeypatch.undo()
    assert counter("ca-11", "receipt") == 1
    again = issue_notice("receipt", assignment_row(referral, "ca-11", state="received"), officer)
    assert again.serial == 2


def test_a_correction_supersedes_and_keeps_both(db_session):
    referral = referral_row("edu-11")
    assignment = assignment_row(referral, "ca-11", state="disposition_approved")
    disposition_row(assignment, "ca-11.case_officer")
    approver = find_user("ca-11.approver")
    old = issue_notice("disposition_decision", assignment, approver, {"summary": "责令停止接入。"})
    assignment.state = "executed"  # the correction does not depend on the current state
    new = correct_notice(old, approver, {"summary": "责令停止接入并注销备案。"})
    assert new.supersedes is old and old.superseded_by is new
    assert new.document_number != old.document_number and new.sha256 != old.sha256
    assert new.data["supersedes"] == old.document_number
    assert old.pdf and new.pdf
    with pytest.raises(DomainError, match="already superseded"):
        correct_notice(old, approver, {})


def test_every_kind_renders(db_session):
    referral = referral_row("edu-44")
    approver = find_user("edu-44.approver")
    referral.state = "approved"
    opinion = issue_notice("assessment_opinion", referral, approver, {})
    police = assignment_row(referral, "psb-44", state="declined")
    refusal = issue_notice("refusal_notice", police, find_user("psb-44.case_officer"), {"reason": "不属于公安管辖。"})
    police.state = "reconsideration_requested"
    request = issue_notice("reconsideration_request", police, approver, {"reason": "该网站利用黑客手段篡改学习记录。"})
    market = assignment_row(referral, "amr-44", state="feedback_sent")
    disposition_row(market, "amr-44.case_officer")
    feedback = issue_notice("feedback_letter", market, find_user("amr-44.case_officer"), {"summary": "已责令停止销售。"})
    reminder = issue_notice("reminder_letter", assignment_row(referral, "cac-44", state="sent"), None, {})
    referral_reminder = issue_notice("reminder_letter", referral, None, {})
    assert opinion.recipient_agency_id is None and opinion.series == "opinion"
    assert refusal.title == "不予立案告知书" and refusal.recipient_agency_id == referral.origin_agency_id
    assert document_kind(refusal) == "不予立案告知书" and document_kind(opinion) == "研判意见书"
    assert "不予立案告知书" in [row["kind"] for row in dossier_rows(referral_notices(referral))]
    assert request.issuer_agency_id == referral.origin_agency_id and request.recipient_agency_id == police.agency_id
    assert feedback.recipient_agency_id == referral.origin_agency_id
    assert reminder.issuer_agency_id == referral.origin_agency_id and reminder.issued_by_id is None
    assert referral_reminder.issuer.code == "moe" and referral_reminder.recipient_agency_id == referral.origin_agency_id


@pytest.mark.parametrize("title,lines", [
    ("不予立案告知书", ["不予立案告知书"]),
    ("关于“某平台代刷网课线索1”线索的受理回执", ["关于“某平台代刷网课线索1”", "线索的受理回执"]),
    ("关于“某平台代刷网课线索12”线索退回补充材料的通知", ["关于“某平台代刷网课线索12”", "线索退回补充材料的通知"]),
    ("关于移送“QQ群代考服务（线索8）”线索的函", ["关于移送“QQ群代考服务（线索8）”", "线索的函"]),
    # a quoted name too long to share a line is never split: it gets its own line
    ("关于移送“某某平台‘学习通代刷’服务线索”线索的函", ["关于移送", "“某某平台‘学习通代刷’服务线索”", "线索的函"]),
    ("关于“某某科技有限公司运营的代刷网课平台”线索退回补充材料的通知",
     ["关于", "“某某科技有限公司运营的代刷网课平台”", "线索退回补充材料的通知"]),
])
def test_titles_break_into_balanced_lines_at_word_boundaries(title, lines):
    assert balanced_lines(title, 20) == lines
    assert all(len(line) <= 20 for line in balanced_lines("关" * 59, 20))


def test_quotes_inside_a_quoted_title_become_single_quotes():
    from casework.notices.content import quoted

    assert quoted("“学习通秒刷”应用") == "“‘学习通秒刷’应用”"
    assert quoted('"秒刷" app') == "“‘秒刷’ app”"


def test_form_values_that_are_not_json_are_kept_as_text(db_session):
    from datetime import timezone

    referral = referral_row("edu-11")
    assignment = assignment_row(referral, "amr-11", state="received")
    moment = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
    notice = issue_notice("receipt", assignment, find_user("amr-11.case_officer"),
                          {"seen": [moment], "agency": {"held_by": assignment.agency}})
    assert notice.data["form"]["seen"] == [str(moment)]
    assert notice.data["form"]["agency"]["held_by"] == str(assignment.agency)
