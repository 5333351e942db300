"""Configuration from environment variables; secrets never live in code."""
import os
import secrets
from datetime import timedelta
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    given = os.environ.get("CASEWORK_SECRET_KEY")
    if given:
        return given
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def build_config(instance_path: Path, overrides: dict | None = None) -> dict:
    """The settings for one app instance: environment first, then ``overrides``."""
    overrides = dict(overrides or {})
    default_db = f"sqlite:///{instance_path / 'casework.sqlite'}"
    config = {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("CASEWORK_DATABASE_URL", default_db),
        # PostgreSQL connections idle for a while are pinged before reuse (``db_engine.install_idle_ping``).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("CASEWORK_INSECURE_COOKIES") != "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": os.environ.get("CASEWORK_INSECURE_COOKIES") != "1",
        # The cookie is rewritten at most once a minute (``last_seen``), so it outlives the idle limit by one.
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=31),
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_IDLE_MINUTES": 30,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "MAX_CONTENT_LENGTH": int(os.environ.get("CASEWORK_MAX_UPLOAD_MB", "50")) * 1024 * 1024,
        "EVIDENCE_DIR": os.environ.get("CASEWORK_EVIDENCE_DIR", str(instance_path / "evidence")),
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "DISPLAY_TIMEZONE": "Asia/Shanghai",
        "PUBLIC_BASE_URL": os.environ.get("CASEWORK_PUBLIC_URL", "http://127.0.0.1:5000"),
        "DEMO": False,
        # Notification e-mail (``casework worker``): smtp://, smtps:// or file:// (see casework/notifications/mail.py).
        "MAIL_URL": os.environ.get("CASEWORK_SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("CASEWORK_MAIL_FROM", "casework@localhost"),
        "MAIL_TIMEOUT": 10.0,
        "MAIL_MAX_ATTEMPTS": 6,
        "MAIL_RETRY_SECONDS": 60,
        "CHECK_TARGETS_MINUTES": int(os.environ.get("CASEWORK_CHECK_TARGETS_MINUTES", "60")),
        # Rendered inbox lists kept per worker process (0: render every request).
        "DESK_CACHE_SIZE": int(os.environ.get("CASEWORK_DESK_CACHE_SIZE", "512")),
        # Rendered top bars (one per user, page and language) kept per worker process.
        "TOPBAR_CACHE_SIZE": int(os.environ.get("CASEWORK_TOPBAR_CACHE_SIZE", "1024")),
    }
    config.update(overrides)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(instance_path)
    return config
