"""Messages of the account rules: in the user's language in a request, in English elsewhere (CLI)."""
from flask import has_request_context
from flask_babel import gettext


def _(text: str, **params) -> str:
    """Translate ``text`` (marked for the catalogue under this name) when there is a request."""
    return gettext(text, **params) if has_request_context() else text % params if params else text
