"""Notices read back from their PDFs: text, fonts, page size, margins, number, PDF/A, embedded JSON."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import io
import json
import re
import subprocess
from dataclasses import dataclass

import pytest
from pypdf import PdfReader

from tests.conftest import rolled_back_session
from tests.factories import RARE_NAME, assignment_row, find_user, referral_row

YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year

MM = 72 / 25.4
NUMBER = re.compile(rf"^\S+〔{YEAR}〕[1-9]\d*号$")
LONG_REASON = "请补充网站截图、支付记录和学生证言。" * 80


@dataclass
class Issued:
    pdf: bytes
    number: str
    code: str
    sha256: str
    pages: int


def _issue_in_rolled_back_transaction(app):
    from casework.notices.services import issue_notice

    with rolled_back_session(app):
        referral = referral_row()
        letter = issue_notice("referral_letter", assignment_row(referral, "ca-44"),
                              find_user("edu-44.assessor"), {})
        long = issue_notice("return_notice", assignment_row(referral, "psb-44", state="returned"),
                            find_user("psb-44.case_officer"), {"reason": LONG_REASON})
        return {name: Issued(n.pdf, n.document_number, n.verification_code, n.sha256, n.page_count)
                for name, n in (("letter", letter), ("long", long))}


@pytest.fixture(scope="module")
def issued(app):
    return _issue_in_rolled_back_transaction(app)


@pytest.fixture(scope="module")
def lines(issued, tmp_path_factory):
    """{name: [[(x0, y0, x1, y1, text) per line, in mm] per page]} from pdftotext -bbox-layout."""
    found = {}
    for name, doc in issued.items():
        path = tmp_path_factory.mktemp("pdf") / f"{name}.pdf"
        path.write_bytes(doc.pdf)
        html = subprocess.run(["pdftotext", "-bbox-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        pages = []
        for page in html.split("<page ")[1:]:
            rows = []
            for m in re.finditer(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>',
                                 page, re.S):
                text = "".join(re.findall(r">([^<]*)</word>", m.group(5)))
                rows.append((*(float(m.group(i)) / MM for i in range(1, 5)), text))
            pages.append(rows)
        found[name] = pages
    return found


def reader(doc: Issued) -> PdfReader:
    return PdfReader(io.BytesIO(doc.pdf))


def test_text_contains_number_title_and_rare_characters(issued):
    text = re.sub(r"\s", "", "".join(page.extract_text() for page in reader(issued["letter"]).pages))
    assert issued["letter"].number in text
    assert "关于移送" in text and "广东省通信管理局" in text
    assert RARE_NAME in text  # 𠮷 and 䶮 are drawn by a fallback font, not missing-glyph boxes
    assert issued["letter"].code in text


def test_number_format(issued):
    for doc in issued.values():
        assert NUMBER.match(doc.number), doc.number
    assert issued["letter"].number.startswith(f"粤教高函〔{YEAR}〕")
    assert issued["long"].number.startswith(f"粤公网安函〔{YEAR}〕")


def test_every_font_is_embedded(issued):
    for doc in issued.values():
        names = set()
        for page in reader(doc).pages:
            for font in page["/Resources"]["/Font"].values():
                font = font.get_object()
                descendants = font.get("/DescendantFonts")
                descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
                assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
                names.add(str(font["/BaseFont"]))
        assert any("Casework-Serif-Common" in name or "CJK" in name for name in names), names


def test_pages_are_a4(issued):
    for doc in issued.values():
        for page in reader(doc).pages:
            assert abs(float(page.mediabox.width) - 210 * MM) < 0.5
            assert abs(float(page.mediabox.height) - 297 * MM) < 0.5


def _body_lines(page):
    return [row for row in page if len(row[4]) >= 20]


def test_margins_within_one_millimetre(lines):
    first, second = lines["long"][0], lines["long"][1]
    assert abs(min(r[0] for r in _body_lines(first)) - 28) <= 1  # binding margin, odd page
    assert abs(max(r[2] for r in _body_lines(first)) - (210 - 26)) <= 1
    assert abs(min(r[0] for r in _body_lines(second)) - 26) <= 1  # mirrored on the even page
    assert abs(max(r[2] for r in _body_lines(second)) - (210 - 28)) <= 1
    pitch = 28.95 / MM
    top_line = min(_body_lines(second), key=lambda r: r[1])
    assert abs((top_line[1] + top_line[3]) / 2 - pitch / 2 - 37) <= 1
    mark = first[0]
    assert mark[4] == "广东省公安厅"
    mark_height = (mark[3] - mark[1]) / 1.448  # Noto CJK: ascent + descent = 1.448 em; line-height is 1 em
    assert abs((mark[1] + mark[3]) / 2 - mark_height / 2 - 30) <= 1


def test_type_area_is_22_lines_of_28_characters(lines):
    full_page = lines["long"][1]
    body = [r for r in full_page if 37 - 1 <= r[1] and r[3] <= 297 - 35 + 1]
    assert len(body) == 22
    assert all(len(r[4]) == 28 for r in body if "。" not in r[4][-1:] and len(r[4]) > 20)


def test_number_flush_right_and_page_numbers(lines):
    number = next(r for r in lines["letter"][0] if f"〔{YEAR}〕" in r[4])
    assert abs(number[2] - (210 - 26)) <= 1
    assert not any(re.fullmatch(r"—\d+—", r[4]) for r in lines["long"][0])  # none on page 1
    even = next(r for r in lines["long"][1] if re.fullmatch(r"—\d+—", r[4]))
    odd = next(r for r in lines["long"][2] if re.fullmatch(r"—\d+—", r[4]))
    assert even[4] == "—2—" and even[0] < 105  # even page: left
    assert odd[4] == "—3—" and odd[2] > 105  # odd page: right


def test_pdfa_3b_identification_in_xmp(issued):
    for doc in issued.values():
        xmp = reader(doc).trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
        assert re.search(r"pdfaid:part(=\"|>)3", xmp), xmp[:400]
        assert re.search(r"pdfaid:conformance(=\"|>)B", xmp)


def test_structured_data_is_embedded_as_json(issued):
    pdf = reader(issued["letter"])
    associated = pdf.trailer["/Root"]["/AF"]
    assert len(associated) == 1 and associated[0].get_object()["/AFRelationship"] == "/Data"
    attachments = pdf.attachments
    assert list(attachments) == ["notice.json"]
    data = json.loads(attachments["notice.json"][0])
    assert data["document_number"] == issued["letter"].number
    assert data["kind"] == "referral_letter"
    assert data["issuer"]["name"] == "广东省教育厅" and data["recipient"]["name"] == "广东省通信管理局"
    assert [t["operator"] for t in data["targets"]][0] == RARE_NAME
    assert data["verification_code"] == issued["letter"].code


def test_a_letter_without_copies_has_no_imprint(lines):
    """信函格式 (GB/T 9704 §10.1): no 印发机关/印发日期 line; the 版记 carries 抄送 only (see test_notices_layout)."""
    assert all("印发" not in r[4] and "抄送" not in r[4] for doc in lines.values() for page in doc for r in page)


def _red_rows_mm(pdf: bytes, tmp_path) -> list[float]:
    from PIL import Image

    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    width, height = image.size
    rows = []
    for y in range(height):
        pixels = [image.getpixel((x, y)) for x in range(int(width * 0.12), int(width * 0.88), 20)]
        if all(r > 200 and g < 120 and b < 120 for r, g, b in pixels):  # a red line across 170 mm
            rows.append(y / 100 * 25.4)
    return rows


def test_red_double_rules_under_the_mark_and_20mm_above_the_bottom_edge(issued, tmp_path):
    rows = _red_rows_mm(issued["letter"].pdf, tmp_path)
    top = [y for y in rows if y < 60]
    bottom = [y for y in rows if y > 250]
    assert top and 40 < min(top) < 50 and max(top) - min(top) < 2.5
    assert bottom and abs(max(bottom) - (297 - 20)) <= 1


def test_the_signature_never_stands_alone_on_the_last_page(lines, issued):
    assert issued["long"].pages >= 2
    last_page = "".join(text for *_box, text in lines["long"][-1])
    assert "请补充完整后重新移送" in last_page and "广东省公安厅" in last_page


def test_a_table_ending_the_body_moves_with_the_signature(app):
    """An opinion whose targets table ends a page: the signature takes the last row along (no page of its own)."""
    from casework.notices.services import issue_notice

    with rolled_back_session(app):
        referral = referral_row()
        referral.state = "approved"
        referral.assessment.opinion = "经研判，该服务提供有偿代刷网课。" * 38
        opinion = issue_notice("assessment_opinion", referral, find_user("edu-44.approver"), {})
        pages = PdfReader(io.BytesIO(opinion.pdf)).pages
    assert len(pages) >= 2
    assert not pages[-1].extract_text().lstrip().startswith(("核验码", "广东省教育厅"))
