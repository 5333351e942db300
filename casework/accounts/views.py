"""Login, logout and language choice."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from casework.accounts.forms import LoginForm
from casework.accounts.services import LoginRefused, authenticate, end_session
from casework.extensions import db
from casework.unit_of_work import transactional

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
@transactional
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data)
        except LoginRefused:
            error = _("Invalid username or password, or the account is locked.")
        else:
            session.clear()
            login_user(user)
            session["last_seen"] = time.time()
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else (400 if form.errors else 200)
    return render_template("accounts/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
@transactional
def logout():
    end_session(db.session.merge(current_user._get_current_object()))
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
