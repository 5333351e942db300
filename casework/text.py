"""Messages for people: in the user's language inside a request, plain English elsewhere (CLI, sweep, tests)."""
from __future__ import annotations

from flask import has_request_context
from flask_babel import get_locale, gettext


def _(msgid: str, /, **values) -> str:
    if has_request_context():
        return gettext(msgid, **values)
    return msgid % values if values else msgid


def language() -> str:
    """``zh`` or ``en``: the user's language inside a request, Chinese elsewhere (notices, CLI)."""
    return "en" if has_request_context() and str(get_locale() or "zh").startswith("en") else "zh"
