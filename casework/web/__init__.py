"""Blueprints, error pages and request hooks."""
from __future__ import annotations

from importlib import import_module

from flask import Flask

from casework.web.input_guard import register_input_guard

BLUEPRINT_MODULES = (
    "casework.accounts.views",
    "casework.referrals.views",
    "casework.assignments.views",
    "casework.targets.views",
    "casework.evidence.views",
    "casework.notices.views",
    "casework.workflow.api",
    "casework.audit.views",
)


def register_web(app: Flask) -> None:
    from casework.read_only import register_read_only_requests
    from casework.web.converters import DatabaseIdConverter
    from casework.web.errors import register_error_handlers
    from casework.web.frame import init_frame
    from casework.web.session import register_session_hooks

    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    register_input_guard(app)  # first of all request hooks, before CSRF protection
    register_read_only_requests(app)  # before the session hooks, which load the user
    for module in BLUEPRINT_MODULES:
        app.register_blueprint(import_module(module).bp)
    register_error_handlers(app)
    register_session_hooks(app)
    init_frame(app)
