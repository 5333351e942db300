"""Friendly error pages, and JSON answers for the API."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from casework.errors import DomainError, ValidationFailed
from casework.evidence.display import file_size


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


def register_error_handlers(app: Flask) -> None:
    for status in (400, 403, 404, 405, 409, 500):
        app.register_error_handler(status, lambda e, s=status: _answer(s, _own_description(e)))

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
