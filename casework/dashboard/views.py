"""The dashboard page and its XLSX export; filters as the search page takes them (region,
date_from, date_to), so that every figure links to the list it counts."""
from __future__ import annotations

from flask import Blueprint, Response, abort, json, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.access.scope import has_case_role
from casework.dashboard.page import dashboard_page
from casework.dashboard.workbook import tables_to_xlsx
from casework.db_types import utcnow
from casework.read_only import read_only
from casework.referrals.export import content_disposition
from casework.referrals.queries import SearchFilters
from casework.web.i18n import local_time

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters() -> SearchFilters:
    """Only the province and period of the search filters apply to the dashboard."""
    args = {name: request.args.get(name, "") for name in ("region", "date_from", "date_to")}
    return SearchFilters.from_args(args)


def _page():
    user = current_user._get_current_object()
    if not has_case_role(user):
        abort(403)
    return dashboard_page(user, _filters(), utcnow())


def _render(page):
    charts = page.chart_data()
    chart_json = json.dumps(charts, ensure_ascii=False).replace("<", "\\u003c")
    return render_template("dashboard/index.html", page=page, tables=page.tables(), chart_json=chart_json,
                           chart_keys=set(charts)), \
        400 if page.filters.errors else 200


@bp.get("")
@read_only
@login_required
def index():
    return _render(_page())


@bp.get("/export.xlsx")
@read_only
@login_required
def export():
    page = _page()
    if page.filters.errors:
        return _render(page)
    response = Response(tables_to_xlsx(page.tables()), mimetype=XLSX)
    response.headers["Content-Disposition"] = content_disposition(
        page.user.agency.name, local_time(utcnow()), "xlsx", _("Dashboard"), "dashboard")
    return response
