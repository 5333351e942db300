"""Comments between the parties on a case: mentions of people on the case only, visibility by the
page's rules, never edited (a correction supersedes), audited, mentioned people and owners told."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.audit.models import AuditEvent
from casework.comments.services import add_comment, mentioned_names, visible_comments
from casework.errors import NotAllowed, ValidationFailed
from casework.extensions import db
from casework.notifications.models import Notification
from casework.unit_of_work import unit_of_work
from tests.factories import act, assignment_of, find_user, routed_referral


def comment(referral, username, body, **data):
    with unit_of_work():
        return add_comment(referral, {"body": body, **data}, find_user(username))


def test_mentions_are_parsed_from_the_text():
    assert mentioned_names("请 @psb-44.case_officer 和 @cac-44.approver. 核实，邮件 a@b.cn 不算") == \
        ["psb-44.case_officer", "cac-44.approver"]


def test_a_mention_tells_the_person_and_the_owner_hears_of_comments(db_session):
    referral = routed_referral("44", "psb-44", "cac-44")
    police = assignment_of(referral, "psb-44")
    act(police, "receive", "psb-44.case_officer")
    written = comment(referral, "edu-44.assessor", "请 @cac-44.case_officer 协助核实该应用", assignment=None)
    assert written.mentions == [find_user("cac-44.case_officer").id]
    told = db.session.scalars(select(Notification).where(Notification.kind == "mention")).all()
    assert [n.recipient_id for n in told] == written.mentions
    comment(referral, "edu-44.assessor", "已补充证据", assignment=police)
    owner_told = db.session.scalars(select(Notification).where(Notification.kind == "comment")
                                    .order_by(Notification.id)).all()
    assert [(n.recipient_id, n.subject_type) for n in owner_told] == [
        (find_user("edu-44.intake_officer").id, "referral"),  # owner of the referral commented on
        (find_user("psb-44.case_officer").id, "assignment")]  # owner of the assignment commented on
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "comment.create",
                                                       AuditEvent.object_id == written.id))
    assert event.payload["mentions"] == written.mentions


def test_mentioning_someone_outside_the_case_is_refused_by_name(db_session):
    referral = routed_referral("44", "psb-44")
    with pytest.raises(ValidationFailed) as refused:
        comment(referral, "edu-44.assessor", "@amr-44.case_officer 请看 @nobody.here")
    assert "@amr-44.case_officer" in refused.value.errors["body"] and "@nobody.here" in refused.value.errors["body"]


def test_a_comment_on_an_assignment_is_read_only_where_its_details_are(db_session):
    referral = routed_referral("44", "psb-44", "cac-44")
    police = assignment_of(referral, "psb-44")
    on_police = comment(referral, "psb-44.case_officer", "调查中，暂不宜公开", assignment=police)
    general = comment(referral, "cac-44.case_officer", "我方已下架")
    assert visible_comments(referral, find_user("edu-44.assessor")) == [on_police, general]
    assert visible_comments(referral, find_user("cac-44.case_officer")) == [general]
    with pytest.raises(ValidationFailed):
        comment(referral, "cac-44.case_officer", "看看公安的", assignment=police)


def test_a_correction_supersedes_and_the_original_stays(db_session):
    referral = routed_referral("44", "psb-44")
    first = comment(referral, "edu-44.assessor", "涉案金额约十万元")
    second = comment(referral, "edu-44.assessor", "更正：约一万元", supersedes=first)
    assert second.supersedes_id == first.id and first.body == "涉案金额约十万元"
    with pytest.raises(ValidationFailed):
        comment(referral, "psb-44.case_officer", "改别人的", supersedes=first)


@pytest.mark.parametrize("body", ["", "   ", "长" * 5001])
def test_empty_or_huge_comments_are_field_errors(db_session, body):
    referral = routed_referral("44", "psb-44")
    with pytest.raises(ValidationFailed):
        comment(referral, "edu-44.assessor", body)


def test_administrators_do_not_comment(db_session):
    referral = routed_referral("44", "psb-44")
    admin = find_user("edu-44.assessor")
    admin.role_rows[0].role = "audit_admin"
    db.session.flush()
    with pytest.raises(NotAllowed):
        add_comment(referral, {"body": "x"}, admin)
