"""Comments from the referral page (意见交流): write one, or correct one's own.

A refused comment re-renders the page with the typed text kept and the field's error; a written
one redirects to the page's comments with a message.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.access.loaders import get_referral_or_404
from casework.comments.models import Comment
from casework.comments.services import add_comment
from casework.db_types import database_id
from casework.errors import DomainError, ValidationFailed
from casework.extensions import db
from casework.referrals.views import render_referral
from casework.unit_of_work import transactional

bp = Blueprint("comments", __name__)


def _chosen_assignment(referral):
    """The assignment the comment is about (form key ``assignment``; empty: the whole case)."""
    raw = request.form.get("assignment", "")
    if not raw.strip():
        return None
    chosen = database_id(raw)
    found = next((a for a in referral.assignments if a.id == chosen), None)
    if found is None:
        raise ValidationFailed({"assignment": _("choose an agency's assignment you may read")})
    return found


def _superseded(referral) -> Comment | None:
    """The comment being corrected (form key ``supersedes``), one of this referral's."""
    raw = request.form.get("supersedes", "")
    if not raw.strip():
        return None
    chosen = database_id(raw)
    found = db.session.get(Comment, chosen) if chosen is not None else None
    if found is None or found.referral_id != referral.id:
        raise ValidationFailed({"supersedes": _("only your own comment on this case can be corrected")})
    return found


@transactional
def _write(referral_id: int) -> None:
    referral = get_referral_or_404(referral_id, current_user)
    add_comment(referral, {"body": request.form.get("body", ""), "assignment": _chosen_assignment(referral),
                           "supersedes": _superseded(referral)}, current_user)


@bp.post("/referrals/<int:referral_id>/comments")
@login_required
def write(referral_id: int):
    """Write a comment (or a correction: ``supersedes`` names one's own earlier comment)."""
    try:
        _write(referral_id)
    except ValidationFailed as error:
        referral = get_referral_or_404(referral_id, current_user)
        errors = error.errors if isinstance(error.errors, dict) else {"body": "; ".join(error.errors)}
        flash(_("Please correct the marked fields."), "error")
        correcting = database_id(request.form.get("supersedes"))
        return render_referral(referral, form_errors=errors, failed=("comment", correcting, "write"), status=400)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("referrals.show", referral_id=referral_id))
    flash(_("Your comment is recorded."), "success")
    return redirect(url_for("referrals.show", referral_id=referral_id, _anchor="comments"))
