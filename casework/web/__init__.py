"""Blueprints, error pages and request hooks."""
from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from casework.accounts.views import bp as accounts_bp
    from casework.referrals.views import bp as referrals_bp
    from casework.web.errors import register_error_handlers
    from casework.web.session import register_session_hooks

    app.register_blueprint(accounts_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(__import__("casework.assignments.views", fromlist=["bp"]).bp)
    app.register_blueprint(__import__("casework.targets.views", fromlist=["bp"]).bp)
    app.register_blueprint(__import__("casework.evidence.views", fromlist=["bp"]).bp)
    app.register_blueprint(__import__("casework.notices.views", fromlist=["bp"]).bp)
    app.register_blueprint(__import__("casework.workflow.api", fromlist=["bp"]).bp)
    register_error_handlers(app)
    register_session_hooks(app)
