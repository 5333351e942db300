"""Comments in the browser (意见交流): the referral page lists what the user may read, a form writes
one (about the whole case or one assignment), a correction supersedes one's own; bad input comes
back with the text kept and the error shown, never a 500."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from casework.comments.models import Comment
from casework.extensions import db
from tests.factories import assignment_of, find_user, routed_referral


def comments_of(referral) -> list[Comment]:
    return list(db.session.scalars(select(Comment).where(Comment.referral_id == referral.id).order_by(Comment.id)))


def section(page: str) -> str:
    """The comments section of a rendered referral page."""
    start = page.index('id="comments"')
    return page[start:page.index("</section>", start)]


def post(client, referral, **form):
    return client.post(f"/referrals/{referral.id}/comments", data=form)


def test_education_writes_a_comment_mentioning_an_agency_officer(db_session, login_as):
    referral = routed_referral("44", "psb-44", "cac-44")
    client = login_as("edu-44.assessor")
    hint = section(client.get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert "@cac-44.case_officer" in hint and "@psb-44.approver" in hint and "@amr-44.case_officer" not in hint
    answer = post(client, referral, body="请 @cac-44.case_officer 核实该网站是否已关闭")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/referrals/{referral.id}#comments")
    [written] = comments_of(referral)
    assert (written.author_id, written.assignment_id, written.mentions) == (
        find_user("edu-44.assessor").id, None, [find_user("cac-44.case_officer").id])
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "flash-success" in page
    shown = section(page)
    assert "请 @cac-44.case_officer 核实该网站是否已关闭" in shown and find_user("edu-44.assessor").display_name in shown


def test_an_agency_comments_on_its_assignment_and_only_those_who_read_it_see_it(db_session, login_as):
    referral = routed_referral("44", "psb-44", "cac-44")
    police = assignment_of(referral, "psb-44")
    officer = login_as("psb-44.case_officer")
    form = section(officer.get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert f'<option value="{police.id}"' in form and f'<option value="{assignment_of(referral, "cac-44").id}"' not in form
    assert post(officer, referral, body="侦查中，请勿对外公开", assignment=str(police.id)).status_code == 302
    assert post(officer, referral, body="我方已签收").status_code == 302
    about_police, general = comments_of(referral)
    assert (about_police.assignment_id, general.assignment_id) == (police.id, None)
    cyber_page = section(login_as("cac-44.case_officer").get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert "我方已签收" in cyber_page and "侦查中" not in cyber_page
    education = section(login_as("edu-44.approver").get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert "侦查中，请勿对外公开" in education and "我方已签收" in education


def test_an_agency_cannot_comment_on_another_agencys_assignment(db_session, login_as):
    referral = routed_referral("44", "psb-44", "cac-44")
    answer = post(login_as("cac-44.case_officer"), referral, body="看看公安的",
                  assignment=str(assignment_of(referral, "psb-44").id))
    assert answer.status_code == 400
    assert "看看公安的" in section(answer.get_data(as_text=True)) and comments_of(referral) == []


@pytest.mark.parametrize("username", ["edu-11.assessor", "amr-44.case_officer"])
def test_outside_the_users_scope_the_route_answers_404(db_session, login_as, username):
    referral = routed_referral("44", "psb-44")
    assert post(login_as(username), referral, body="你好").status_code == 404
    assert comments_of(referral) == []


def test_a_mention_outside_the_case_comes_back_with_the_text_kept_and_the_names(db_session, login_as):
    referral = routed_referral("44", "psb-44")
    typed = "请 @amr-44.case_officer 与 @psb-44.case_officer 协查 <b>急</b>"
    answer = post(login_as("edu-44.assessor"), referral, body=typed)
    assert answer.status_code == 400
    shown = section(answer.get_data(as_text=True))
    assert html.escape(typed, quote=False) in shown and "<b>急</b>" not in shown
    assert 'aria-invalid="true"' in shown and "@amr-44.case_officer" in shown[shown.index('class="error"'):]
    assert comments_of(referral) == []


@pytest.mark.parametrize("body", ["", "   ", "长" * 5001])
def test_an_empty_or_too_long_comment_is_a_field_error(db_session, login_as, body):
    referral = routed_referral("44", "psb-44")
    answer = post(login_as("edu-44.assessor"), referral, body=body)
    assert answer.status_code == 400 and 'id="comment-body-err"' in answer.get_data(as_text=True)
    assert comments_of(referral) == []


@pytest.mark.parametrize("form", [
    {"body": "含有\x00空字符"},
    {"body": "长" * 200_000},
    {"body": "好", "assignment": "99999999999999999999"},
    {"body": "好", "assignment": "abc"},
    {"body": "好", "supersedes": "１２"},
    {"body": "好", "supersedes": "123456789"},
    {"body": "bell \x07"},
])
def test_bad_input_is_a_400_never_a_500(db_session, login_as, form):
    referral = routed_referral("44", "psb-44")
    assert post(login_as("edu-44.assessor"), referral, **form).status_code == 400
    assert comments_of(referral) == []


def test_a_correction_supersedes_ones_own_comment_and_the_original_stays(db_session, login_as):
    referral = routed_referral("44", "psb-44")
    police = assignment_of(referral, "psb-44")
    officer = login_as("psb-44.case_officer")
    post(officer, referral, body="涉案金额约十万元", assignment=str(police.id))
    [original] = comments_of(referral)
    page = section(officer.get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert f'name="supersedes" value="{original.id}"' in page
    assert post(officer, referral, body="更正：约一万元", supersedes=str(original.id)).status_code == 302
    first, correction = comments_of(referral)
    assert (first.body, correction.supersedes_id, correction.assignment_id) == ("涉案金额约十万元", original.id, police.id)
    page = section(officer.get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert "<del>涉案金额约十万元</del>" in page and f'href="#comment-{correction.id}"' in page
    assert f'name="supersedes" value="{original.id}"' not in page
    assert f'name="supersedes" value="{correction.id}"' in page
    again = post(officer, referral, body="再次更正", supersedes=str(original.id))
    assert again.status_code == 400 and "再次更正" in section(again.get_data(as_text=True))
    education = login_as("edu-44.assessor")
    assert f'name="supersedes" value="{correction.id}"' not in section(
        education.get(f"/referrals/{referral.id}").get_data(as_text=True))
    others = post(education, referral, body="改别人的", supersedes=str(correction.id))
    assert others.status_code == 400 and "改别人的" in section(others.get_data(as_text=True))
    assert len(comments_of(referral)) == 2
