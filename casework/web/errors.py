"""Friendly error pages, and JSON answers for the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from casework.errors import DomainError, ValidationFailed


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _answer(status: int, message: str | None = None, **extra):
    if _wants_json():
        body = {"error": message or str(status), **extra}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    for status in (400, 403, 404, 405, 409, 413, 500):
        app.register_error_handler(status, lambda e, s=status: _answer(s, getattr(e, "description", None)))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _answer(400, error.description)

    @app.errorhandler(ValidationFailed)
    def validation_failed(error):
        return _answer(400, error.message, errors=error.errors)

    @app.errorhandler(DomainError)
    def domain_error(error):
        return _answer(error.status, error.message)
