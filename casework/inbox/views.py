"""The inbox page (``/``): the desk's tabs with their counts and one page of the chosen tab."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_login import current_user, login_required

from casework.access.rules import may_open_referral
from casework.inbox.cache import desk_cache, desk_key
from casework.inbox.desk import Desk
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
    key = desk_key(user, agency_desk, requested, number, str(get_locale()))
    listing = desk_cache().get_or_render(key, lambda: _render_desk_list(Desk(user), requested, number))
    return render_template("inbox/index.html", listing=listing,
                           may_open_referral=may_open_referral(user) and not agency_desk)


def _render_desk_list(desk: Desk, requested: str | None, number: int) -> str:
    """The tabs with their counts and one page of the chosen tab (the first non-empty work tab
    by default)."""
    tabs = desk.tabs_with_counts()
    counts = {t.key: t.count for t in tabs}
    tab = requested if requested in counts else next((t.key for t in tabs[:3] if t.count), "all")
    page = desk.page(tab, number, total=counts[tab])
    return render_template("inbox/_list.html", tabs=tabs, tab=tab, page=page, agency_desk=desk.agency_desk)
