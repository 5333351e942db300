"""Downloads through the agency scope, public verification by code and by upload, dossier export."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casework.extensions import db
from casework.notices.models import Notice
from casework.notices.services import issue_notice
from tests.factories import assignment_row, find_user, referral_row


@pytest.fixture
def receipt(db_session):
    referral = referral_row("edu-44")
    letter = issue_notice("referral_letter", assignment_row(referral, "cac-44"), find_user("edu-44.assessor"))
    assignment = letter.assignment
    assignment.state = "received"
    notice = issue_notice("receipt", assignment, find_user("cac-44.case_officer"))
    assignment_row(referral, "psb-44")  # another agency on the same referral
    db.session.commit()
    return notice


def test_two_downloads_are_byte_identical_attachments(receipt, login_as):
    client = login_as("edu-44.intake_officer")
    first = client.get(f"/notices/{receipt.id}.pdf")
    second = client.get(f"/notices/{receipt.id}.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data == receipt.pdf
    assert hashlib.sha256(first.data).hexdigest() == receipt.sha256
    assert first.headers["Content-Type"] == "application/pdf"
    assert first.headers["Content-Disposition"].startswith("attachment;")
    assert first.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("username,status", [
    ("cac-44.case_officer", 200),   # issuer
    ("moe.intake_officer", 200),    # supervising education department
    ("edu-11.intake_officer", 404),  # another province
    ("psb-44.case_officer", 404),   # holds the referral, but the receipt is not theirs
    ("cac-11.case_officer", 404),
])
def test_download_follows_the_agency_scope(receipt, login_as, username, status):
    assert login_as(username).get(f"/notices/{receipt.id}.pdf").status_code == status


@pytest.mark.parametrize("username,status", [
    ("cac-44.case_officer", 200),   # received the referral letter that carries it
    ("psb-44.case_officer", 200),   # holds an assignment on the referral
    ("cac-11.case_officer", 404),   # no part in the referral
])
def test_the_assessment_opinion_is_read_by_every_agency_the_referral_went_to(db_session, login_as, username, status):
    referral = referral_row("edu-44")
    referral.state = "approved"
    opinion = issue_notice("assessment_opinion", referral, find_user("edu-44.approver"))
    assignment_row(referral, "cac-44")
    assignment_row(referral, "psb-44")
    db.session.commit()
    client = login_as(username)
    assert client.get(f"/notices/{opinion.id}.pdf").status_code == status
    if status == 200:
        page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
        assert f"/notices/{opinion.id}.pdf" in page


def test_download_needs_login(receipt, client):
    assert client.get(f"/notices/{receipt.id}.pdf").status_code in (302, 401)


def test_verify_by_code_shows_only_number_issuer_date_and_hash(receipt, client):
    page = client.get(f"/verify/{receipt.verification_code.lower()}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert receipt.document_number in text and receipt.sha256 in text and "广东省互联网信息办公室" in text
    assert receipt.referral.title not in text and receipt.referral.number not in text
    assert client.get("/verify/ZZZZZ-ZZZZZ").status_code == 404
    assert client.get("/verify/not-a-code").status_code == 404
    as_json = client.get(f"/verify/{receipt.verification_code}", headers={"Accept": "application/json"}).get_json()
    assert as_json == {"document_number": receipt.document_number, "issuer": "广东省互联网信息办公室",
                       "date": as_json["date"], "sha256": receipt.sha256, "superseded": False}


def _upload(client, body: bytes, name: str = "notice.pdf"):
    return client.post("/verify", data={"file": (io.BytesIO(body), name)}, content_type="multipart/form-data")


def test_uploaded_original_verifies_and_one_changed_byte_fails(receipt, client):
    ok = _upload(client, receipt.pdf)
    assert ok.status_code == 200 and receipt.document_number in ok.get_data(as_text=True)
    tampered = bytearray(receipt.pdf)
    middle = len(tampered) // 2
    tampered[middle] = (tampered[middle] + 1) % 256
    bad = _upload(client, bytes(tampered))
    assert bad.status_code == 404
    assert receipt.document_number not in bad.get_data(as_text=True)


def test_upload_that_is_not_a_pdf_or_too_large_is_refused(receipt, client, app):
    not_pdf = _upload(client, b"<html><script>alert(1)</script></html>", "notice.pdf")
    assert not_pdf.status_code == 400 and "该文件不是 PDF。" in not_pdf.get_data(as_text=True)
    assert _upload(client, b"").status_code == 400
    app.config["NOTICE_VERIFY_MAX_BYTES"] = 1024
    try:
        too_big = _upload(client, receipt.pdf)
    finally:
        app.config.pop("NOTICE_VERIFY_MAX_BYTES")
    assert too_big.status_code == 400 and "文件超过 1.0 KB。" in too_big.get_data(as_text=True)


def test_dossier_as_pdf_and_zip(receipt, login_as):
    client = login_as("edu-44.intake_officer")
    pdf = client.get(f"/referrals/{receipt.referral_id}/dossier.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(pdf.data))
    letter = db.session.scalar(select(Notice).where(Notice.referral_id == receipt.referral_id,
                                                    Notice.kind == "referral_letter"))
    assert len(reader.pages) == 1 + letter.page_count + receipt.page_count
    assert "案卷目录" in reader.pages[0].extract_text()
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/referrals/{receipt.referral_id}/dossier.zip").data))
    manifest = json.loads(archive.read("manifest.json"))
    assert [n["kind"] for n in manifest["notices"]] == ["referral_letter", "receipt"]
    stored = {n["file"]: n["sha256"] for n in manifest["notices"]}
    for name, digest in stored.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    assert login_as("edu-11.intake_officer").get(f"/referrals/{receipt.referral_id}/dossier.zip").status_code == 404


def test_dossier_cli(receipt, app, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "dossier.zip"
    result = runner.invoke(args=["notices", "dossier", receipt.referral.number, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 notices" in result.output and zipfile.is_zipfile(out)
    bad = runner.invoke(args=["notices", "dossier", receipt.referral.number, "--out", str(tmp_path / "x.doc")])
    assert bad.exit_code != 0 and "must end in .pdf or .zip" in bad.output
    missing = runner.invoke(args=["notices", "dossier", "XS0000-000000", "--out", str(out)])
    assert missing.exit_code != 0 and "no referral numbered" in missing.output


def test_an_approver_of_the_issuer_corrects_through_the_web(receipt, login_as):
    refusal_subject = receipt.assignment
    refusal_subject.state = "declined"
    refusal = issue_notice("refusal_notice", refusal_subject, find_user("cac-44.case_officer"), {"reason": "不属管辖"})
    db.session.commit()
    assert login_as("cac-44.case_officer").get(f"/notices/{refusal.id}/correct").status_code == 403
    assert login_as("edu-44.approver").get(f"/notices/{refusal.id}/correct").status_code == 403
    approver = login_as("cac-44.approver")
    form = approver.get(f"/notices/{refusal.id}/correct")
    assert form.status_code == 200 and "不属管辖" in form.get_data(as_text=True)
    too_long = approver.post(f"/notices/{refusal.id}/correct", data={"reason": "长" * 1501, "correction_note": "x"})
    assert too_long.status_code == 400 and refusal.superseded_by is None
    done = approver.post(f"/notices/{refusal.id}/correct",
                         data={"reason": "该网站不属于本部门管辖。", "correction_note": "补充理由"})
    assert done.status_code == 302
    db.session.expire_all()
    corrected = refusal.superseded_by
    assert corrected is not None and corrected.serial == refusal.serial + 1
    text = "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(corrected.pdf)).pages)
    assert f"本文更正并取代{refusal.document_number}" in text and "该网站不属于本部门管辖" in text
    assert approver.get(f"/notices/{refusal.id}/correct").status_code == 403  # already superseded
