"""Claim, assign or release a referral or an assignment from the referral page."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.db_types import database_id
from casework.errors import DomainError, ValidationFailed
from casework.ownership.services import assign_item, claim_item, release_item
from casework.access.loaders import get_assignment_or_404, get_referral_or_404
from casework.unit_of_work import transactional

bp = Blueprint("ownership", __name__)

LOADERS = {"referral": get_referral_or_404, "assignment": get_assignment_or_404}
ACTIONS = {"claim": claim_item, "assign": assign_item, "release": release_item}
DONE = {"claim": "You are now its owner.", "assign": "The owner is assigned.", "release": "It is back with the desk."}


@transactional
def _change(kind: str, object_id: int, action: str) -> int:
    item = LOADERS[kind](object_id, current_user)
    ACTIONS[action](item, {"owner": database_id(request.form.get("owner"))}, current_user)
    return item.id if kind == "referral" else item.referral_id


def _owner_route(kind: str, object_id: int):
    action = request.form.get("action", "")
    item = LOADERS[kind](object_id, current_user)
    referral_id = item.id if kind == "referral" else item.referral_id
    if action not in ACTIONS:
        flash(_("Choose claim, assign or release."), "error")
        return redirect(url_for("referrals.show", referral_id=referral_id)), 400
    try:
        _change(kind, object_id, action)
    except ValidationFailed as error:
        flash("; ".join(error.errors.values()) if isinstance(error.errors, dict) else error.message, "error")
        return redirect(url_for("referrals.show", referral_id=referral_id))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("referrals.show", referral_id=referral_id))
    flash(_(DONE[action]), "success")
    return redirect(url_for("referrals.show", referral_id=referral_id))


@bp.post("/referrals/<int:object_id>/owner")
@login_required
def referral_owner(object_id: int):
    return _owner_route("referral", object_id)


@bp.post("/assignments/<int:object_id>/owner")
@login_required
def assignment_owner(object_id: int):
    return _owner_route("assignment", object_id)
