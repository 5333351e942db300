"""GB/T 9704 layout measured on rendered letters (pdfplumber): the signature block (§7.3.5.1), the seal
image, the letter format's 版记 (§10.1), pagination (no heading or lone first table row at a page foot,
no page ending early mid-paragraph), a three-target referral letter on one page, embedded fonts."""
from __future__ import annotations

import hashlib
import io
import json
import re

import pdfplumber
import pytest
from pypdf import PdfReader

from sqlalchemy import update

from casework.agencies.seals import AgencySeal
from casework.notices.models import NoticeCounter
from casework.extensions import db
from tests.conftest import rolled_back_session
from tests.factories import assignment_row, disposition_row, find_agency, find_user, referral_row

MM = 72 / 25.4
TYPE_AREA = {"left": 28, "right": 210 - 26, "top": 37, "bottom": 297 - 35}  # odd pages, mm
LINE = 28.95 / MM  # the body's line pitch in mm
DATE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
HEADING = re.compile(r"^[一二三四五六七八九十]+、")
OPINION_LENGTHS = (6, 14, 22, 30)


def _seal_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 390, 390), outline=(230, 0, 18, 255), width=18)
    draw.regular_polygon((200, 200, 60), 5, fill=(230, 0, 18, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _issue_all(app):
    from casework.notices.services import issue_notice

    docs = {}
    with rolled_back_session(app):
        # Notice numbers as on a fresh desk: tests that commit for real advance the series, and a
        # longer 发文字号 must not decide what this file measures.
        db.session.execute(update(NoticeCounter).values(last_serial=0))
        referral = referral_row(targets=3, title="某平台代刷网课线索")
        docs["letter3"] = issue_notice("referral_letter", assignment_row(referral, "ca-44"),
                                       find_user("edu-44.assessor"), {})
        docs["long"] = issue_notice("return_notice", assignment_row(referral, "psb-44", state="returned"),
                                    find_user("psb-44.case_officer"),
                                    {"reason": "请补充网站截图、支付记录和学生证言。" * 80})
        market = assignment_row(referral, "amr-44", state="disposition_approved")
        disposition_row(market, "amr-44.case_officer")
        docs["decision"] = issue_notice("disposition_decision", market, find_user("amr-44.approver"), {})
        referral.state = "approved"
        for n in OPINION_LENGTHS:
            referral.assessment.opinion = "经研判，该服务提供有偿代刷网课。" * n
            docs[f"opinion{n}"] = issue_notice("assessment_opinion", referral, find_user("edu-44.approver"), {})
        image = _seal_png()
        db.session.add(AgencySeal(agency_id=find_agency("edu-44").id, image=image,
                                  sha256=hashlib.sha256(image).hexdigest(), width=200, height=200,
                                  byte_size=len(image)))
        db.session.flush()
        docs["sealed"] = issue_notice("referral_letter", assignment_row(referral, "cac-44"),
                                      find_user("edu-44.assessor"), {})
        return {name: (n.pdf, n.data) for name, n in docs.items()}


@pytest.fixture(scope="module")
def docs(app):
    return _issue_all(app)


def _pages(pdf: bytes):
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [{"lines": [{**line, "x0": line["x0"] / MM, "x1": line["x1"] / MM, "top": line["top"] / MM,
                            "bottom": line["bottom"] / MM, "text": line["text"].replace(" ", "")}
                           for line in page.extract_text_lines()],
                 "words": [{"x0": w["x0"] / MM, "x1": w["x1"] / MM, "top": w["top"] / MM, "bottom": w["bottom"] / MM,
                            "text": w["text"]} for w in page.extract_words()],
                 "images": [{k: image[k] / MM for k in ("x0", "x1", "top", "bottom")} for image in page.images],
                 "edges": [e for e in page.edges if abs(e["top"] - e["bottom"]) < 1]}
                for page in document.pages]


def _text_lines(page):
    """The page's lines of text, without the page number and the QR code's small print."""
    return [line for line in page["lines"] if not re.fullmatch(r"—\d+—", line["text"])
            and not line["text"].startswith(("核验码", "http"))]


def _signature(page):
    """The issuer's name and the date (words right of the middle, the date the last one)."""
    date = [word for word in page["words"] if DATE.match(word["text"]) and word["x0"] > 90][-1]
    issuer = max((word for word in page["words"] if word["bottom"] <= date["top"] + 0.5 and word["x0"] > 90),
                 key=lambda word: word["top"])
    return issuer, date


def test_a_referral_letter_with_three_targets_fits_on_one_page(docs):
    pages = _pages(docs["letter3"][0])
    assert len(pages) == 1
    text = "".join(line["text"] for line in pages[0]["lines"])
    assert all(f"代刷网站{n}号" in text for n in (1, 2, 3))


@pytest.mark.parametrize("name", ["letter3", "long", "decision", "sealed"])
def test_the_date_is_four_characters_from_the_right_and_the_issuer_centred_over_it(docs, name):
    page = _pages(docs[name][0])[-1]
    issuer, date = _signature(page)
    right_edge = TYPE_AREA["right"] if len(_pages(docs[name][0])) % 2 else 210 - 28
    assert abs((right_edge - date["x1"]) - 4 * 16 / MM) <= 0.7  # 右空四字: 4 × 16 pt
    assert abs((issuer["x0"] + issuer["x1"]) / 2 - (date["x0"] + date["x1"]) / 2) <= 0.7
    assert 0 <= date["top"] - issuer["bottom"] <= LINE
    assert issuer["text"] in ("广东省教育厅", "广东省公安厅", "广东省市场监督管理局")


def test_the_seal_image_is_printed_over_issuer_and_date_and_recorded(docs):
    pdf, data = docs["sealed"]
    page = _pages(pdf)[-1]
    issuer, date = _signature(page)
    seal = max(page["images"], key=lambda image: image["x1"] - image["x0"])  # the QR code is smaller
    assert abs((seal["x1"] - seal["x0"]) - 42) <= 0.5
    assert seal["x0"] < date["x0"] and date["x1"] < seal["x1"] and seal["x0"] < issuer["x0"]
    centre = (seal["top"] + seal["bottom"]) / 2
    assert seal["top"] < issuer["top"] and date["bottom"] < seal["bottom"]
    assert (issuer["top"] + date["bottom"]) / 2 >= centre  # issuer and date sit a little below the seal's centre
    body = [line for line in _text_lines(page) if line["bottom"] <= issuer["top"] and line["x0"] < 60]
    assert seal["top"] - body[-1]["bottom"] <= LINE  # the seal's top within one line of the body
    assert data["seal"] == {"sha256": hashlib.sha256(_seal_png()).hexdigest(), "format": "png"}
    embedded = json.loads(PdfReader(io.BytesIO(pdf)).attachments["notice.json"][0])
    assert embedded["seal"]["sha256"] == data["seal"]["sha256"]
    assert docs["letter3"][1]["seal"] is None


def test_the_letter_imprint_is_copies_only_at_the_foot_without_rules(docs):
    pages = _pages(docs["decision"][0])
    last = pages[-1]
    copies = next(line for line in last["lines"] if line["text"].startswith("抄送："))
    assert copies["bottom"] > TYPE_AREA["bottom"] - LINE and copies["bottom"] <= TYPE_AREA["bottom"] + 1
    assert not any("印发" in line["text"] for page in pages for line in page["lines"])
    below_signature = [e for e in last["edges"] if e["top"] / MM > _signature(last)[1]["bottom"]
                       and e["top"] / MM < 297 - 25]
    assert below_signature == []  # no separator rules in a letter's 版记


@pytest.mark.parametrize("name", ["long", *(f"opinion{n}" for n in OPINION_LENGTHS)])
def test_no_page_ends_with_a_heading_or_early(docs, name):
    pages = _pages(docs[name][0])
    for number, page in enumerate(pages[:-1], start=1):
        lines = _text_lines(page)
        last = lines[-1]
        assert not HEADING.match(last["text"]) and not last["text"].endswith("如下："), (number, last["text"])
        right = TYPE_AREA["right"] if number % 2 else 210 - 28
        mid_paragraph = last["x1"] >= right - 16 / MM - 0.5 and last["x0"] < 40  # a full line of body text
        if mid_paragraph:  # a page that breaks a paragraph is filled to its last line
            # within one line (plus the descent below the glyphs; page 1's letterhead shifts the grid)
            assert TYPE_AREA["bottom"] - last["bottom"] <= LINE + 2.5, (number, last["text"])


def test_a_table_never_starts_with_its_first_row_alone_at_a_page_foot(docs):
    for name in ("letter3", *(f"opinion{n}" for n in OPINION_LENGTHS)):
        pages = _pages(docs[name][0])
        for page in pages[:-1]:
            lines = _text_lines(page)
            header = [i for i, line in enumerate(lines) if line["text"].startswith("序号")]
            if header:
                assert len(lines) - header[-1] - 1 >= 2, name  # the header and at least two rows together


def test_every_font_is_embedded(docs):
    for pdf, _data in docs.values():
        for page in PdfReader(io.BytesIO(pdf)).pages:
            for font in page["/Resources"]["/Font"].values():
                font = font.get_object()
                descendants = font.get("/DescendantFonts")
                descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
                assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]


def test_a_fangsong_face_wins_for_the_body_when_installed():
    from casework.notices import fonts

    body = [name.strip('"') for name in fonts.body_chain().split(", ")]
    assert body.index("仿宋_GB2312") < body.index("FandolFang") < body.index(fonts.COMMON_FAMILY)
    assert body.index("FandolFang") < body.index("Noto Serif CJK SC")
    assert fonts.title_chain().startswith('"方正小标宋简体"') and fonts.heading_chain().startswith('"黑体"')
