"""Signed checkpoints of the audit chain, kept outside the database (and mailed where configured).

A checkpoint is a small JSON file: the sequence number and hash of the chain's last event at a
moment, the time, the key id and an HMAC over them. ``casework audit verify`` requires the chain
to reach the latest checkpoint with the same hash, so rows removed from the end, a wiped trail or
a chain recomputed without the key are found even though the database looks consistent.
"""
from __future__ import annotations

import json
import os
import smtplib
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from casework.audit.keys import AuditKeyError, KeyRing

SCHEMA = "casework.audit-checkpoint/1"
PATTERN = "checkpoint-*.json"
SIGNED_FIELDS = ("schema", "seq", "chain_hash", "time", "key_id")


class CheckpointError(Exception):
    """A checkpoint that cannot be read or whose signature does not hold."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    chain_hash: str
    time: str
    key_id: str
    path: Path | None = None


def _signed_text(fields: dict) -> str:
    return json.dumps({name: fields[name] for name in SIGNED_FIELDS}, sort_keys=True, separators=(",", ":"))


def write_checkpoint(directory: Path, keys: KeyRing, seq: int, chain_hash: str,
                     now: datetime | None = None) -> Path:
    """Write one signed checkpoint file into ``directory`` (atomically) and return its path."""
    now = now or datetime.now(timezone.utc)
    fields = {"schema": SCHEMA, "seq": seq, "chain_hash": chain_hash,
              "time": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "key_id": keys.current_id}
    fields["signature"] = keys.sign(_signed_text(fields))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"checkpoint-{seq:012d}-{now:%Y%m%dT%H%M%S%f}Z.json"
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(fields, indent=1) + "\n")
    os.replace(partial, path)
    return path


def read_checkpoint(path: Path, keys: KeyRing) -> Checkpoint:
    """Read and check one checkpoint file; CheckpointError says why it cannot be trusted."""
    try:
        fields = json.loads(path.read_text())
        if fields.get("schema") != SCHEMA:
            raise CheckpointError(f"checkpoint {path.name} is not a {SCHEMA} file")
        seq, chain_hash, key_id = fields["seq"], fields["chain_hash"], fields["key_id"]
        if not isinstance(seq, int) or seq < 0 or not isinstance(chain_hash, str):
            raise CheckpointError(f"checkpoint {path.name} has no valid sequence number and hash")
        expected = keys.sign(_signed_text(fields), key_id)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        if isinstance(error, AuditKeyError):
            raise CheckpointError(f"checkpoint {path.name} is signed with unknown key {fields.get('key_id')!r}") \
                from error
        raise CheckpointError(f"checkpoint {path.name} cannot be read: {error}") from error
    if not isinstance(fields.get("signature"), str) or fields["signature"] != expected:
        raise CheckpointError(f"checkpoint {path.name} has a bad signature")
    return Checkpoint(seq, chain_hash, fields["time"], key_id, path)


def latest_checkpoint(directory: Path, keys: KeyRing) -> Checkpoint | None:
    """The checkpoint with the highest sequence number (None when there is none yet)."""
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise CheckpointError(f"the checkpoint directory {directory} is not a directory")
    paths = sorted(directory.glob(PATTERN))
    return read_checkpoint(paths[-1], keys) if paths else None


def mail_checkpoint(path: Path, smtp_url: str, recipients: list[str], sender: str) -> None:
    """Send the checkpoint file to the audit administrators through ``smtp_url``
    (smtp://[user:password@]host[:port][?starttls=1] or smtps://...)."""
    url = urlsplit(smtp_url)
    message = EmailMessage()
    message["Subject"] = f"Casework audit checkpoint {path.stem}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    body = path.read_text()
    message.set_content("Keep this signed audit checkpoint; `casework audit verify` checks the chain "
                        "against it.\n\n" + body)
    message.add_attachment(body.encode(), maintype="application", subtype="json", filename=path.name)
    client_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with client_class(url.hostname or "127.0.0.1", url.port or (465 if url.scheme == "smtps" else 25),
                      timeout=10) as client:
        if parse_qs(url.query).get("starttls") == ["1"]:
            client.starttls()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


def default_sender() -> str:
    return f"casework@{socket.getfqdn()}"


def checkpoint_and_mail(settings, seq: int, chain_hash: str) -> Path:
    """Write a checkpoint and, where configured, mail it (the file stays if the mail fails)."""
    path = write_checkpoint(settings.checkpoint_dir, settings.keys, seq, chain_hash)
    if settings.smtp_url and settings.mail_to:
        mail_checkpoint(path, settings.smtp_url, settings.mail_to, settings.mail_from)
    return path
