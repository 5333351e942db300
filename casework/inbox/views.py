"""The inbox page (``/``): the desk's tabs with their counts and one page of the chosen tab.

What every officer of the desk sees alike (the shared counts, the lists) is kept per desk
(``casework.inbox.cache``); what is the user's own (the "mine" count and list) is kept per user
under the same desk key, so an owner change, which renews the desk's token, renews both."""
from __future__ import annotations

import functools

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_login import current_user, login_required

from casework.access.rules import may_open_referral
from casework.inbox.cache import desk_cache, desk_key
from casework.inbox.desk import Desk, tabs_of
from casework.inbox.tabs import is_agency_desk
from casework.read_only import read_only
from casework.web.paging import page_number

bp = Blueprint("inbox", __name__)


@bp.get("/")
@read_only
@login_required
def index():
    user = current_user._get_current_object()
    agency_desk = is_agency_desk(user)
    requested, number = request.args.get("tab"), page_number()
    cache, key = desk_cache(), desk_key(user, agency_desk, str(get_locale()))
    desk = functools.cache(lambda: Desk(user, agency_ids=key[0]))  # built only when something is not kept
    counts = {**cache.get_or_compute((*key, "counts"), lambda: desk().shared_counts()),
              "mine": cache.get_or_compute((*key, "mine", user.id), lambda: desk().mine_count())}
    tab = _chosen_tab(requested, counts, agency_desk)
    listing = cache.get_or_render((*key, tab, number, user.id if tab == "mine" else None),
                                  lambda: _render_desk_list(desk(), tab, number, counts[tab]))
    return render_template("inbox/index.html", tabs=tabs_of(counts), tab=tab, listing=listing,
                           may_open_referral=may_open_referral(user) and not agency_desk)


def _chosen_tab(requested: str | None, counts: dict, agency_desk: bool) -> str:
    """The requested tab, else the first non-empty work tab, else "all"."""
    if requested in counts:
        return requested
    work = Desk.work_tabs(agency_desk)
    return next((key for key in work if counts[key]), "all")


def _render_desk_list(desk: Desk, tab: str, number: int, total: int | None) -> str:
    """One page of the tab (the same for every officer of the desk, but for "mine")."""
    page = desk.page(tab, number, total=total)
    return render_template("inbox/_list.html", tab=tab, page=page, agency_desk=desk.agency_desk)
