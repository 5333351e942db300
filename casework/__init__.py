"""Casework: the shared desk for the joint disposal of course-brushing services."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from casework.audit.services import init_audit
from casework.config import build_config
from casework.extensions import babel, csrf, db, login_manager

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

    import casework.models  # noqa: F401  (complete metadata)
    from casework.db_engine import install_engine_events, install_idle_ping

    install_engine_events()

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            install_idle_ping(engine)
    csrf.init_app(app)
    login_manager.init_app(app)
    from casework.web.i18n import init_i18n

    init_i18n(app)
    from casework.referrals.desk_cache import init_desk_cache

    init_desk_cache(app)
    init_audit(app)
    from casework.web import register_web

    register_web(app)
    from casework.cli import register_cli

    register_cli(app)
    __import__("casework.notices.startup", fromlist=["x"]).check_notice_environment(app)
    return app
