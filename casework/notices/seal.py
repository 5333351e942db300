"""The issuing agency's seal (印章) as an image, printed in red over the date (GB/T 9704 §7.3.5.1).

``seal_image(agency)`` reads ``<NOTICE_SEAL_DIR>/<agency code>.png`` (``CASEWORK_SEAL_DIR``, default
``instance/seals``): a PNG with a transparent background, the seal drawn in red. No file, no image:
the letter keeps the room for a seal stamped by hand. The notice's embedded JSON records the
image's SHA-256, so the seal a document was issued with can be checked later.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path

from flask import current_app

log = logging.getLogger("casework.notices")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SEAL_BYTES = 2 * 1024 * 1024


def seal_dir() -> Path:
    return Path(current_app.config.get("NOTICE_SEAL_DIR") or Path(current_app.instance_path) / "seals")


def seal_image(agency) -> bytes | None:
    """The agency's seal PNG, or None (no file, or a file that is not a PNG of a sensible size)."""
    code = getattr(agency, "code", "") or ""
    if not code or "/" in code or code.startswith("."):
        return None
    path = seal_dir() / f"{code}.png"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("notices: cannot read the seal %s: %s", path, exc)
        return None
    if not data.startswith(PNG_SIGNATURE) or len(data) > MAX_SEAL_BYTES:
        log.warning("notices: %s is not a PNG of at most %d bytes; no seal printed", path, MAX_SEAL_BYTES)
        return None
    return data


def seal_record(image: bytes | None) -> dict | None:
    """What the notice's JSON says about its seal."""
    return {"sha256": hashlib.sha256(image).hexdigest(), "format": "png"} if image else None


def seal_data_uri(image: bytes | None) -> str | None:
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii") if image else None
