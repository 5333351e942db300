"""Friendly error pages, and JSON answers for the API."""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from casework.admin.denials import note_access_denial
from casework.errors import DomainError, ValidationFailed
from casework.evidence.display import file_size
from casework.extensions import db
from casework.read_only import READ_ONLY
from casework.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _answer(status: int, message: str | None = None, **extra):
    if _wants_json():
        body = {"error": message or str(status), **extra}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message,
                           errors=extra.get("errors")), status


def _own_description(error) -> str | None:
    """The message a view gave with ``abort(status, message)``; None for Werkzeug's stock English."""
    description = getattr(error, "description", None)
    if isinstance(error, HTTPException) and description == type(error).description:
        return None
    return description


def _names_an_object() -> bool:
    """The request matched a route that names an object by its id (``/referrals/<int:...>``)."""
    return request.url_rule is not None and any(
        isinstance(value, int) for value in (request.view_args or {}).values())


def record_access_denial() -> None:
    """Count a signed-in user's 404 on an object page as an access denial (rate-limited on the trail,
    ``casework/admin/denials.py``). Runs after the view's work was rolled back, in its own transaction;
    a failure to record is logged and never turns the 404 into a 500."""
    if not (current_user.is_authenticated and _names_an_object()):
        return
    user_id, path = current_user.id, request.path
    db.session.info.pop(READ_ONLY, None)  # a read-only page's 404 still leaves its trace
    db.session.rollback()
    try:
        with unit_of_work():
            note_access_denial(current_user._get_current_object(), {"path": path})
    except Exception:  # noqa: BLE001  (the 404 answer matters more than the count)
        log.exception("could not record the access denial of user %s on %s", user_id, path)


def register_error_handlers(app: Flask) -> None:
    for status in (400, 403, 405, 409, 500):
        app.register_error_handler(status, lambda e, s=status: _answer(s, _own_description(e)))

    @app.errorhandler(404)
    def not_found(error):
        record_access_denial()
        return _answer(404, _own_description(error))

    @app.errorhandler(413)
    def too_large(error):
        message = _("Nothing was saved: the files sent together exceed %(limit)s. Go back and send fewer or "
                    "smaller files.", limit=file_size(current_app.config.get("MAX_CONTENT_LENGTH") or 0))
        return _answer(413, message)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if _wants_json():
            return _answer(400, error.description)
        return _answer(400, _("The form had expired or lacked its security token, so nothing was saved. "
                              "Go back, reload the page and submit it again."))

    @app.errorhandler(ValidationFailed)
    def validation_failed(error):
        message = None if error.message == ValidationFailed.default_message else error.message
        return _answer(400, message if not _wants_json() else error.message, errors=error.errors)

    @app.errorhandler(DomainError)
    def domain_error(error):
        return _answer(error.status, error.message)
