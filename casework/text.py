"""For people: messages in the user's language inside a request (plain English elsewhere: CLI,
sweep, tests), the language workflow labels are picked in, and the time zone dates are shown in."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import has_request_context
from flask_babel import get_locale, gettext


CST = ZoneInfo("Asia/Shanghai")  # China Standard Time: every date on screen and in notices


def _(msgid: str, /, **values) -> str:
    if has_request_context():
        return gettext(msgid, **values)
    return msgid % values if values else msgid


def language() -> str:
    """``zh`` or ``en``: the user's language inside a request, Chinese elsewhere (notices, CLI)."""
    return "en" if has_request_context() and str(get_locale() or "zh").startswith("en") else "zh"
