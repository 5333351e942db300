"""Configuration from environment variables; secrets never live in code."""
import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from casework.text import CST

DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"


def public_url_problem(url: str | None) -> str | None:
    """Why ``url`` cannot be the public address printed on notices (their verification links), or None.

    Production needs an https address that others can reach: not unset, not loopback."""
    url = (url or "").strip()
    if not url:
        return "CASEWORK_PUBLIC_URL is not set: notices would print a verification link nobody can open"
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return f"CASEWORK_PUBLIC_URL {url[:80]!r} is not a URL"
    if parts.scheme != "https":
        return f"CASEWORK_PUBLIC_URL must be an https address, not {url[:80]!r}"
    if not host:
        return f"CASEWORK_PUBLIC_URL {url[:80]!r} names no host"
    if _loopback(host):
        return f"CASEWORK_PUBLIC_URL {url[:80]!r} points at this machine (loopback), not at the public address"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


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
        "BABEL_DEFAULT_TIMEZONE": CST.key,
        "PUBLIC_BASE_URL": os.environ.get("CASEWORK_PUBLIC_URL") or DEVELOPMENT_PUBLIC_URL,
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
        # At most one access.denied audit event per user in this many minutes (casework/admin/denials.py).
        "ACCESS_DENIAL_WINDOW_MINUTES": int(os.environ.get("CASEWORK_ACCESS_DENIAL_WINDOW_MINUTES", "10")),
        # A dossier export must be built within this many seconds (then 503); exports cached on disk.
        "DOSSIER_TIME_BUDGET_SECONDS": int(os.environ.get("CASEWORK_DOSSIER_BUDGET_SECONDS", "20")),
        "DOSSIER_CACHE_MB": int(os.environ.get("CASEWORK_DOSSIER_CACHE_MB", "256")),
    }
    config.update(overrides)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(instance_path)
    return config
