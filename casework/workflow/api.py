"""JSON API for the workflow: what may be fired now, and firing it.

Session (cookie) authentication, so CSRF stays on: send the token in the ``X-CSRFToken`` header.
Body of a fire: ``{"data": {...form keys...}, "version": <int>}`` (the keys may also sit at the top level).
"""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from casework.errors import DomainError, ValidationFailed
from casework.access.loaders import get_assignment_or_404, get_referral_or_404
from casework.calendar.store import provisional_due
from casework.unit_of_work import transactional
from casework.workflow.engine import available_triggers, fire, lifecycle_for
from casework.workflow.messages import _

bp = Blueprint("workflow_api", __name__, url_prefix="/api")

LOADERS = {"referrals": get_referral_or_404, "assignments": get_assignment_or_404}
# The audit records a refused attempt as "<object type>.<trigger>" in a column of 64 characters.
MAX_TRIGGER_CHARS = 48


def _triggers_answer(obj):
    return jsonify({
        "id": obj.id, "state": obj.state, "version": obj.version, "lifecycle": lifecycle_for(obj).name,
        "due_at": obj.due_at.isoformat() if obj.due_at else None, "overdue": obj.overdue,
        "due_provisional": provisional_due(obj.due_at),
        "triggers": [asdict(info) for info in available_triggers(obj, current_user)],
    })


@bp.get("/<any(referrals, assignments):kind>/<int:ident>/triggers")
@login_required
def triggers(kind: str, ident: int):
    return _triggers_answer(LOADERS[kind](ident, current_user))


@bp.post("/<any(referrals, assignments):kind>/<int:ident>/fire/<trigger>")
@login_required
@transactional
def fire_trigger(kind: str, ident: int, trigger: str):
    if len(trigger) > MAX_TRIGGER_CHARS:
        raise DomainError(_("unknown action '%(action)s'", action=trigger[:MAX_TRIGGER_CHARS] + "…"))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed({"body": "send a JSON object"})
    data = body.get("data", {k: v for k, v in body.items() if k != "version"})
    if not isinstance(data, dict):
        raise ValidationFailed({"data": "data must be an object"})
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ValidationFailed({"version": "version must be an integer"})
    obj = LOADERS[kind](ident, current_user)
    fire(obj, trigger, data, current_user._get_current_object(), expected_version=version)
    return jsonify({"id": obj.id, "state": obj.state, "version": obj.version})
