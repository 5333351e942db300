"""The input-cleaning layer: every request's text and JSON is checked before any view, CSRF check
or session hook reads it (rules in ``casework/input_rules.py``).

A request that breaks a rule is refused with 400 naming the field: a control character or lone
surrogate in the path, a query argument, a form field (name or value) or an uploaded file's name;
a multipart part without a name; a value longer than ``MAX_ARG_CHARS`` (query) or
``MAX_FIELD_CHARS`` (form); a JSON body that is not valid JSON, nests deeper than
``MAX_JSON_DEPTH``, holds NaN or Infinity or breaks the text rule. A JSON body larger than
``MAX_JSON_BYTES`` is refused with 413.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from casework.errors import ValidationFailed
from casework.input_rules import (MAX_JSON_DEPTH, install_column_guard, json_text_problem, loads_bounded,
                                  text_problem)
from casework.text import _

MAX_ARG_CHARS = 4096
MAX_FIELD_CHARS = 100_000
MAX_JSON_BYTES = 1024 * 1024


class BadInput(ValidationFailed):
    """The request broke the input rules before any view saw it."""

    def __init__(self, field: str, problem: str):
        super().__init__({field: problem}, _("The field “%(field)s” %(problem)s.", field=field, problem=problem))


def _shown(name) -> str:
    """A field name fit to be quoted in a message (control characters escaped, at most 64 characters)."""
    return ascii(name)[1:-1][:64] if text_problem(name) else name[:64]


def _check_pairs(pairs, limit: int, kind: str) -> None:
    for name, value in pairs:
        if not isinstance(name, str) or name == "":
            raise BadInput(kind, _("has a part without a name"))
        if problem := text_problem(name):
            raise BadInput(_shown(name), problem)
        if isinstance(value, str):
            if problem := text_problem(value):
                raise BadInput(name, problem)
            if len(value) > limit:
                raise BadInput(name, _("is longer than %(n)d characters", n=limit))


def _check_files() -> None:
    for name, storage in request.files.items(multi=True):
        if not isinstance(name, str) or name == "":
            raise BadInput("file", _("has a part without a name"))
        if problem := text_problem(name) or text_problem(storage.filename or ""):
            raise BadInput(_shown(name), problem)


def _check_json() -> None:
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise RequestEntityTooLarge()
    data = request.get_data(cache=True)
    if len(data) > MAX_JSON_BYTES:
        raise RequestEntityTooLarge()
    if not data.strip():
        return
    try:
        document = loads_bounded(data.decode("utf-8-sig"), MAX_JSON_DEPTH)
    except (ValueError, RecursionError) as error:
        raise BadInput("body", _("is not valid JSON (%(reason)s)", reason=str(error)[:200])) from None
    if found := json_text_problem(document):
        raise BadInput(*found)


def check_request_input() -> None:
    """Refuse the request (``BadInput``, 400) at the first input that breaks the rules."""
    if problem := text_problem(request.path):
        raise BadInput("path", problem)
    _check_pairs(request.args.items(multi=True), MAX_ARG_CHARS, "query")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.is_json:
        _check_json()
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        _check_pairs(request.form.items(multi=True), MAX_FIELD_CHARS, "form")
        _check_files()


def register_input_guard(app: Flask) -> None:
    """Run ``check_request_input`` before every other request hook (CSRF protection included)."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_request_input)
    install_column_guard()
