"""The audit key ring: HMAC keys that never live in the database.

A key ring is one or more ``key_id:secret`` entries (separated by white space or new lines, ``#``
starts a comment); the last entry signs new events and checkpoints, every entry verifies. It comes
from ``AUDIT_KEYS`` in the app's config, else ``CASEWORK_AUDIT_KEY``, else the file named by
``CASEWORK_AUDIT_KEY_FILE``, else ``instance/audit_keys`` (generated once, mode 0600, for
development and demos).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
MIN_SECRET_CHARS = 32


class AuditKeyError(ValueError):
    """The configured key ring cannot be used (one line saying why)."""


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    secrets: dict[str, bytes]

    def sign(self, message: str, key_id: str | None = None) -> str:
        """HMAC-SHA-256 of ``message`` with ``key_id`` (default: the current key), in hex."""
        secret = self.secrets.get(key_id or self.current_id)
        if secret is None:
            raise AuditKeyError(f"audit key {key_id!r} is not in the key ring")
        return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def knows(self, key_id: str | None) -> bool:
        return key_id in self.secrets


def parse_key_ring(text: str, source: str) -> KeyRing:
    """Read ``key_id:secret`` entries; the last one is current."""
    entries: dict[str, bytes] = {}
    current = None
    for line in text.splitlines():
        for word in line.split("#", 1)[0].split():
            key_id, sep, secret = word.partition(":")
            if not sep or not KEY_ID.match(key_id):
                raise AuditKeyError(f"{source}: each audit key is written key_id:secret "
                                    f"(key id of letters, digits, '.', '_', '-', at most 32)")
            if len(secret) < MIN_SECRET_CHARS:
                raise AuditKeyError(f"{source}: audit key {key_id!r} is shorter than {MIN_SECRET_CHARS} characters")
            if key_id in entries and entries[key_id] != secret.encode():
                raise AuditKeyError(f"{source}: audit key {key_id!r} is given twice with different secrets")
            entries[key_id] = secret.encode("utf-8")
            current = key_id
    if current is None:
        raise AuditKeyError(f"{source}: no audit key")
    return KeyRing(current, entries)


def new_key_entry(now: datetime | None = None) -> str:
    """A fresh ``key_id:secret`` line; the key id names the day it was made."""
    now = now or datetime.now(timezone.utc)
    return f"k{now:%Y%m%d}-{secrets.token_hex(2)}:{secrets.token_hex(32)}"


def key_file_path(instance_path: Path) -> Path:
    return Path(os.environ.get("CASEWORK_AUDIT_KEY_FILE") or instance_path / "audit_keys")


def load_key_ring(config: dict, instance_path: Path) -> KeyRing:
    """The key ring for an app: config, environment, key file, or a generated instance file."""
    if config.get("AUDIT_KEYS"):
        return parse_key_ring(config["AUDIT_KEYS"], "AUDIT_KEYS")
    if os.environ.get("CASEWORK_AUDIT_KEY"):
        return parse_key_ring(os.environ["CASEWORK_AUDIT_KEY"], "CASEWORK_AUDIT_KEY")
    path = key_file_path(instance_path)
    if not path.exists() and not os.environ.get("CASEWORK_AUDIT_KEY_FILE"):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(new_key_entry() + "\n")
    try:
        text = path.read_text()
    except OSError as error:
        raise AuditKeyError(f"cannot read the audit key file {path}: {error.strerror}") from error
    return parse_key_ring(text, str(path))


def append_key(path: Path) -> str:
    """Add a new current key to the key file ``path``; return its id (older keys stay to verify)."""
    entry = new_key_entry()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(entry + "\n")
    return entry.split(":", 1)[0]
