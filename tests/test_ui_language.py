"""Language: Chinese by default, English per user, dates in China Standard Time, no gaps in the catalogue."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from sqlalchemy import select

from casework.accounts.models import User
from casework.extensions import db
from casework.web.i18n import format_date, format_datetime
from tests.conftest import login
from tests.factories import make_referral

ROOT = Path(__file__).resolve().parent.parent
MAIN_TEMPLATES = ["base.html", "inbox/index.html", "inbox/_list.html", "referrals/search.html", "referrals/intake.html",
                  "referrals/show.html", "referrals/_known_hint.html", "macros/ui.html", "macros/workflow.html",
                  "errors/error.html", "accounts/login.html"]
MAIN_MODULES = ["casework/referrals/views.py", "casework/referrals/forms.py", "casework/referrals/services.py",
                "casework/referrals/queries.py", "casework/referrals/labels.py", "casework/web/template_globals.py",
                "casework/referrals/export.py", "casework/assignments/views.py", "casework/web/session.py",
                "casework/accounts/views.py", "casework/accounts/forms.py"]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def main_screen_msgids() -> set[str]:
    found = set()
    for name in MAIN_TEMPLATES:
        for _line, message, _comments, _ctx in extract_from_file("jinja2", ROOT / "templates" / name,
                                                                  keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else message[0])
    for name in MAIN_MODULES:
        for _line, message, _comments, _ctx in extract_from_file("python", ROOT / name, keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


def zh_catalogue():
    with (ROOT / "casework/translations/zh/LC_MESSAGES/messages.po").open("rb") as fh:
        return read_po(fh, locale="zh")


def test_every_main_screen_string_has_a_chinese_translation():
    catalogue = zh_catalogue()
    missing = []
    for msgid in sorted(main_screen_msgids()):
        message = catalogue.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(msgid)
    assert missing == [], f"untranslated or not extracted: {missing}"


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<input type="hidden"[^>]*>', " ", html)
    return re.sub(r"<[^>]+>", "\n", html)


def test_main_pages_in_chinese_show_no_english_source_strings(login_as, user):
    referral = make_referral(user("edu-44.intake_officer"))
    db.session.commit()
    english = {m for m in main_screen_msgids() if re.search(r"[A-Za-z]{3}", m) and "%(" not in m}
    pages = {
        "edu-44.intake_officer": ["/", "/?tab=all", "/search", "/search?target=x", "/referrals/new",
                                  f"/referrals/{referral.id}", f"/referrals/{referral.id}/edit", "/nowhere"],
        "psb-44.case_officer": ["/", "/search"],
    }
    for username, paths in pages.items():
        client = login_as(username)
        for path in paths:
            text = _visible_text(client.get(path).get_data(as_text=True))
            lines = {line.strip() for line in text.splitlines() if line.strip()}
            leaked = sorted(lines & english)
            assert leaked == [], f"{path}: {leaked}"


def test_language_is_chosen_per_user_and_kept(app, client, login_as):
    web = login_as("edu-44.assessor")
    assert "待办" in web.get("/").get_data(as_text=True)
    response = web.post("/language/en", data={"next": "/search"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/search")
    assert "Search referrals" in web.get("/search").get_data(as_text=True)
    stored = db.session.scalar(select(User.locale).where(User.username == "edu-44.assessor"))
    assert stored == "en"
    fresh = app.test_client()
    login(fresh, "edu-44.assessor")
    assert "Inbox" in fresh.get("/").get_data(as_text=True)
    fresh.post("/language/zh", data={"next": "/"})
    assert "待办" in fresh.get("/").get_data(as_text=True)


def test_dates_are_china_standard_time(app):
    late_evening_utc = datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("zh"):
            assert format_date(late_evening_utc) == "2026年11月26日"
            assert format_datetime(late_evening_utc) == "2026年11月26日 01:30"
        with force_locale("en"):
            assert format_date(late_evening_utc) == "2026-11-26"


def test_no_message_is_left_as_a_fuzzy_guess():
    fuzzy = [message.id for message in zh_catalogue() if message.id and message.fuzzy]
    assert fuzzy == [], f"fuzzy (not shown) after pybabel update: {fuzzy}"


@pytest.mark.parametrize("locale, strong, text", [("zh", False, "甲、乙"), ("zh", True, "甲；乙"),
                                                  ("en", False, "甲, 乙"), ("en", True, "甲; 乙")])
def test_lists_are_joined_in_the_users_language(app, locale, strong, text):
    from flask_babel import force_locale

    from casework.referrals.labels import join_words

    with app.test_request_context(), force_locale(locale):
        assert join_words(["甲", "乙"], strong=strong) == text
