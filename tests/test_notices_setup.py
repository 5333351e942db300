"""Start-up warnings for a missing CJK font or HarfBuzz-subset; the referral page's notice panel."""
from __future__ import annotations

import logging

from casework.notices import fonts, startup
from casework.notices.services import issue_notice
from tests.factories import assignment_row, find_user, referral_row


def test_no_warning_when_fonts_and_harfbuzz_are_present(app):
    assert startup.check_notice_environment(app) == []


def test_missing_cjk_font_and_harfbuzz_subset_are_warned_clearly(app, monkeypatch, caplog):
    monkeypatch.setattr(fonts, "installed_chain_files", lambda: [])
    monkeypatch.setattr(fonts, "harfbuzz_subset_available", lambda: False)
    with caplog.at_level(logging.WARNING, logger="casework.notices"):
        problems = startup.check_notice_environment(app)
    assert len(problems) == 2
    text = caplog.text
    assert "no CJK font" in text and "HarfBuzz-subset is missing" in text
    assert "libharfbuzz-subset0" in text and "fonts-noto-cjk" in text


def test_unprintable_characters_are_found():
    assert fonts.missing_characters("张三𠮷䶮 ABC") == []
    assert fonts.missing_characters("表情😀") == ["😀"]


def test_referral_page_lists_visible_notices_with_dossier_links(db_session, login_as):
    referral = referral_row("edu-44")
    letter = issue_notice("referral_letter", assignment_row(referral, "cac-44"), find_user("edu-44.assessor"))
    assignment_row(referral, "psb-44")
    html = login_as("edu-44.intake_officer").get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert letter.document_number in html and f"/notices/{letter.id}.pdf" in html
    assert f"/referrals/{referral.id}/dossier.zip" in html
    other = login_as("psb-44.case_officer").get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert letter.document_number not in other
