"""Detect an evidence file's type from its bytes, and the extensions each type may carry."""
from __future__ import annotations

from casework.input_rules import loads_bounded

EXTENSIONS = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "har": "application/har+json",
    "txt": "text/plain",
}
IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
HTML_STARTS = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<head", b"<iframe")


def detect_type(data: bytes) -> str | None:
    """The MIME type the bytes really are (text carries its charset), or None if not accepted."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        if head[8:12] in IMAGE_BRANDS:
            return None
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in data[:4096] else None
    return _detect_text(data)


def _detect_text(data: bytes) -> str | None:
    for charset in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(charset)
        except UnicodeDecodeError:
            continue
        if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
            return None
        stripped = text.lstrip().encode("utf-8", "ignore")[:32].lower()
        if stripped.startswith(HTML_STARTS):
            return None
        if _is_har(text):
            return "application/har+json"
        return "text/plain; charset=utf-8" if charset == "utf-8-sig" else "text/plain; charset=gbk"
    return None


def _is_har(text: str) -> bool:
    if not text.lstrip().startswith("{"):
        return False
    try:
        doc = loads_bounded(text, limit=None)
    except ValueError:  # not JSON, or nested too deep to be a HAR file
        return False
    log = doc.get("log") if isinstance(doc, dict) else None
    return isinstance(log, dict) and isinstance(log.get("entries"), list)


def type_matches_extension(content_type: str, extension: str) -> bool:
    expected = EXTENSIONS.get(extension)
    return expected is not None and content_type.split(";")[0] == expected
