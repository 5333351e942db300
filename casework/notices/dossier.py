"""A referral's dossier: a one-page summary and all its notices in order, as one PDF or a ZIP.

Exports for the web are cached as files (``DOSSIER_CACHE_DIR``, default ``instance/dossier-cache``,
shared by the worker processes of one host; settings in ``casework/config.py``) under a key over
everything the export shows: the referral's version, number, title and origin, the rows of the
notices the requesting user may see, the format and the generation date; a repeat is a file read. The cache is kept under
``DOSSIER_CACHE_MB`` by removing the least recently used files. Building one must finish within
``DOSSIER_TIME_BUDGET_SECONDS``, checked between its steps; past it the request is refused (503)
instead of holding a worker.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from casework.db_types import utcnow
from casework.evidence.models import Evidence
from casework.evidence.storage import open_stored
from casework.extensions import db
from casework.notices.content import chinese_date, document_kind
from casework.notices.models import Notice
from casework.notices.render import html_to_pdf, style_context
from casework.unit_of_work import Unavailable

ZIP_DATE = (2026, 1, 1, 0, 0, 0)
FORMATS = ("pdf", "zip")
DEFAULT_TIME_BUDGET_SECONDS = 20
DEFAULT_CACHE_MB = 256
UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f"*/:<>?\\|]+')


class DossierTooSlow(Unavailable):
    """Building the dossier took longer than the request's time budget."""


class Deadline:
    """The time budget of one export: ``check()`` raises once it is spent."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.ends:
            raise DossierTooSlow(_("The dossier could not be assembled within %(seconds)s seconds, so the "
                                   "export was stopped. Try again later or download the notices one by one.",
                                   seconds=int(self.seconds)))


NO_DEADLINE = Deadline(float("inf"))


@dataclass(frozen=True)
class Dossier:
    summary_pdf: bytes
    notices: list[Notice]
    pages: int
    evidence: list[Evidence] = ()


def referral_notices(referral) -> list[Notice]:
    return list(db.session.scalars(
        select(Notice).where(Notice.referral_id == referral.id).order_by(Notice.issued_at, Notice.id)))


def referral_evidence(referral) -> list[Evidence]:
    """The referral's evidence files: whoever may see the referral may see them all
    (``casework.access.loaders.get_evidence_or_404``)."""
    return list(db.session.scalars(select(Evidence).where(Evidence.referral_id == referral.id).order_by(Evidence.id)))


def dossier_rows(notices: list[Notice]) -> list[dict]:
    """One row of the dossier's index per notice."""
    return [{"number": n.document_number, "kind": document_kind(n), "title": n.title,
             "issuer": n.issuer.name, "recipient": n.recipient.name if n.recipient else "",
             "date": chinese_date(n.issued_at), "pages": n.page_count, "sha256": n.sha256,
             "superseded_by": n.superseded_by.document_number if n.superseded_by else ""} for n in notices]


def build_dossier(referral, notices: list[Notice] | None = None, deadline: Deadline = NO_DEADLINE,
                  evidence: list[Evidence] | None = None) -> Dossier:
    """Render the summary page for ``referral`` (its notices: all, or those given, in issue order;
    its evidence files: all, or those given)."""
    notices = referral_notices(referral) if notices is None else notices
    evidence = referral_evidence(referral) if evidence is None else evidence
    html = render_template("notices/dossier_summary.html", **style_context(), referral=referral,
                           rows=dossier_rows(notices), generated=chinese_date(utcnow()))
    summary = html_to_pdf(html, pdf_variant=None)
    deadline.check()
    return Dossier(summary.pdf, notices, summary.pages + sum(n.page_count for n in notices), evidence)


