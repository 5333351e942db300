"""HTML templates to PDF/A-3b with WeasyPrint, one document at a time, fonts configured once."""
from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask import current_app, render_template

from casework.notices import fonts
from casework.text import CST

PDF_VARIANT = "pdf/a-3b"
_render_lock = threading.Lock()
LABELS_ZH = {"no": "序号", "name": "名称", "kind": "类型", "locator": "网址或标识", "operator": "运营者",
             "target": "对象", "action": "处置措施", "outcome": "执行结果", "executed": "执行日期",
             "colon": "：", "open": "（", "close": "）", "attachments": "附件：", "copies": "抄送：",
             "comma": "，", "stop": "。", "printed": "印发", "code": "核验码："}
LABELS_LATIN = {"no": "No.", "name": "Name", "kind": "Kind", "locator": "Address", "operator": "Operator",
                "target": "Target", "action": "Action", "outcome": "Outcome", "executed": "Date",
                "colon": ":", "open": " (", "close": ")", "attachments": "Attachments: ", "copies": "Copies: ",
                "comma": ", ", "stop": ".", "printed": " printed", "code": "Code: "}
_font_config = None


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int


def local_date(moment: datetime) -> date:
    return moment.astimezone(CST).date()


def font_cache_dir() -> Path:
    return Path(current_app.config.get("NOTICE_FONT_DIR") or Path(current_app.instance_path) / "fonts")


def font_faces() -> list[dict]:
    return [{"family": fonts.COMMON_FAMILY, "weight": weight, "url": path.as_uri()}
            for weight, path in sorted(fonts.common_font_files(font_cache_dir()).items())]


def qr_data_uri(url: str) -> str:
    import qrcode.image.svg  # qrcode and PIL load at the first notice, not at start-up

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=0)
    svg = image.to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _font_configuration():
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration  # WeasyPrint (0.5 s) loads at the first render

        _font_config = FontConfiguration()
    return _font_config


def _fetcher(allowed_dir: Path):
    """Only data: URIs and our own font files may be loaded while rendering."""
    from weasyprint.urls import URLFetcher  # WeasyPrint (0.5 s) loads at the first render, not at start-up

    allowed = allowed_dir.resolve().as_uri() + "/"

    class NoticeFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:") or url.startswith(allowed):
                return super().fetch(url, headers)
            raise ValueError(f"notices may not load {url[:60]}")

    return NoticeFetcher(allowed_protocols=("data", "file"))


def _unique_associated_files(_document, pdf) -> None:
    """WeasyPrint 70 lists an attachment twice in the catalog's /AF; keep each once."""
    files = pdf.catalog.get("AF")
    if files:
        files[:] = list(dict.fromkeys(files))


SEAL_MM = 42  # the room kept for the issuing agency's seal (a provincial department's round seal)
BOTTOM_RULE_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="170mm" height="1.2mm" viewBox="0 0 1700 12">'
                   '<rect width="1700" height="2" fill="#E60012"/><rect y="6" width="1700" height="6" fill="#E60012"/>'
                   '</svg>')


def style_context() -> dict:
    """Fonts and the letter format's red rule 20 mm above the bottom edge (thin over thick)."""
    return {"font_faces": font_faces(), "title_fonts": fonts.title_chain(), "body_fonts": fonts.body_chain(),
            "heading_fonts": fonts.heading_chain(), "seal_mm": SEAL_MM,
            "bottom_rule": base64.b64encode(BOTTOM_RULE_SVG.encode()).decode("ascii")}


def html_to_pdf(html: str, *, attachment_json: bytes | None = None, attachment_name: str = "notice.json",
                pdf_variant: str | None = PDF_VARIANT, metadata_date: datetime | None = None,
                enclosures: list[tuple[str, bytes]] = ()) -> Rendered:
    """Render one HTML document; with ``attachment_json``, embed it as an associated file, and
    each (file name, PDF bytes) of ``enclosures`` as a supplement (the letter's 附件)."""
    from weasyprint import HTML, Attachment  # WeasyPrint (0.5 s) loads at the first render, not at start-up

    attachments = []
    if attachment_json is not None:
        attachments.append(Attachment(file_obj=io.BytesIO(attachment_json), name=attachment_name,
                                      description="structured data of this notice", relationship="Data",
                                      created=metadata_date, modified=metadata_date))
    for name, body in enclosures:
        attachments.append(Attachment(file_obj=io.BytesIO(body), name=name, description=name,
                                      relationship="Supplement", created=metadata_date, modified=metadata_date))
    with _render_lock:
        font_config = _font_configuration()
        document = HTML(string=html, base_url=font_cache_dir().as_uri() + "/",
                        url_fetcher=_fetcher(font_cache_dir())).render(font_config=font_config)
        options = {"attachments": attachments} if attachments else {}
        if pdf_variant:
            options["pdf_variant"] = pdf_variant
        pdf = document.write_pdf(finisher=_unique_associated_files, **options)
    return Rendered(pdf, len(document.pages))


def render_notice(template: str, context: dict, attachment_json: bytes, issued_at: datetime,
                  enclosures: list[tuple[str, bytes]] = ()) -> Rendered:
    html = render_template(template, **style_context(), **{"labels": LABELS_ZH, **context})
    return html_to_pdf(html, attachment_json=attachment_json, metadata_date=issued_at, enclosures=enclosures)
