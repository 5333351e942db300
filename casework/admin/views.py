"""The administrators' pages under /admin: the system administrator's agencies, accounts and seals,
the security administrator's clock rules, the audit administrator's chain verification (the trail
itself is casework/audit/views.py). Each page belongs to one role; anyone else gets 404."""
from __future__ import annotations

import click
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from casework.accounts.models import User
from casework.accounts.services import reset_password
from casework.accounts.step_up import has_recent_second_factor, step_up_answer
from casework.admin import forms, pages
from casework.admin.guard import role_required
from casework.admin.denials import report_pending_denials
from casework.admin.menu import admin_menu, landing_endpoint
from casework.admin.services import (change_roles, create_account, create_agency, deactivate_user,
                                     reactivate_user, update_agency, upload_seal, verify_audit_chain)
from casework.agencies.models import Agency
from casework.agencies.seals import seal_for
from casework.audit import trail
from casework.cli_support import check_database
from casework.errors import DomainError, ValidationFailed
from casework.extensions import db
from casework.read_only import read_only
from casework.text import language
from casework.unit_of_work import unit_of_work
from casework.workflow.rule_overrides import override_clock_rule, reset_clock_rule
from workflows import declarations

bp = Blueprint("admin", __name__, url_prefix="/admin")

SYSTEM, SECURITY, AUDIT = "system_admin", "security_admin", "audit_admin"


@bp.app_template_global("admin_menu")
def admin_menu_links() -> list:
    return admin_menu(current_user)


@bp.before_app_request
def admins_land_on_their_page():
    """Administrators work no cases: the inbox (home page, and where sign-in leads) sends them to
    their own main page."""
    if request.endpoint == "inbox.index" and current_user.is_authenticated:
        endpoint = landing_endpoint(current_user)
        if endpoint:
            return redirect(url_for(endpoint))
    return None


@bp.get("/")
def home():
    endpoint = landing_endpoint(current_user) if current_user.is_authenticated else None
    if endpoint is None:
        abort(404)
    return redirect(url_for(endpoint))


def _errors(error: ValidationFailed) -> dict:
    return error.errors if isinstance(error.errors, dict) else {"_form": "; ".join(error.errors)}


