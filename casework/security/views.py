"""The security administrator's pages: policy, locks, second factors and sessions of every user."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.accounts.forms import clean_text
from casework.accounts.lockout import unlock_user
from casework.accounts.models import User, UserSession
from casework.accounts.policy import BOUNDS, TWO_FACTOR_SCOPES, update_policy
from casework.accounts.roles import Role
from casework.accounts.services import reset_second_factor
from casework.accounts.sessions import end_all_sessions, end_session_row
from casework.accounts.step_up import require_recent_second_factor
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.read_only import read_only
from casework.security import page
from casework.unit_of_work import transactional

bp = Blueprint("security", __name__, url_prefix="/security")


@bp.before_request
@login_required
def only_the_security_administrator():
    if not current_user.has_role(Role.SECURITY_ADMIN):
        abort(403)


def _reason() -> dict:
    return {"reason": clean_text(request.form.get("reason"), 200)}


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/")
@read_only
def index():
    return render_template("security/index.html", bounds=BOUNDS, scopes=TWO_FACTOR_SCOPES, errors={},
                           **page.overview())


@bp.post("/policy")
@require_recent_second_factor
@transactional
def save_policy():
    try:
        update_policy(request.form.to_dict(), current_user)
    except ValidationFailed as error:
        flash(_("Please correct the marked fields."), "error")
        return render_template("security/index.html", bounds=BOUNDS, scopes=TWO_FACTOR_SCOPES,
                               errors=error.errors, **page.overview()), 400
    flash(_("The security policy was saved."), "success")
    return redirect(url_for("security.index"))


@bp.get("/users")
@read_only
def users():
    query = clean_text(request.args.get("q"), 64).strip()
    page_number = max(0, min(request.args.get("page", 0, type=int) or 0, 10_000))
    rows, more = page.user_rows(query, page_number)
    return render_template("security/users.html", rows=rows, more=more, query=query, page_number=page_number)


@bp.get("/users/<int:user_id>")
@read_only
def user(user_id: int):
    return render_template("security/user.html", **page.user_detail(_user_or_404(user_id)))


@bp.post("/users/<int:user_id>/unlock")
@transactional
def unlock(user_id: int):
    lifted = unlock_user(_user_or_404(user_id), _reason(), current_user)
    flash(_("Locks lifted: %(n)d.", n=lifted), "success")
    return redirect(url_for("security.user", user_id=user_id))


@bp.post("/users/<int:user_id>/reset-two-factor")
@require_recent_second_factor
@transactional
def reset_two_factor(user_id: int):
    reset_second_factor(_user_or_404(user_id), _reason(), current_user)
    flash(_("The second factor was removed; the user sets up a new one at the next login."), "success")
    return redirect(url_for("security.user", user_id=user_id))


@bp.post("/users/<int:user_id>/sessions/end")
@transactional
def end_sessions(user_id: int):
    ended = end_all_sessions(_user_or_404(user_id), "ended by security administrator", current_user)
    flash(_("%(n)d sessions were ended.", n=ended), "success")
    return redirect(url_for("security.user", user_id=user_id))


@bp.post("/users/<int:user_id>/sessions/<int:session_id>/end")
@transactional
def end_one_session(user_id: int, session_id: int):
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user_id:
        abort(404)
    end_session_row(row, "ended by security administrator", current_user)
    flash(_("The session was ended."), "success")
    return redirect(url_for("security.user", user_id=user_id))
