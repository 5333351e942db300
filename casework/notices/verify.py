"""Verification of notices by code or by the PDF itself; reveals only number, issuer, date and hash."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from casework.errors import ValidationFailed
from casework.evidence.display import file_size
from casework.extensions import db
from casework.notices.models import Notice
from casework.notices.render import local_date
from casework.text import _

CODE_PATTERN = re.compile(r"^[2-9A-HJ-NP-Z]{5}-?[2-9A-HJ-NP-Z]{5}$")
DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024


@dataclass(frozen=True)
class PublicFacts:
    document_number: str
    issuer: str
    date: str
    sha256: str
    superseded: bool


def public_facts(notice: Notice) -> PublicFacts:
    day = local_date(notice.issued_at)
    return PublicFacts(notice.document_number, notice.issuer.name, f"{day.year}年{day.month}月{day.day}日",
                       notice.sha256, notice.superseded_by is not None)


def normalise_code(code: str) -> str | None:
    code = (code or "").strip().upper().replace(" ", "")
    if not CODE_PATTERN.match(code):
        return None
    return code if "-" in code else f"{code[:5]}-{code[5:]}"


def find_by_code(code: str) -> Notice | None:
    normal = normalise_code(code)
    if normal is None:
        return None
    return db.session.scalar(select(Notice).where(Notice.verification_code == normal))


def find_by_bytes(pdf: bytes) -> Notice | None:
    digest = hashlib.sha256(pdf).hexdigest()
    return db.session.scalar(select(Notice).where(Notice.sha256 == digest))


def max_upload_bytes() -> int:
    return int(current_app.config.get("NOTICE_VERIFY_MAX_BYTES", DEFAULT_MAX_UPLOAD))


def read_upload(stream, limit: int | None = None) -> bytes:
    """The uploaded file's bytes; ValidationFailed when it is missing, too large or not a PDF."""
    limit = limit or max_upload_bytes()
    if stream is None:
        raise ValidationFailed({"file": _("Choose the PDF file to check.")})
    data = stream.read(limit + 1)
    if not data:
        raise ValidationFailed({"file": _("The file is empty.")})
    if len(data) > limit:
        raise ValidationFailed({"file": _("The file is larger than %(limit)s.", limit=file_size(limit))})
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise ValidationFailed({"file": _("The file is not a PDF.")})
    return data