def dossier_pdf(dossier: Dossier, deadline: Deadline = NO_DEADLINE) -> bytes:
    from pypdf import PdfReader, PdfWriter  # pypdf (0.1 s) loads only to join a dossier, not at start-up

    writer = PdfWriter()
    for blob in [dossier.summary_pdf, *(n.pdf for n in dossier.notices)]:
        writer.append(PdfReader(io.BytesIO(blob)))
        deadline.check()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def dossier_zip(dossier: Dossier, referral, deadline: Deadline = NO_DEADLINE) -> bytes:
    out = io.BytesIO()
    manifest = {"referral": referral.number, "notices": [], "evidence": []}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("00-summary.pdf", ZIP_DATE), dossier.summary_pdf)
        for index, notice in enumerate(dossier.notices, start=1):
            name = f"{index:02d}-{notice.kind}-{notice.year}-{notice.serial}-{notice.issuer.code}.pdf"
            archive.writestr(zipfile.ZipInfo(name, ZIP_DATE), notice.pdf)
            deadline.check()
            manifest["notices"].append({"file": name, "document_number": notice.document_number,
                                        "kind": notice.kind, "sha256": notice.sha256})
        for index, evidence in enumerate(dossier.evidence, start=1):
            manifest["evidence"].append(_write_evidence(archive, index, evidence))
            deadline.check()
        archive.writestr(zipfile.ZipInfo("manifest.json", ZIP_DATE),
                         json.dumps(manifest, ensure_ascii=False, indent=1))
    return out.getvalue()


def _evidence_name(index: int, evidence: Evidence) -> str:
    original = UNSAFE_IN_NAME.sub("_", evidence.original_filename).strip(". ") or "file"
    return f"evidence/{index:02d}-{original}"


def _write_evidence(archive: zipfile.ZipFile, index: int, evidence: Evidence) -> dict:
    """Copy one stored evidence file into the archive (in chunks); its entry of the index, with the
    SHA-256 recorded at upload and whether the copied bytes still have it."""
    name = _evidence_name(index, evidence)
    entry = {"file": name, "original_filename": evidence.original_filename, "content_type": evidence.content_type,
             "size": evidence.size, "sha256": evidence.sha256}
    digest = hashlib.sha256()
    try:
        with open_stored(evidence.storage_key) as source, \
                archive.open(zipfile.ZipInfo(name, ZIP_DATE), "w", force_zip64=evidence.size >= 1 << 31) as sink:
            for chunk in iter(lambda: source.read(1 << 16), b""):
                digest.update(chunk)
                sink.write(chunk)
    except FileNotFoundError:
        return {**entry, "file": None, "missing": True}
    return {**entry, "sha256_verified": digest.hexdigest() == evidence.sha256}


def export_dossier(referral, notices: list[Notice], fmt: str) -> bytes:
    """The dossier of ``referral`` with ``notices`` as ``fmt`` bytes: from the cache, or built within
    the time budget and then cached."""
    evidence = referral_evidence(referral) if fmt == "zip" else []
    key = cache_key(referral, notices, fmt, evidence)
    cached = _cache_dir() / f"{key}.{fmt}"
    try:
        body = cached.read_bytes()
    except FileNotFoundError:
        pass
    else:
        os.utime(cached)
        return body
    deadline = Deadline(current_app.config.get("DOSSIER_TIME_BUDGET_SECONDS", DEFAULT_TIME_BUDGET_SECONDS))
    built = build_dossier(referral, notices, deadline, evidence)
    body = dossier_pdf(built, deadline) if fmt == "pdf" else dossier_zip(built, referral, deadline)
    _store(cached, body)
    return body


def cache_key(referral, notices: list[Notice], fmt: str, evidence: list[Evidence] = ()) -> str:
    """SHA-256 over everything an export of ``referral`` with ``notices`` (and ``evidence``) shows."""
    facts = [fmt, referral.id, referral.version, referral.number, referral.title, referral.origin_agency.name,
             chinese_date(utcnow()), dossier_rows(notices),
             [(e.id, e.sha256, e.original_filename) for e in evidence]]
    return hashlib.sha256(json.dumps(facts, ensure_ascii=False, default=str).encode()).hexdigest()


def _cache_dir() -> Path:
    folder = Path(current_app.config.get("DOSSIER_CACHE_DIR") or Path(current_app.instance_path) / "dossier-cache")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _store(target: Path, body: bytes) -> None:
    """Write ``body`` atomically (other processes read the cache), then trim the cache to its size."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    trim_cache(target.parent, current_app.config.get("DOSSIER_CACHE_MB", DEFAULT_CACHE_MB) * 1024 * 1024)


def trim_cache(folder: Path, limit_bytes: int) -> None:
    """Remove the least recently used exports until the folder holds at most ``limit_bytes``."""
    entries = []
    for path in folder.iterdir():
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed by another process meanwhile
            continue
        if not path.name.startswith("."):
            entries.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in entries)
    for _mtime, size, path in sorted(entries):
        if total <= limit_bytes:
            break
        path.unlink(missing_ok=True)
        total -= size
