"""Bounded imports (issue 14, item 3): bombs and malformed CSV/XLSX files are refused with the row and
column named, before the work they would cause; nothing is imported."""
from __future__ import annotations

import io
import zipfile
from typing import Callable

import pytest
from werkzeug.datastructures import FileStorage

from casework.targets.bulk import ImportRejected, import_targets, validate_file
from casework.targets.sheets import Deadline
from tests.factories import make_referral

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
WORKBOOK = f'<workbook {NS} {RNS}><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
RELS = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet(rows: str) -> str:
    return f"<worksheet {NS}><sheetData>{rows}</sheetData></worksheet>"


HEADER_ROW = '<row r="1">' + inline("A1", "kind") + inline("B1", "name") + "</row>"
GOOD_ROW = '<row r="2">' + inline("A2", "other") + inline("B2", "某平台") + "</row>"


def workbook(parts: dict[str, object], workbook_xml: str = WORKBOOK) -> bytes:
    """An XLSX file; a part's value is text or an iterable of text chunks (streamed, for bombs)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/workbook.xml", workbook_xml)
        book.writestr("xl/_rels/workbook.xml.rels", RELS)
        for name, content in parts.items():
            if isinstance(content, str):
                book.writestr(name, content)
                continue
            with book.open(name, "w", force_zip64=True) as member:
                for chunk in content:
                    member.write(chunk.encode())
    return buffer.getvalue()


def two_million_cells_in_one_row():
    yield f'<worksheet {NS}><sheetData><row r="1">'
    for _ in range(200):
        yield '<c t="inlineStr"><is><t>kind</t></is></c>' * 10_000
    yield "</row></sheetData></worksheet>"


def one_cell_of(megabytes: int):
    yield f'<worksheet {NS}><sheetData>{HEADER_ROW}<row r="2"><c r="A2" t="inlineStr"><is><t>'
    for _ in range(megabytes):
        yield "a" * 1024 * 1024
    yield "</t></is></c></row></sheetData></worksheet>"


def shared_strings_bomb(count: int):
    yield f'<sst {NS} count="{count}">'
    for _ in range(count // 100_000):
        yield "<si><t>x</t></si>" * 100_000
    yield "</sst>"


def bomb_builders() -> dict[str, Callable[[], bytes]]:
    """The bombs of the issue (each small compressed, huge unpacked) and near-limit variants."""
    return {
        "two million cells in one row": lambda: workbook({
            "xl/worksheets/sheet1.xml": two_million_cells_in_one_row()}),
        "one 300 MB cell": lambda: workbook({"xl/worksheets/sheet1.xml": one_cell_of(300)}),
        "shared-strings bomb": lambda: workbook({"xl/worksheets/sheet1.xml": sheet(HEADER_ROW + GOOD_ROW),
                                                 "xl/sharedStrings.xml": shared_strings_bomb(20_000_000)}),
        "a million cells within the size limit": lambda: workbook({"xl/worksheets/sheet1.xml": (
            f'<worksheet {NS}><sheetData><row r="1">', "<c/>" * 1_000_000, "</row></sheetData></worksheet>")}),
        "300 KB cell within the size limit": lambda: workbook({"xl/worksheets/sheet1.xml": (
            f'<worksheet {NS}><sheetData>{HEADER_ROW}<row r="2">', inline("A2", "a" * 300_000),
            "</row></sheetData></worksheet>")}),
    }


def bombs() -> dict[str, bytes]:
    return {name: build() for name, build in bomb_builders().items()}


@pytest.fixture(scope="module")
def bomb_files():
    return bombs()


@pytest.mark.parametrize("name", ["two million cells in one row", "one 300 MB cell", "shared-strings bomb",
                                  "a million cells within the size limit", "300 KB cell within the size limit"])
def test_bombs_are_refused_with_a_clear_error(bomb_files, name):
    report = validate_file("bomb.xlsx", bomb_files[name])
    assert report.errors and not report.rows
    assert len(bomb_files[name]) < 1024 * 1024


def test_the_refusals_name_row_and_column(bomb_files):
    wide = validate_file("bomb.xlsx", bomb_files["a million cells within the size limit"]).errors[0]
    assert (wide.row, wide.field) == (1, "BM") and "64" in wide.message
    long_cell = validate_file("bomb.xlsx", bomb_files["300 KB cell within the size limit"]).errors[0]
    assert (long_cell.row, long_cell.field) == (2, "A (kind)") and "4096" in long_cell.message
    unpacked = validate_file("bomb.xlsx", bomb_files["one 300 MB cell"]).errors[0]
    assert unpacked.field == "file" and "MB" in unpacked.message


def test_a_good_hand_made_workbook_reads(db_session):
    report = validate_file("ok.xlsx", workbook({"xl/worksheets/sheet1.xml": sheet(HEADER_ROW + GOOD_ROW)}))
    assert not report.errors and report.rows == [{"kind": "other", "name": "某平台"}]


def test_shared_strings_and_their_index_out_of_range(db_session):
    strings = f'<sst {NS}><si><t>kind</t></si><si><r><t>na</t></r><r><t>me</t></r></si></sst>'
    rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
            '<row r="2">' + inline("A2", "other") + '<c r="B2" t="s"><v>7</v></c></row>')
    report = validate_file("s.xlsx", workbook({"xl/worksheets/sheet1.xml": sheet(rows),
                                               "xl/sharedStrings.xml": strings}))
    assert [(e.row, e.field) for e in report.errors] == [(2, "B (name)")]
    assert "7" in report.errors[0].message


@pytest.mark.parametrize("parts, workbook_xml, problem", [
    ({}, WORKBOOK, "xl/worksheets/sheet1.xml"),
    ({"xl/worksheets/sheet1.xml": sheet(HEADER_ROW)}, f"<workbook {NS}><sheets/></workbook>", "worksheet"),
    ({"xl/worksheets/sheet1.xml": f"<worksheet {NS}><sheetData><row><c>"}, WORKBOOK, "line 1"),
    ({"xl/worksheets/sheet1.xml": sheet(HEADER_ROW) + "<junk"}, WORKBOOK, "line 1"),
    ({"xl/worksheets/sheet1.xml": '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                                  + sheet('<row r="1">' + inline("A1", "&b;") + "</row>")}, WORKBOOK, "document type"),
])
def test_missing_sheet_and_broken_xml_are_reported(db_session, parts, workbook_xml, problem):
    report = validate_file("bad.xlsx", workbook(parts, workbook_xml))
    assert len(report.errors) == 1 and problem in report.errors[0].message


def test_a_control_character_in_a_cell_names_row_and_column(db_session):
    report = validate_file("c.csv", "kind,name\r\nother,坏\x01名\r\n".encode())
    assert [(e.row, e.field) for e in report.errors] == [(2, "B (name)")]


def test_csv_field_over_the_csv_limit_and_over_the_cell_limit(db_session):
    huge = validate_file("h.csv", ("kind,name\r\nother," + "a" * 200_000 + "\r\n").encode())
    assert [(e.row, e.field) for e in huge.errors] == [(2, "row")] and "131072" in huge.errors[0].message
    long = validate_file("l.csv", ("kind,name\r\nother," + "a" * 5000 + "\r\n").encode())
    assert [(e.row, e.field) for e in long.errors] == [(2, "B (name)")]


def test_bare_carriage_returns_end_lines(db_session):
    report = validate_file("mac.csv", "kind,name\rother,某平台\rother,另一平台\r".encode())
    assert not report.errors and [r["name"] for r in report.rows] == ["某平台", "另一平台"]


def test_blank_rows_keep_the_row_numbers(db_session):
    report = validate_file("gaps.csv", "kind,name\r\n\r\n,,\r\nother,\r\n".encode())
    assert [e.row for e in report.errors] == [4]


def test_a_wide_header_is_checked_in_linear_time(db_session):
    report = validate_file("wide.csv", (",".join(["name"] * 64) + "\r\nx\r\n").encode())
    assert report.errors and "name" in report.errors[0].message


def test_the_time_budget_refuses_the_file(db_session):
    lines = "kind,name\r\n" + "".join(f"other,平台{n}\r\n" for n in range(1500))
    report = validate_file("slow.csv", lines.encode(), Deadline(-1))
    assert len(report.errors) == 1 and "seconds" in report.errors[0].message and not report.rows


def test_the_import_page_answers_400_naming_the_row(db_session, user, login_as, bomb_files):
    referral = make_referral(user("edu-44.intake_officer"), targets=[])
    client = login_as("edu-44.intake_officer")
    response = client.post(f"/referrals/{referral.id}/targets/import", data={
        "file": (io.BytesIO("kind,name\r\nother,坏\x01名\r\n".encode()), "t.csv")})
    assert response.status_code == 400
    with pytest.raises(ImportRejected):
        import_targets(referral, FileStorage(io.BytesIO(bomb_files["shared-strings bomb"]), "b.xlsx"),
                       user("edu-44.intake_officer"))


def test_a_web_address_whose_key_overflows_its_column_is_a_field_error(db_session):
    report = validate_file("long.csv", ("kind,url\r\nwebsite,https://long.example.cn/" + "a" * 600 + "\r\n").encode())
    assert [(e.row, e.field) for e in report.errors] == [(2, "url")] and "512" in report.errors[0].message
