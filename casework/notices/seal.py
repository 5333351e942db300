"""The issuing agency's seal (印章) as an image, printed in red over the date (GB/T 9704 §7.3.5.1).

The system administrator uploads one PNG per agency (casework/admin: a transparent background, the
seal drawn in red), stored with its SHA-256 (``casework.agencies.seals``). No upload, no image: the
letter keeps the room for a seal stamped by hand. The notice's embedded JSON records the image's
SHA-256, so the seal a document was issued with can be checked later.
"""
from __future__ import annotations

import base64
import hashlib

from casework.agencies.seals import seal_for


def seal_image(agency) -> bytes | None:
    """The agency's uploaded seal PNG, or None."""
    found = seal_for(agency) if agency is not None and getattr(agency, "id", None) else None
    return found[0] if found else None


def seal_record(image: bytes | None) -> dict | None:
    """What the notice's JSON says about its seal."""
    return {"sha256": hashlib.sha256(image).hexdigest(), "format": "png"} if image else None


def seal_data_uri(image: bytes | None) -> str | None:
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii") if image else None
