"""Exports worth opening: the XLSX has real date cells, an autofilter, a frozen header and a sheet of
targets and actions; the CSV starts with a BOM; the filename names the desk and the day; the
case-file ZIP carries the evidence files with their SHA-256."""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import datetime
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from werkzeug.datastructures import FileStorage

from casework.evidence.services import attach_evidence
from casework.extensions import db
from tests.factories import assignment_row, disposition_row, find_user, referral_row
from tests.sql_count import counted_statements


def _referrals(count: int):
    made = []
    for n in range(count):
        referral = referral_row("edu-44", title="=HYPERLINK(\"x\")" if n == 0 else None)
        referral.owner = find_user("edu-44.assessor")
        assignment = assignment_row(referral, "cac-44", state="disposing")
        assignment.owner = find_user("cac-44.case_officer")
        disposition_row(assignment, "cac-44.case_officer")
        made.append(referral)
    db.session.commit()
    return made


def test_xlsx_has_real_dates_filters_a_frozen_header_and_a_sheet_of_actions(db_session, login_as):
    made = _referrals(2)
    response = login_as("edu-44.assessor").get("/search/export.xlsx")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert 'filename="referrals_' in disposition
    full_name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert re.fullmatch(r"线索导出_广东省教育厅_20\d{6}\.xlsx", full_name)
    book = load_workbook(io.BytesIO(response.data))
    referrals, actions = book.worksheets
    header = [c.value for c in referrals[1]]
    assert header[:3] == ["编号", "标题", "状态"]
    assert referrals.freeze_panes == "A2" and actions.freeze_panes == "A2"
    assert referrals.auto_filter.ref == f"A1:{referrals.cell(1, len(header)).column_letter}3"
    assert actions.auto_filter.ref.startswith("A1:")
    assert referrals.column_dimensions["B"].width == 40
    rows = {r[0]: r for r in referrals.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {r.number for r in made}
    first = rows[made[0].number]
    assert isinstance(first[5], datetime) and isinstance(first[6] or first[5], datetime)
    assert first[1].startswith("'=")
    assert first[header.index("负责人")] == find_user("edu-44.assessor").display_name
    assert first[header.index("研判结论")] and first[header.index("严重程度")]
    action_rows = list(actions.iter_rows(min_row=2, values_only=True))
    assert len(action_rows) == 4  # two targets with one action each, per referral
    assert all(isinstance(r[-1], datetime) for r in action_rows)
    assert all(r[5] for r in action_rows)
    assert {r[7] for r in action_rows} == {find_user("cac-44.case_officer").display_name}


def test_csv_starts_with_a_bom_and_names_the_desk(db_session, login_as):
    _referrals(1)
    response = login_as("edu-44.assessor").get("/search/export.csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1]).endswith(".csv")


def test_export_loads_in_a_fixed_number_of_statements(db_session, login_as):
    client = login_as("edu-44.assessor")
    _referrals(1)
    client.get("/search/export.xlsx")
    with counted_statements() as few:
        client.get("/search/export.xlsx")
    _referrals(4)
    with counted_statements() as many:
        client.get("/search/export.xlsx")
    assert len(many) == len(few)


@pytest.fixture
def cache_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DOSSIER_CACHE_DIR", str(tmp_path / "cache"))


def test_the_case_file_zip_carries_the_evidence_with_its_hash(db_session, login_as, cache_dir):
    referral = referral_row("edu-44")
    data = "代刷网课，包过，联系微信。\n".encode("utf-8")
    attach_evidence(referral, FileStorage(stream=io.BytesIO(data), filename="聊天记录.txt"), {},
                    find_user("edu-44.intake_officer"))
    db.session.commit()
    response = login_as("edu-44.assessor").get(f"/referrals/{referral.id}/dossier.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(archive.read("manifest.json"))
    [entry] = manifest["evidence"]
    assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["sha256_verified"] is True
    assert entry["original_filename"] == "聊天记录.txt"
    assert archive.read(entry["file"]) == data


def test_the_zip_is_not_served_outside_the_referrals_scope(db_session, login_as, cache_dir):
    referral = referral_row("edu-44")
    db.session.commit()
    assert login_as("edu-11.assessor").get(f"/referrals/{referral.id}/dossier.zip").status_code == 404
