"""Workflow actions from the referral page: one generic route per subject fires any trigger.

The form for each trigger is built from its FieldSpecs; the posted form goes to the workflow
engine as it is (it reads the composite field encodings), with the version the user saw.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.errors import ConflictError, DomainError, NotAllowed, ValidationFailed
from casework.access.loaders import get_assignment_or_404, get_referral_or_404
from casework.referrals.views import render_referral
from casework.unit_of_work import transactional
from casework.workflow.engine import available_triggers, fire, moved_on_step

bp = Blueprint("actions", __name__)

LOADERS = {"referral": get_referral_or_404, "assignment": get_assignment_or_404}


def _referral_id(kind: str, obj) -> int:
    return obj.id if kind == "referral" else obj.referral_id


@transactional
def _apply(kind: str, object_id: int, trigger: str) -> tuple[int, str]:
    obj = LOADERS[kind](object_id, current_user)
    info = next((t for t in available_triggers(obj, current_user) if t.name == trigger), None)
    if info is None:
        raise NotAllowed(moved_on_step(obj, trigger) or _("This step is not available to you now."),
                         audit=refused_step(obj, trigger))
    fire(obj, trigger, request.form, current_user, expected_version=request.form.get("version", type=int))
    return _referral_id(kind, obj), str(info.label)


def refused_step(obj, trigger: str) -> dict:
    """The audit record of a step refused before the engine ran it, as the engine records its own
    refusals (``workflow.engine.fire``): event, actor, object, trigger and state."""
    return {"event": f"{obj.audit_type}.{trigger}"[:64], "actor": current_user._get_current_object(), "obj": obj,
            "trigger": trigger[:64], "from_state": obj.state}


def _fire(kind: str, object_id: int, trigger: str):
    try:
        referral_id, label = _apply(kind, object_id, trigger)
    except ValidationFailed as error:
        obj = LOADERS[kind](object_id, current_user)
        referral = obj if kind == "referral" else get_referral_or_404(obj.referral_id, current_user)
        errors = error.errors if isinstance(error.errors, dict) else {"_form": "; ".join(error.errors)}
        if error.message and error.message != "invalid input" and "_form" not in errors:
            errors = {**errors, "_form": error.message}
        flash(_("Please correct the marked fields."), "error")
        return render_referral(referral, form_errors=errors, failed=(kind, object_id, trigger), status=400)
    except ConflictError as error:
        return render_template("errors/error.html", status=409, message=error.message), 409
    except DomainError as error:
        obj = LOADERS[kind](object_id, current_user)
        flash(error.message, "error")
        return redirect(url_for("referrals.show", referral_id=_referral_id(kind, obj)))
    flash(_("Done: %(step)s.", step=label), "success")
    return redirect(url_for("referrals.show", referral_id=referral_id))


@bp.post("/referrals/<int:object_id>/fire/<trigger>")
@login_required
def fire_referral(object_id: int, trigger: str):
    return _fire("referral", object_id, trigger)


@bp.post("/assignments/<int:object_id>/fire/<trigger>")
@login_required
def fire_assignment(object_id: int, trigger: str):
    return _fire("assignment", object_id, trigger)
