"""The page number a list was asked for."""
from __future__ import annotations

from flask import request

LAST_PAGE = 10_000


def page_number() -> int:
    """The ``page`` argument, between 1 and ``LAST_PAGE``."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), LAST_PAGE)
