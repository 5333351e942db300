"""The frame around every page: the top bar is the same for one user on one page in one language,
so it is rendered once and kept (per worker) under a key naming everything it shows, the user's
unread notifications (the bell) included: the count is read per request (one indexed count) and is
part of the key, so the bell falls as soon as the user has read them.

Its forms carry a CSRF token signed when the bar was rendered; the key holds the session's raw
token and the current minute, so a kept bar belongs to one session and is at most a minute old
(tokens are accepted for ``WTF_CSRF_TIME_LIMIT``, an hour by default)."""
from __future__ import annotations

from flask import Flask, current_app, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from casework.notifications.services import unread_count
from casework.web.fragments import FragmentCache, current_minute

EXTENSION = "casework_topbar_cache"


def topbar():
    """The rendered top bar of the current page."""
    raw_csrf = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    unread = unread_count(current_user) if current_user.is_authenticated else 0
    if raw_csrf is None:  # a new session: rendering the bar creates its token
        return Markup(render_template("_topbar.html", unread=unread))
    cache: FragmentCache = current_app.extensions[EXTENSION]
    return cache.get_or_render((*_topbar_key(raw_csrf), unread), lambda: render_template("_topbar.html", unread=unread))


def _topbar_key(raw_csrf: str) -> tuple:
    user = current_user
    who = ((user.id, user.display_name, user.agency.name, user.agency.kind, tuple(sorted(user.roles)))
           if user.is_authenticated else None)
    page = request.full_path if request.method == "GET" else "/"
    return (who, str(get_locale()), request.endpoint, page, raw_csrf, current_minute())


def init_frame(app: Flask) -> None:
    app.extensions[EXTENSION] = FragmentCache(int(app.config.get("TOPBAR_CACHE_SIZE", 0)))
    app.jinja_env.globals["topbar"] = topbar
