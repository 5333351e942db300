"""How evidence files are described on pages: sizes in B/KB/MB and kinds in words."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

KINDS = {"image": _l("Image"), "audio": _l("Audio"), "video": _l("Video"), "text": _l("Text")}
DOCUMENTS = {"application/pdf": "PDF", "application/har+json": "HAR"}  # the accepted types (evidence.detect)


def file_size(size: int | None) -> str:
    """``25 B``, ``3.4 KB``, ``12.0 MB``."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1048576:.1f} MB"


def file_kind(content_type: str | None) -> str:
    """The kind of a file for people: ``图片`` for ``image/png``, ``PDF``; else the bare media type."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in DOCUMENTS:
        return DOCUMENTS[media_type]
    kind = KINDS.get(media_type.split("/", 1)[0])
    return f"{kind} ({media_type.split('/', 1)[1]})" if kind else media_type or "—"
