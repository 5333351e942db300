"""Content-addressed evidence store under ``EVIDENCE_DIR`` (outside the web root).

Files are named by their SHA-256 (``ab/cd/abcd…``), never by the uploader's name; they are
written to a temporary file in the same directory and renamed into place.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app

CHUNK = 1024 * 1024
KEY_SHAPE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$")


def evidence_root() -> Path:
    root = Path(current_app.config["EVIDENCE_DIR"])
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def key_for(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def path_for(key: str) -> Path:
    if not KEY_SHAPE.match(key):
        raise ValueError("not a storage key")
    return evidence_root() / key


def store_bytes(data: bytes) -> tuple[str, str]:
    """Store ``data``; return (sha256, storage key). Storing the same bytes twice is a no-op."""
    sha256 = hashlib.sha256(data).hexdigest()
    key = key_for(sha256)
    target = path_for(key)
    if target.exists() and file_sha256(target) == sha256:
        return sha256, key
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o400)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return sha256, key


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_stored(key: str) -> BinaryIO:
    return path_for(key).open("rb")
