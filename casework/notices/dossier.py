"""A referral's dossier: a one-page summary and all its notices in order, as one PDF or a ZIP."""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

from flask import render_template
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from casework.db_types import utcnow
from casework.extensions import db
from casework.notices.content import chinese_date, document_kind
from casework.notices.models import Notice
from casework.notices.render import html_to_pdf, style_context

ZIP_DATE = (2026, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Dossier:
    summary_pdf: bytes
    notices: list[Notice]
    pages: int


def referral_notices(referral) -> list[Notice]:
    return list(db.session.scalars(
        select(Notice).where(Notice.referral_id == referral.id).order_by(Notice.issued_at, Notice.id)))


def dossier_rows(notices: list[Notice]) -> list[dict]:
    """One row of the dossier's index per notice."""
    return [{"number": n.document_number, "kind": document_kind(n), "title": n.title,
             "issuer": n.issuer.name, "recipient": n.recipient.name if n.recipient else "",
             "date": chinese_date(n.issued_at), "pages": n.page_count, "sha256": n.sha256,
             "superseded_by": n.superseded_by.document_number if n.superseded_by else ""} for n in notices]


def build_dossier(referral, notices: list[Notice] | None = None) -> Dossier:
    """Render the summary page for ``referral`` (its notices: all, or those given, in issue order)."""
    notices = referral_notices(referral) if notices is None else notices
    html = render_template("notices/dossier_summary.html", **style_context(), referral=referral,
                           rows=dossier_rows(notices), generated=chinese_date(utcnow()))
    summary = html_to_pdf(html, pdf_variant=None)
    return Dossier(summary.pdf, notices, summary.pages + sum(n.page_count for n in notices))


def dossier_pdf(dossier: Dossier) -> bytes:
    writer = PdfWriter()
    for blob in [dossier.summary_pdf, *(n.pdf for n in dossier.notices)]:
        writer.append(PdfReader(io.BytesIO(blob)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def dossier_zip(dossier: Dossier, referral) -> bytes:
    out = io.BytesIO()
    manifest = {"referral": referral.number, "notices": []}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("00-summary.pdf", ZIP_DATE), dossier.summary_pdf)
        for index, notice in enumerate(dossier.notices, start=1):
            name = f"{index:02d}-{notice.kind}-{notice.year}-{notice.serial}-{notice.issuer.code}.pdf"
            archive.writestr(zipfile.ZipInfo(name, ZIP_DATE), notice.pdf)
            manifest["notices"].append({"file": name, "document_number": notice.document_number,
                                        "kind": notice.kind, "sha256": notice.sha256})
        archive.writestr(zipfile.ZipInfo("manifest.json", ZIP_DATE),
                         json.dumps(manifest, ensure_ascii=False, indent=1))
    return out.getvalue()
