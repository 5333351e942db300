"""The audit trail, read-only, for the audit administrator alone (others get 404): readable events,
filters, paging and export. The chain verification button posts to ``admin.verify_audit_chain``."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from casework.admin.guard import role_required
from casework.accounts.step_up import require_recent_second_factor
from casework.admin.services import record_trail_export
from casework.audit import trail
from casework.read_only import read_only
from casework.unit_of_work import transactional

bp = Blueprint("audit", __name__)


@bp.app_template_global()
def outcome_labels() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in trail.OUTCOME_LABELS.items()]


@bp.app_template_global()
def export_limit() -> int:
    return trail.EXPORT_LIMIT

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.get("/audit")
@read_only
@role_required("audit_admin")
def index():
    filters = trail.TrailFilters.from_args(request.args)
    page = trail.trail_page(filters, request.args.get("before"))
    return render_template("audit/index.html", page=page, filters=filters, verification=None)


@bp.get("/audit/export.<fmt>")
@role_required("audit_admin")
@require_recent_second_factor
@transactional
def export(fmt: str):
    """The filtered events (newest first, at most ``trail.EXPORT_LIMIT``) as CSV or XLSX; the export
    itself is recorded."""
    if fmt not in EXPORT_TYPES:
        abort(404)
    filters = trail.TrailFilters.from_args(request.args)
    rows = trail.export_events(filters)
    record_trail_export(filters, {"format": fmt, "rows": len(rows)}, current_user._get_current_object())
    body = trail.to_csv(rows) if fmt == "csv" else trail.to_xlsx(rows)
    return Response(body, mimetype=EXPORT_TYPES[fmt], headers={
        "Content-Disposition": f"attachment; filename=audit-trail.{fmt}", "Cache-Control": "no-store"})
