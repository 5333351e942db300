"""Blueprints, error pages and request hooks."""
from __future__ import annotations

from importlib import import_module

from flask import Flask

from casework.web.input_guard import register_input_guard

BLUEPRINT_MODULES = (
    "casework.accounts.views",
    "casework.inbox.views",
    "casework.dashboard.views",
    "casework.referrals.views",
    "casework.assignments.views",
    "casework.targets.views",
    "casework.evidence.views",
    "casework.notices.views",
    "casework.workflow.api",
    "casework.audit.views",
    "casework.admin.views",
    "casework.security.views",
    "casework.notifications.views",
    "casework.ownership.views",
    "casework.comments.views",
)


def register_web(app: Flask) -> None:
    # Imported here, not at the top: the domain packages import casework.web.i18n, which runs this
    # package's __init__ first, and these modules import the domain packages.
    from casework.read_only import register_read_only_requests
    from casework.web.converters import DatabaseIdConverter
    from casework.web.errors import register_error_handlers
    from casework.web.frame import init_frame
    from casework.web.session import register_session_hooks
    from casework.web.template_globals import register_template_globals

    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    register_input_guard(app)  # first of all request hooks, before CSRF protection
    register_read_only_requests(app)  # before the session hooks, which load the user
    for module in BLUEPRINT_MODULES:
        app.register_blueprint(import_module(module).bp)
    register_template_globals(app)
    register_error_handlers(app)
    register_session_hooks(app)
    init_frame(app)
