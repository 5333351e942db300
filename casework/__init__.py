"""Casework: the shared desk for the joint disposal of course-brushing services."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import casework.models  # noqa: F401  (complete metadata)
from casework.assignments.services import SERVICES as ASSIGNMENT_SERVICES
from casework.audit.services import init_audit
from casework.calendar.views import init_calendar
from casework.cli import register_cli
from casework.config import build_config
from casework.db_engine import install_engine_events, install_idle_ping
from casework.extensions import csrf, db, login_manager
from casework.notices.startup import check_notice_environment
from casework.inbox import init_inbox
from casework.notifications.wiring import init_notifications
from casework.referrals.lifecycle import SERVICES as REFERRAL_SERVICES
from casework.unit_of_work import register_unavailable_answers
from casework.web import register_web
from casework.web.i18n import init_i18n
from casework.workflow.engine import build_machines, register_services

PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("casework")


def create_app(config: dict | None = None) -> Flask:
    """Application factory. ``config`` overrides settings taken from the environment."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(build_config(Path(app.instance_path), config))
    if app.config.get("TRUST_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)

    install_engine_events()

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            install_idle_ping(engine)
    csrf.init_app(app)
    login_manager.init_app(app)
    init_i18n(app)
    init_inbox(app)
    init_audit(app)
    init_workflow()
    init_notifications(app)
    register_web(app)
    init_calendar(app)
    register_unavailable_answers(app)
    register_cli(app)
    check_notice_environment(app)
    return app


def init_workflow() -> None:
    """The domain services register with the engine, which builds its machines (checking the guards)."""
    register_services("referral", REFERRAL_SERVICES)
    register_services("assignment", ASSIGNMENT_SERVICES)
    build_machines()
