"""Target pages: the registry entry with history and metrics, manual checks, bulk import."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from casework.db_types import utcnow

from casework.errors import ValidationFailed
from casework.evidence.models import Evidence
from casework.evidence.services import attach_evidence
from casework.extensions import db
from casework.read_only import read_only
from casework.access.loaders import get_referral_or_404
from casework.access.rules import may_import_targets
from casework.targets import metrics
from casework.targets.bulk import COLUMNS, ImportRejected, import_targets
from casework.targets.models import TARGET_STATUSES, Target, TargetStatusCheck
from casework.targets.services import known_target_summary, latest_disposal, visible_referrals_of
from casework.targets.status import record_status_check
from casework.unit_of_work import unit_of_work

bp = Blueprint("targets", __name__)
HISTORY_LIMIT = 100
METHOD_LABELS = {"http": _l("HTTP(S) check"), "manual": _l("Manual check")}
CHECK_STATUS_LABELS = {"online": _l("Online"), "offline": _l("Offline"), "unknown": _l("Undetermined")}


@bp.app_template_global()
def check_status_label(status: str) -> str:
    """A check's finding (``unknown`` means the check could not decide)."""
    return str(CHECK_STATUS_LABELS.get(status, status))


@bp.app_template_global()
def check_method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


@bp.app_template_global()
def duration_label(value) -> str:
    return metrics.format_duration(value)


def get_target_or_404(target_id: int, user) -> tuple[Target, list]:
    """The target and its referrals visible to ``user``; 404 unless at least one is visible."""
    target = db.session.get(Target, target_id)
    referrals = visible_referrals_of(target, user) if target is not None else []
    if not referrals:
        abort(404)
    return target, referrals


def _page(target: Target, referrals: list, *, form=None, errors=None, status: int = 200):
    history = db.session.scalars(
        select(TargetStatusCheck).where(TargetStatusCheck.target_id == target.id)
        .order_by(TargetStatusCheck.checked_at.desc(), TargetStatusCheck.id.desc()).limit(HISTORY_LIMIT)
    ).all()
    rows = metrics.referral_metrics(*referrals)
    agencies = {row.agency_id: row.agency_name for row in rows}
    summaries = metrics.agency_metrics(list(agencies))
    evidence = db.session.scalars(
        select(Evidence).where(Evidence.target_id == target.id,
                               Evidence.referral_id.in_([r.id for r in referrals])).order_by(Evidence.id)
    ).all()
    total = len(target.referral_links)
    return render_template(
        "targets/show.html", target=target, referrals=referrals, hidden_count=total - len(referrals),
        history=history, metric_rows=rows, statuses=TARGET_STATUSES, evidence=evidence,
        agency_summaries={name: summaries[agency_id] for agency_id, name in agencies.items()},
        time_to_offline=metrics.target_time_to_offline(target, referrals),
        latest_disposal=latest_disposal(target.id, current_user),
        form=form or {}, errors=errors or {},
    ), status


@bp.get("/targets/<int:target_id>")
@read_only
@login_required
def show(target_id: int):
    target, referrals = get_target_or_404(target_id, current_user)
    return _page(target, referrals)


@bp.post("/targets/<int:target_id>/checks")
@login_required
def manual_check(target_id: int):
    target, referrals = get_target_or_404(target_id, current_user)
    form = request.form
    upload = request.files.get("file")
    try:
        with unit_of_work():
            evidence = None
            if upload is not None and upload.filename:
                referral = _evidence_referral(form.get("referral_id"), referrals)
                evidence = attach_evidence(referral, upload, {
                    "target_id": target.id, "description": form.get("detail", "")}, current_user)
            record_status_check(target, {"status": form.get("status"), "method": "manual",
                                         "detail": (form.get("detail") or "").strip(),
                                         "evidence": evidence}, current_user)
    except ValidationFailed as error:
        errors = error.errors if isinstance(error.errors, dict) else {"file": "; ".join(error.errors)}
        target, referrals = get_target_or_404(target_id, current_user)
        return _page(target, referrals, form=form, errors=errors, status=400)
    flash(_("The check was recorded."), "success")
    return redirect(url_for("targets.show", target_id=target_id))


def _evidence_referral(referral_id, referrals: list):
    chosen = next((r for r in referrals if str(r.id) == str(referral_id)), None)
    if chosen is None:
        if len(referrals) == 1:
            return referrals[0]
        raise ValidationFailed({"referral_id": _("Choose the referral the evidence belongs to.")})
    return chosen


@bp.route("/referrals/<int:referral_id>/targets/import", methods=["GET", "POST"])
@login_required
def bulk_import(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user)
    if not may_import_targets(current_user, referral):
        abort(403, _("Only the referring department adds targets, while the referral is open."))
    if request.method == "GET":
        return render_template("targets/import.html", referral=referral, columns=COLUMNS, errors=[])
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("targets/import.html", referral=referral, columns=COLUMNS,
                               errors=[_("Choose a CSV or XLSX file.")]), 400
    try:
        with unit_of_work():
            report = import_targets(referral, upload, current_user)
    except ImportRejected as error:
        referral = get_referral_or_404(referral_id, current_user)
        return render_template("targets/import.html", referral=referral, columns=COLUMNS,
                               errors=error.report.errors), 400
    flash(_("%(rows)d rows imported: %(linked)d targets added, %(new)d of them new to the registry.",
            rows=len(report.rows), linked=report.linked, new=report.new_targets), "success")
    return redirect(url_for("referrals.show", referral_id=referral_id))


@bp.get("/targets/metrics")
@read_only
@login_required
def agency_metrics_page():
    days = min(max(request.args.get("days", 365, type=int), 1), 3650)
    since = utcnow() - timedelta(days=days)
    return render_template("targets/metrics.html", days=days,
                           rows=metrics.scoped_agency_metrics(current_user, since))


@bp.get("/targets/import-template.csv")
@login_required
def import_template():
    """An empty import file (UTF-8 with BOM, so spreadsheet programs open it correctly)."""
    example = ["website", "示例网站", "https://www.example.cn/", "", "", "", "", "", "京ICP备12345678号-1", "",
               "", "", "", ""]
    body = "\ufeff" + ",".join(COLUMNS) + "\r\n" + ",".join(example) + "\r\n"
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=targets-template.csv",
                             "X-Content-Type-Options": "nosniff"})


@bp.get("/api/targets/known")
@read_only
@login_required
def api_known():
    summary = known_target_summary(request.args.to_dict(), current_user)
    if summary["errors"]:
        return jsonify({"error": "invalid target", "errors": summary["errors"]}), 400
    disposal = summary["latest_disposal"]
    if disposal and disposal.get("executed_at"):
        disposal["executed_at"] = disposal["executed_at"].isoformat()
    return jsonify(summary)
