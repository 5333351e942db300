"""Messages of the workflow engine: the user's language in a request, plain English elsewhere (CLI, sweep)."""
from __future__ import annotations

from flask import has_request_context


def _(msgid: str, **values) -> str:
    if has_request_context():
        from flask_babel import gettext

        return gettext(msgid, **values)
    return msgid % values if values else msgid
