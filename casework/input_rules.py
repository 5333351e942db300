"""The rules every piece of text and JSON that enters Casework must meet, in one place.

Text rule: a value may hold any Unicode character except the C0 control characters other than
TAB, LF and CR (U+0000–U+0008, U+000B, U+000C, U+000E–U+001F) and lone UTF-16 surrogates
(U+D800–U+DFFF). Such text is refused, never stripped: the caller answers 400 naming the field.
JSON rule: at most ``MAX_JSON_DEPTH`` levels of arrays and objects, no NaN or Infinity, and
every key and string meets the text rule.
Column rule: a string never exceeds its column's length and meets the text rule when it is
flushed (``install_column_guard``), whichever way it came in.
"""
from __future__ import annotations

import json
import re
from functools import cache

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from casework.errors import ValidationFailed
from casework.text import _

FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
MAX_JSON_DEPTH = 32
OPENERS, CLOSERS = frozenset("[{"), frozenset("]}")
JSON_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def text_problem(value: str) -> str | None:
    """Why ``value`` breaks the text rule (None when it does not)."""
    found = FORBIDDEN_CHARACTERS.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        return _("holds a lone surrogate (U+%(code)04X), which is not a character", code=code)
    return _("holds the control character U+%(code)04X at position %(position)d; remove it",
             code=code, position=found.start() + 1)


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit`` (one linear pass, no parsing)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for token in JSON_STRUCTURE.finditer(text):
        char = token.group()
        if char in OPENERS:
            depth += 1
            if depth > limit:
                return True
        elif char in CLOSERS:
            depth -= 1
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def loads_bounded(text: str, limit: int | None = MAX_JSON_DEPTH):
    """Parse JSON without NaN or Infinity and no deeper than ``limit`` (None: as deep as the parser
    manages); ``ValueError`` otherwise."""
    if limit is not None and json_depth_exceeds(text, limit):
        raise ValueError(f"nested deeper than {limit} levels")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("nested too deep") from None


def json_text_problem(document, path: str = "body") -> tuple[str, str] | None:
    """The first (path, problem) where a key or string of a parsed JSON document breaks the text rule."""
    stack = [(path, document)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                return where, problem
        elif isinstance(item, dict):
            for key, value in item.items():
                if problem := text_problem(key):
                    return f"{where}.{ascii(key)[1:-1][:64]}", problem
                stack.append((f"{where}.{key[:64]}", value))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", value) for index, value in enumerate(item))
    return None


@cache
def _checked_columns(mapper) -> tuple[tuple[str, int | None], ...]:
    """(attribute, length or None) of every string column of a mapped class."""
    found = []
    for attr in mapper.column_attrs:
        column_type = attr.columns[0].type
        if isinstance(column_type, String):
            found.append((attr.key, column_type.length))
    return tuple(found)


def column_problems(obj, *, changed_only: bool = False) -> dict[str, str]:
    """Every loaded string attribute of ``obj`` (or only those changed since loading) that is too long
    for its column or breaks the text rule. Unchanged old values never block a change of other columns."""
    state = inspect(obj)
    problems = {}
    for key, length in _checked_columns(state.mapper):
        if changed_only and key not in state.committed_state:
            continue
        value = state.dict.get(key)
        if not isinstance(value, str):
            continue
        if length is not None and len(value) > length:
            problems[key] = _("at most %(n)d characters", n=length)
        elif problem := text_problem(value):
            problems[key] = problem
    return problems


def _check_flushed_columns(session: Session, _context, _instances) -> None:
    problems: dict[str, str] = {}
    for obj in session.new:
        problems.update(column_problems(obj))
    for obj in session.dirty:
        problems.update(column_problems(obj, changed_only=True))
    if problems:
        raise ValidationFailed(problems, _("Nothing was saved: some text does not fit."))


def install_column_guard() -> None:
    """Check every flushed string against its column (idempotent)."""
    if not event.contains(Session, "before_flush", _check_flushed_columns):
        event.listen(Session, "before_flush", _check_flushed_columns)
