"""The rendered inbox list of a desk, shared by the officers of that desk until its work changes.

Every officer of one agency (every assessor of one education department) sees the same inbox
list: the rows and counts depend only on the desk's agencies, the tab, the page and the language.
So the list is rendered once and kept, per worker process, under a key made of

- the desk's agency ids (its scope, ``desk_agency_query``), the tab, the page and the locale;
- each of those agencies' desk token (``casework.inbox.tokens``), renewed with every committed
  change the desk lists, so the change is seen by the next request of every officer;
- the current minute, because "due soon", "overdue" and the overdue marks move with the clock
  (they are at most one minute old).
"""
from __future__ import annotations

import functools

from flask import Flask, current_app
from sqlalchemy import select

from casework.access.scope import desk_agency_query
from casework.extensions import db
from casework.inbox.models import DeskToken
from casework.web.fragments import FragmentCache, current_minute

EXTENSION = "casework_desk_cache"


def init_desk_cache(app: Flask) -> None:
    app.extensions[EXTENSION] = FragmentCache(int(app.config.get("DESK_CACHE_SIZE", 0)))


def desk_cache() -> FragmentCache:
    return current_app.extensions[EXTENSION]


def desk_key(user, *parts) -> tuple:
    """The cache key of a user's desk list: the desk's agencies and their tokens (one query),
    the minute, and ``parts``."""
    agencies, params = desk_agency_query(user)
    rows = db.session.connection().execute(_with_tokens(agencies), params).all() if agencies is not None else []
    return (tuple(r.id for r in rows), tuple(r.token for r in rows), current_minute(), *parts)


@functools.cache
def _with_tokens(agencies):
    listed = agencies.subquery()
    return (select(listed.c.id, DeskToken.token)
            .outerjoin_from(listed, DeskToken, DeskToken.agency_id == listed.c.id).order_by(listed.c.id))
