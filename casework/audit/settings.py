"""Per-app audit settings: the key ring, where checkpoints go, how often, and who is mailed."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from casework.audit.checkpoints import default_sender
from casework.audit.keys import KeyRing, load_key_ring

DEFAULT_CHECKPOINT_SECONDS = 3600


@dataclass
class AuditSettings:
    keys: KeyRing
    checkpoint_dir: Path
    checkpoint_seconds: int
    smtp_url: str | None = None
    mail_to: list[str] = field(default_factory=list)
    mail_from: str = ""
    last_checkpoint: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def checkpoint_due(self) -> bool:
        """True once per interval per process (0 seconds: only on demand)."""
        if self.checkpoint_seconds <= 0:
            return False
        with self.lock:
            now = time.monotonic()
            if self.last_checkpoint is not None and now - self.last_checkpoint < self.checkpoint_seconds:
                return False
            self.last_checkpoint = now
            return True


def _setting(app: Flask, name: str, default=None):
    return app.config[name] if name in app.config else os.environ.get(f"CASEWORK_{name}", default)


def build_settings(app: Flask) -> AuditSettings:
    instance = Path(app.instance_path)
    mail_to = _setting(app, "AUDIT_MAIL_TO", "") or ""
    smtp_url = _setting(app, "SMTP_URL")
    return AuditSettings(
        keys=load_key_ring(app.config, instance),
        checkpoint_dir=Path(_setting(app, "AUDIT_CHECKPOINT_DIR", instance / "audit-checkpoints")),
        checkpoint_seconds=int(_setting(app, "AUDIT_CHECKPOINT_SECONDS", DEFAULT_CHECKPOINT_SECONDS)),
        smtp_url=smtp_url,
        mail_to=[a.strip() for a in (mail_to if isinstance(mail_to, list) else mail_to.split(",")) if a.strip()],
        mail_from=_setting(app, "AUDIT_MAIL_FROM") or (default_sender() if smtp_url else ""),
    )


def audit_settings() -> AuditSettings:
    return current_app.extensions["casework_audit"]
