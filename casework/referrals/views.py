"""Referral pages: inbox, search and export, intake, the referral page, and a small JSON API.

Everything is loaded through the scope helpers; anything outside the user's scope is a 404.
"""
from __future__ import annotations

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from casework.errors import ConflictError, DomainError, ValidationFailed
from casework.extensions import db
from casework.read_only import read_only
from casework.referrals import export, labels, queries
from casework.referrals.desk import Desk
from casework.referrals.queries import is_agency_desk
from casework.referrals.desk_cache import desk_cache, desk_key
from casework.referrals.forms import (IntakeInput, kind_choices, platform_choices, referral_form_values,
                                     source_choices, store_choices, target_pages)
from casework.referrals.helpers import register_template_helpers
from casework.referrals.models import Referral
from casework.referrals.page import referral_page
from casework.referrals.scoping import get_referral_or_404, scoped_referrals
from casework.targets.services import known_target_summary
from casework.referrals.services import EDITABLE_STATES, attach_files, open_referral, update_referral
from casework.unit_of_work import transactional

bp = Blueprint("referrals", __name__)
register_template_helpers(bp)


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), 10_000)


@bp.get("/")
@read_only
@login_required
def inbox():
    user = current_user._get_current_object()
    agency_desk = is_agency_desk(user)
    requested, page_number = request.args.get("tab"), _page_number()
    key = desk_key(user, agency_desk, requested, page_number, str(get_locale()))
    listing = desk_cache().get_or_render(key, lambda: _render_desk_list(Desk(user), requested, page_number))
    return render_template("referrals/inbox.html", listing=listing, agency_desk=agency_desk)


def _render_desk_list(desk: Desk, requested: str | None, page_number: int) -> str:
    """The tabs with their counts and one page of the chosen tab (the first non-empty work tab
    by default)."""
    tabs = desk.tabs_with_counts()
    counts = {t.key: t.count for t in tabs}
    tab = requested if requested in counts else next((t.key for t in tabs[:3] if t.count), "all")
    page = desk.page(tab, page_number, total=counts[tab])
    return render_template("referrals/_inbox_list.html", tabs=tabs, tab=tab, page=page,
                           agency_desk=desk.agency_desk)


@bp.get("/search")
@read_only
@login_required
def search():
    filters = queries.SearchFilters.from_args(request.args)
    page = None
    if not filters.errors:
        page = queries.search_page(current_user, filters, _page_number())
    return render_template("referrals/search.html", filters=filters, page=page,
                           states=_state_choices()), 400 if filters.errors else 200


@bp.get("/search/export.<fmt>")
@read_only
@login_required
def export_list(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters = queries.SearchFilters.from_args(request.args)
    if filters.errors:
        return render_template("referrals/search.html", filters=filters, page=None,
                               states=_state_choices()), 400
    referrals = queries.export_rows(current_user, filters)
    if fmt == "csv":
        body, mimetype = export.to_csv(referrals), "text/csv"
    else:
        body = export.to_xlsx(referrals)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=referrals.{fmt}"
    return response


def _state_choices() -> list[tuple[str, str]]:
    return labels.all_states()


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
    if not current_user.has_role("intake_officer") or queries.is_agency_desk(current_user):
        abort(403)
    if request.method == "GET":
        return _render_intake({"source": "", "targets": []}, {})
    return _save_intake(None)


@bp.route("/referrals/<int:referral_id>/edit", methods=["GET", "POST"])
@login_required
def edit(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user)
    if referral.state not in EDITABLE_STATES or not current_user.has_role("intake_officer"):
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
    if referral_id is None:
        referral = open_referral(form.data, current_user, submitting=submitting)
    else:
        referral = get_referral_or_404(referral_id, current_user)
        if version is not None and version != referral.version:
            raise ConflictError("changed by someone else, reload")
        update_referral(referral, form.data, current_user, submitting=submitting)
    attach_files(referral, form.uploads, current_user)
    if submitting:
        from casework.workflow.engine import fire

        fire(referral, "submit", {}, current_user)
    return referral


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
    data = referral_page(referral, current_user)
    return render_template("referrals/show.html", page=data, referral=referral,
                           form_errors=form_errors or {}, failed=failed, submitted=submitted or {},
                           editable=referral.state in EDITABLE_STATES
                           and current_user.has_role("intake_officer")
                           and referral.origin_agency_id == current_user.agency_id,
                           evidence_upload_allowed=_may_add_evidence(referral)), status


def _may_add_evidence(referral: Referral) -> bool:
    return (current_user.has_role("intake_officer")
            and referral.origin_agency_id == current_user.agency_id
            and referral.state not in queries.REFERRAL_TERMINAL)


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
