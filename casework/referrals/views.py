"""Referral pages: search and export, intake, the referral page, and a small JSON API.

Everything is loaded through the scoped loaders (``casework.access``); anything outside the
user's scope is a 404. The inbox is ``casework.inbox``.
"""
from __future__ import annotations

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from casework.access.loaders import get_referral_or_404
from casework.access.rules import may_edit_referral, may_export_referrals, may_open_referral
from casework.access.scope import scoped_referrals
from casework.agencies.models import Agency
from casework.db_types import utcnow
from casework.errors import ConflictError, DomainError, ValidationFailed
from casework.extensions import db
from casework.read_only import read_only
from casework.referrals import export, labels, queries
from casework.referrals.forms import (IntakeInput, kind_choices, platform_choices, referral_form_values,
                                     source_choices, store_choices, target_pages)
from casework.referrals.intake import save_intake
from casework.referrals.models import Referral
from casework.referrals.referral_page import referral_page
from casework.targets.services import known_target_summary
from casework.unit_of_work import transactional
from casework.web.i18n import local_time
from casework.web.paging import page_number

bp = Blueprint("referrals", __name__)


@bp.get("/search")
@read_only
@login_required
def search():
    filters = queries.SearchFilters.from_args(request.args)
    page = None
    if not filters.errors:
        page = queries.search_page(current_user, filters, page_number())
    return render_template("referrals/search.html", filters=filters, page=page, states=_state_choices(),
                           agencies=_agency_choices(), may_export=may_export_referrals(current_user)), \
        400 if filters.errors else 200


@bp.get("/search/export.<fmt>")
@read_only
@login_required
def export_list(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    if not may_export_referrals(current_user):
        abort(403)
    filters = queries.SearchFilters.from_args(request.args)
    if filters.errors:
        return render_template("referrals/search.html", filters=filters, page=None, states=_state_choices(),
                               agencies=_agency_choices(), may_export=True), 400
    referrals = queries.export_rows(current_user, filters)
    if fmt == "csv":
        body, mimetype = export.to_csv(referrals), "text/csv"
    else:
        body = export.to_xlsx(referrals)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = export.content_disposition(
        current_user.agency.name, local_time(utcnow()), fmt)
    return response


def _state_choices() -> list[tuple[str, str]]:
    return labels.all_states()


def _agency_choices() -> list[Agency]:
    return list(db.session.scalars(select(Agency).order_by(Agency.level.desc(), Agency.region_code, Agency.code)))


def _render_intake(values: dict, errors: dict, referral: Referral | None = None, status: int = 200,
                   extra_rows: int = 0):
    rows = list(values.get("targets") or [])
    rows += [{"kind": ""} for _ in range(max(1 - len(rows), 0) + extra_rows)]
    hints = _known_hints(rows)
    return render_template(
        "referrals/intake.html", values=values, rows=rows, errors=errors, referral=referral,
        target_pages=target_pages(referral, values),
        sources=source_choices(), kinds=kind_choices(), hints=hints, unsaved_files=_unsaved_files(),
        select_choices={"platform": platform_choices(), "store": store_choices()},
    ), status


def _unsaved_files() -> list[str]:
    """Names of the files chosen in a posted form that comes back: browsers cannot keep them."""
    if request.method != "POST":
        return []
    return [storage.filename for storage in request.files.getlist("evidence") if storage.filename]


def _known_hints(rows: list[dict]) -> dict[int, object]:
    hints = {}
    for index, row in enumerate(rows):
        if row.get("kind") and any(row.get(k) for k in ("url", "package_name", "account_id", "name")):
            try:
                found = known_target_summary(row, current_user)
            except DomainError:
                continue
            if found:
                hints[index] = found
    return hints


@bp.route("/referrals/new", methods=["GET", "POST"])
@login_required
def new():
    if not may_open_referral(current_user):
        abort(403)
    if request.method == "GET":
        return _render_intake({"source": "", "targets": []}, {})
    return _save_intake(None)


@bp.route("/referrals/<int:referral_id>/edit", methods=["GET", "POST"])
@login_required
def edit(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user)
    if not may_edit_referral(current_user, referral):
        abort(403)
    if request.method == "GET":
        return _render_intake(referral_form_values(referral, request.args.get("targets_from", 0, type=int)), {},
                              referral)
    return _save_intake(referral)


def _save_intake(referral: Referral | None):
    action = request.form.get("action", "save")
    submitting = action == "submit"
    form = IntakeInput(request.form, request.files, submitting=submitting)
    if action == "add_target":
        return _render_intake(form.data, {}, referral, extra_rows=1)
    if not form.valid:
        flash(_("Please correct the marked fields."), "error")
        return _render_intake(form.data, form.errors, referral, status=400)
    try:
        saved = _store_intake(referral.id if referral else None, form, submitting,
                              request.form.get("version", type=int))
    except ValidationFailed as error:
        errors = error.errors if isinstance(error.errors, dict) else {"form": "; ".join(error.errors)}
        return _render_intake(form.data, errors, referral, status=400)
    except ConflictError:
        return render_template("errors/error.html", status=409), 409
    except DomainError as error:
        flash(error.message, "error")
        return _render_intake(form.data, {}, referral, status=error.status)
    flash(_("Referral %(number)s submitted.", number=saved.number) if submitting
          else _("Draft %(number)s saved.", number=saved.number), "success")
    return redirect(url_for("referrals.show", referral_id=saved.id))


@transactional
def _store_intake(referral_id: int | None, form: IntakeInput, submitting: bool, version: int | None):
    referral = get_referral_or_404(referral_id, current_user) if referral_id is not None else None
    return save_intake(referral, form.data, form.uploads, current_user, submitting=submitting,
                       expected_version=version)


@bp.get("/referrals/known-target")
@read_only
@login_required
def known_target():
    row = {k: request.args.get(k, "") for k in ("kind", "name", "url", "package_name", "platform",
                                                 "account_id")}
    hints = _known_hints([row])
    return render_template("referrals/_known_hint.html", hint=hints.get(0))


@bp.get("/referrals/<int:referral_id>")
@read_only
@login_required
def show(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user)
    return render_referral(referral)


def render_referral(referral: Referral, *, form_errors: dict | None = None, failed: tuple | None = None,
                    submitted: dict | None = None, status: int = 200):
    """The referral page; after a refused action, ``failed`` = (object kind, id, trigger)."""
    page = referral_page(referral, current_user)
    return render_template("referrals/show.html", page=page, referral=page.referral,
                           form_errors=form_errors or {}, failed=failed, submitted=submitted or {}), status


@bp.get("/api/referrals")
@read_only
@login_required
def api_list():
    referrals = db.session.scalars(
        scoped_referrals(current_user).order_by(Referral.id).limit(500)
    ).all()
    return jsonify([_summary(r) for r in referrals])


@bp.get("/api/referrals/<int:referral_id>")
@read_only
@login_required
def api_show(referral_id: int):
    return jsonify(_summary(get_referral_or_404(referral_id, current_user)))


def _summary(referral: Referral) -> dict:
    return {
        "id": referral.id,
        "number": referral.number,
        "title": referral.title,
        "state": referral.state,
        "origin_agency": referral.origin_agency.code,
        "version": referral.version,
    }
