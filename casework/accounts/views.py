"""Login in steps (password, second factor, forced change, enrolment), logout, language, and the
user's own account page: sessions, password, authenticator."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from casework.accounts import login_steps, totp
from casework.accounts.forms import CodeForm, EnrolForm, LoginForm, PasswordChangeForm
from casework.accounts.models import User, UserSession
from casework.accounts.services import (
    LoginRefused, authenticate, change_password, check_second_factor, complete_login, end_session,
    enrol_second_factor,
)
from casework.accounts.sessions import end_all_sessions, end_session_row, open_sessions, token_hash
from casework.accounts.step_up import mark_second_factor, require_recent_second_factor
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.read_only import read_only
from casework.unit_of_work import transactional

bp = Blueprint("accounts", __name__)

ENROL_SECRET = "enrol_secret"


def _safe_next(target: str | None, user: User | None = None) -> str:
    """Where a login leads: the page asked for, else home (administrators go on from there to their own
    first page, casework/admin/menu.py)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


def _source() -> str:
    return request.remote_addr or "unknown"


def _advance(user: User):
    """Send the browser to the next login step, or log in when every step is passed."""
    pending = login_steps.state()
    step = login_steps.next_step(user, pending)
    if step is not None:
        return redirect(url_for(step, next=request.args.get("next")))
    factor = pending.get("factor")
    complete_login(user, _source(), request.user_agent.string, factor)
    session.clear()
    login_user(user)
    session["last_seen"] = time.time()
    if factor:
        mark_second_factor()
    return redirect(_safe_next(request.args.get("next"), user))


def _pending_or_restart():
    user = login_steps.pending_user()
    if user is None:
        flash(_("Please log in again."), "info")
    return user


@bp.route("/login", methods=["GET", "POST"])
@transactional
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, _source())
        except LoginRefused:
            error = _("Invalid username or password, or the account is locked.")
        else:
            login_steps.begin(user)
            return _advance(user)
    status = 401 if error else (400 if form.errors else 200)
    return render_template("accounts/login.html", form=form, error=error), status


@bp.route("/login/code", methods=["GET", "POST"])
@transactional
def login_code():
    user = _pending_or_restart()
    if user is None:
        return redirect(url_for("accounts.login"))
    if login_steps.next_step(user, login_steps.state()) != "accounts.login_code":
        return _advance(user)
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            factor = check_second_factor(user, form.code.data, _source())
        except LoginRefused:
            error = _("The code is wrong or was already used. Wait for the next code and try again.")
        else:
            login_steps.update(factor=factor)
            return _advance(user)
    status = 401 if error else (400 if form.errors else 200)
    return render_template("accounts/login_code.html", form=form, error=error), status


@bp.route("/login/password", methods=["GET", "POST"])
@transactional
def login_password():
    user = _pending_or_restart()
    if user is None:
        return redirect(url_for("accounts.login"))
    if login_steps.next_step(user, login_steps.state()) != "accounts.login_password":
        return _advance(user)
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            change_password(user, {"current_checked": True, "new_password": form.new_password.data,
                                   "confirm": form.confirm.data}, user)
        except ValidationFailed as error:
            _field_errors(form, error)
        else:
            return _advance(user)
    return render_template("accounts/password.html", form=form, forced=True), 400 if form.errors else 200


@bp.route("/login/enrol", methods=["GET", "POST"])
@transactional
def login_enrol():
    user = _pending_or_restart()
    if user is None:
        return redirect(url_for("accounts.login"))
    if login_steps.next_step(user, login_steps.state()) != "accounts.login_enrol":
        return _advance(user)
    return _enrol(user, continue_url=url_for("accounts.login_continue", next=request.args.get("next")),
                  on_success=lambda: login_steps.update(factor="enrolment"))


@bp.get("/login/continue")
@transactional
def login_continue():
    user = _pending_or_restart()
    if user is None:
        return redirect(url_for("accounts.login"))
    return _advance(user)


def _enrol(user: User, continue_url: str, on_success):
    """The enrolment page: a QR code of a new secret, confirmed by the first code; then the recovery codes."""
    secret = session.get(ENROL_SECRET) or totp.new_secret()
    session[ENROL_SECRET] = secret
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = enrol_second_factor(user, secret, form.code.data)
        except ValidationFailed as error:
            _field_errors(form, error)
        else:
            session.pop(ENROL_SECRET, None)
            on_success()
            return render_template("accounts/recovery_codes.html", codes=codes, continue_url=continue_url)
    uri = totp.provisioning_uri(secret, user.username)
    return render_template("accounts/enrol.html", form=form, secret=secret, qr=totp.qr_data_uri(uri)), (
        400 if form.errors else 200)


def _field_errors(form, error: ValidationFailed) -> None:
    for name, message in (error.errors.items() if isinstance(error.errors, dict) else []):
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]


@bp.post("/logout")
@login_required
@transactional
def logout():
    user = db.session.merge(current_user._get_current_object())
    end_session(user, current_user.current_session_token)
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.post("/language/<code>")
@transactional
def set_language(code: str):
    if code in ("zh", "en"):
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/account")
@login_required
@read_only
def account():
    user = current_user._get_current_object()
    current_hash = token_hash(user.current_session_token or "")
    return render_template("accounts/account.html", sessions=open_sessions(user), current_hash=current_hash,
                           recovery_left=totp.recovery_codes_left(user) if user.totp_enrolled else 0)


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
@transactional
def end_own_session(session_id: int):
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    end_session_row(row, "ended by user", current_user)
    flash(_("The session was ended."), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/sessions/end-others")
@login_required
@transactional
def end_other_sessions():
    ended = end_all_sessions(current_user, "ended by user", current_user,
                             keep_token=current_user.current_session_token)
    flash(_("%(n)d other sessions were ended.", n=ended), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@transactional
def account_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, {"current_password": form.current_password.data,
                                           "new_password": form.new_password.data, "confirm": form.confirm.data},
                            current_user, keep_token=current_user.current_session_token)
        except ValidationFailed as error:
            _field_errors(form, error)
        else:
            flash(_("Your password was changed; your other sessions were ended."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/password.html", form=form, forced=False), 400 if form.errors else 200


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
@transactional
def account_enrol():
    if current_user.totp_enrolled:
        return redirect(url_for("accounts.account"))
    return _enrol(current_user, continue_url=url_for("accounts.account"), on_success=mark_second_factor)


@bp.post("/account/recovery-codes")
@login_required
@require_recent_second_factor
@transactional
def new_recovery_codes():
    if not current_user.totp_enrolled:
        abort(404)
    codes = totp.new_recovery_codes(current_user)
    return render_template("accounts/recovery_codes.html", codes=codes, continue_url=url_for("accounts.account"))


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
@transactional
def confirm():
    """The step-up re-check: a fresh code before a sensitive action."""
    next_url = _safe_next(request.args.get("next"), current_user)
    if not current_user.totp_enrolled:
        return redirect(next_url)
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            check_second_factor(current_user, form.code.data, _source())
        except LoginRefused:
            error = _("The code is wrong or was already used. Wait for the next code and try again.")
        else:
            mark_second_factor()
            return redirect(next_url)
    status = 401 if error else (400 if form.errors else 200)
    return render_template("accounts/login_code.html", form=form, error=error, confirming=True), status