def _form_errors(form, errors: dict) -> None:
    """Show a service's errors at the form's fields (the rest at the top of the form)."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.form_errors.append(message)


def _get_or_404(model, ident: int):
    found = db.session.get(model, ident)
    if found is None:
        abort(404)
    return found


# Agencies ----------------------------------------------------------------------------------------

@bp.get("/agencies")
@read_only
@role_required(SYSTEM)
def agencies():
    return render_template("admin/agencies.html", rows=pages.agency_rows())


def _agency_form(form, exclude: int | None = None):
    form.parent_id.choices = pages.agency_choices(blank=_("(none)"), exclude=exclude)
    if isinstance(form, forms.AgencyCreateForm):
        form.kind.choices = pages.kind_choices()
        form.level.choices = pages.level_choices()
    return form


@bp.route("/agencies/new", methods=["GET", "POST"])
@role_required(SYSTEM)
def new_agency():
    form = _agency_form(forms.AgencyCreateForm())
    if form.validate_on_submit():
        try:
            with unit_of_work():
                agency = create_agency(form.data, current_user._get_current_object())
                agency_id = agency.id
        except ValidationFailed as error:
            _form_errors(_agency_form(form), _errors(error))
        else:
            flash(_("The agency was created."), "success")
            return redirect(url_for("admin.agency", agency_id=agency_id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/agency_new.html", form=form), status


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@role_required(SYSTEM)
def agency(agency_id: int):
    found = _get_or_404(Agency, agency_id)
    form = _agency_form(forms.AgencyEditForm(obj=found), exclude=found.id)
    if request.method == "GET":
        form.parent_id.data = found.parent_id
    elif form.validate_on_submit():
        try:
            with unit_of_work():
                update_agency(found, form.data, current_user._get_current_object())
        except ValidationFailed as error:
            found = _get_or_404(Agency, agency_id)
            _form_errors(_agency_form(form, exclude=found.id), _errors(error))
        else:
            flash(_("The agency was saved."), "success")
            return redirect(url_for("admin.agency", agency_id=agency_id))
    return _agency_page(found, form, forms.SealForm(), 400 if request.method == "POST" else 200)


def _agency_page(found: Agency, form, seal_form, status: int):
    return render_template("admin/agency.html", agency=found, form=form, seal_form=seal_form,
                           seal=pages.seal_info(found), kind=pages.kind_label(found.kind),
                           level=pages.level_label(found.level)), status


@bp.post("/agencies/<int:agency_id>/seal")
@role_required(SYSTEM)
def agency_seal(agency_id: int):
    found = _get_or_404(Agency, agency_id)
    seal_form = forms.SealForm()
    if seal_form.validate_on_submit():
        upload = seal_form.image.data
        image = upload.read(forms.SEAL_READ_LIMIT) if upload else b""
        try:
            with unit_of_work():
                upload_seal(found, {"image": image}, current_user._get_current_object())
        except ValidationFailed as error:
            found = _get_or_404(Agency, agency_id)
            _form_errors(seal_form, _errors(error))
        else:
            flash(_("The seal image was stored."), "success")
            return redirect(url_for("admin.agency", agency_id=agency_id))
    form = _agency_form(forms.AgencyEditForm(obj=found), exclude=found.id)
    form.parent_id.data = found.parent_id
    return _agency_page(found, form, seal_form, 400)


@bp.get("/agencies/<int:agency_id>/seal.png")
@read_only
@role_required(SYSTEM)
def agency_seal_image(agency_id: int):
    seal = seal_for(_get_or_404(Agency, agency_id))
    if seal is None:
        abort(404)
    image, digest = seal
    return Response(image, mimetype="image/png", headers={"ETag": digest, "Cache-Control": "no-store",
                                                          "Content-Disposition": "inline; filename=seal.png"})


# Accounts ----------------------------------------------------------------------------------------

@bp.get("/users")
@read_only
@role_required(SYSTEM)
def users():
    form = forms.UserFilterForm(request.args)
    form.agency.choices = pages.agency_choices(blank=_("Any"))
    form.role.choices = pages.role_filter_choices()
    form.status.choices = [(value, str(label)) for value, label in pages.STATUS_CHOICES]
    filters = {"q": form.q.data if form.q.validate(form) else "", "agency": form.agency.data,
               "role": form.role.data, "status": form.status.data}
    page_number = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    listing = pages.user_list(current_user, filters, page_number)
    args = {k: v for k, v in request.args.items() if k in ("q", "agency", "role", "status") and v}
    return render_template("admin/users.html", form=form, listing=listing, args=args)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(SYSTEM)
def new_user():
    form = _user_form(forms.UserCreateForm())
    if form.validate_on_submit():
        try:
            with unit_of_work():
                user = create_account(form.data, current_user._get_current_object())
                user_id = user.id
        except ValidationFailed as error:
            _form_errors(_user_form(form), _errors(error))
        else:
            flash(_("The account was created."), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return render_template("admin/user_new.html", form=form), 400 if request.method == "POST" else 200


def _user_form(form):
    form.roles.choices = pages.grantable_role_choices()
    if hasattr(form, "agency_id"):
        form.agency_id.choices = pages.agency_choices(blank="")
    return form


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(SYSTEM)
def user(user_id: int):
    found = _get_or_404(User, user_id)
    if request.method == "POST" and not has_recent_second_factor(current_user):
        return step_up_answer()  # changing roles needs a second factor given in the last minutes
    form = _user_form(forms.RolesForm())
    if request.method == "GET":
        form.roles.data = sorted(found.roles)
    elif form.validate_on_submit():
        try:
            with unit_of_work():
                change_roles(found, form.data, current_user._get_current_object())
        except ValidationFailed as error:
            found = _get_or_404(User, user_id)
            _form_errors(form, _errors(error))
        except DomainError as error:
            found = _get_or_404(User, user_id)
            form.form_errors.append(error.message)
        else:
            flash(_("The roles were saved."), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return _user_page(found, form, 400 if request.method == "POST" else 200)


def _user_page(found: User, form, status: int):
    return render_template("admin/user.html", account=pages.user_row(current_user, found), form=form,
                           deactivate_form=forms.DeactivateForm(), temporary_password=None), status


@bp.post("/users/<int:user_id>/<any(deactivate, reactivate):action>")
@role_required(SYSTEM)
def user_status(user_id: int, action: str):
    found = _get_or_404(User, user_id)
    form = forms.DeactivateForm()
    if not form.validate_on_submit():
        return _user_page(found, _user_form(forms.RolesForm(data={"roles": sorted(found.roles)})), 400)
    service = deactivate_user if action == "deactivate" else reactivate_user
    try:
        with unit_of_work():
            service(found, form.data, current_user._get_current_object())
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The account was deactivated.") if action == "deactivate" else _("The account was reactivated."),
              "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/reset-password")
@role_required(SYSTEM)
def user_password(user_id: int):
    """A one-time password shown once to the system administrator; the user must change it at sign-in."""
    found = _get_or_404(User, user_id)
    form = forms.DeactivateForm()
    if not form.validate_on_submit():
        return _user_page(found, _user_form(forms.RolesForm(data={"roles": sorted(found.roles)})), 400)
    try:
        with unit_of_work():
            password = reset_password(found, form.data, current_user._get_current_object())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.user", user_id=user_id))
    return render_template("admin/user.html", account=pages.user_row(current_user, found),
                           form=_user_form(forms.RolesForm(data={"roles": sorted(found.roles)})),
                           deactivate_form=forms.DeactivateForm(), temporary_password=password), 200


# Clock rules (security administrator) ------------------------------------------------------------

@bp.get("/clocks")
@read_only
@role_required(SECURITY)
def clock_rules():
    return _clock_page({}, None, 200)


def _clock_page(errors: dict, failed: str | None, status: int):
    rows = pages.clock_rule_rows(language())
    forms_by_rule = {}
    for row in rows:
        form = forms.ClockRuleForm(prefix=row.name, formdata=request.form if row.name == failed else None,
                                   data={"unit": row.unit, "amount": row.amount})
        form.unit.choices = pages.unit_choices()
        forms_by_rule[row.name] = form
    return render_template("admin/clocks.html", rows=rows, forms=forms_by_rule, errors=errors,
                           failed=failed), status


@bp.post("/clocks/<rule>")
@role_required(SECURITY)
def clock_rule(rule: str):
    if rule not in declarations().clocks:
        abort(404)
    form = forms.ClockRuleForm(prefix=rule)
    form.unit.choices = pages.unit_choices()
    if not form.validate_on_submit():
        return _clock_page({key: "; ".join(map(str, messages)) for key, messages in form.errors.items()}, rule, 400)
    try:
        with unit_of_work():
            override_clock_rule(rule, {"unit": form.unit.data, "amount": form.amount.data},
                                current_user._get_current_object())
    except ValidationFailed as error:
        return _clock_page(_errors(error), rule, 400)
    flash(_("The time limit was changed; clocks started from now on follow it."), "success")
    return redirect(url_for("admin.clock_rules"))


@bp.post("/clocks/<rule>/reset")
@role_required(SECURITY)
def reset_rule(rule: str):
    if rule not in declarations().clocks:
        abort(404)
    with unit_of_work():
        reset_clock_rule(rule, {}, current_user._get_current_object())
    flash(_("The declared time limit applies again."), "success")
    return redirect(url_for("admin.clock_rules"))


# Audit administrator -----------------------------------------------------------------------------

@bp.post("/audit/verify")
@role_required(AUDIT)
def verify_audit_chain_now():
    with unit_of_work():
        report = verify_audit_chain({}, current_user._get_current_object())
        verification = {"ok": report.ok, "checked": report.checked, "reason": report.reason,
                        "broken_seq": report.broken_seq}
    filters = trail.TrailFilters()
    return render_template("audit/index.html", page=trail.trail_page(filters, None), filters=filters,
                           verification=verification)


@bp.cli.command("report-denials")
def report_denials_command() -> None:
    """Write the access denials that quiet windows left unreported (run it with the sweep)."""
    check_database(current_app._get_current_object())
    with unit_of_work():
        written = report_pending_denials()
    click.echo(f"{written} access-denial events written")
