"""Evidence: type detected from bytes must match the extension, size limit, content-addressed storage,
attachment-only downloads within the scope, audit of upload and download, and verification."""
from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from casework.assignments.models import Assignment
from casework.audit.models import AuditEvent
from casework.errors import ValidationFailed
from casework.evidence import storage
from casework.evidence.detect import detect_type
from casework.evidence.models import Evidence, EvidenceImmutable
from casework.evidence.services import attach_evidence, verify_all_evidence
from casework.extensions import db
from tests.factories import make_referral

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 16
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 16
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 16
HAR = json.dumps({"log": {"version": "1.2", "entries": [{"request": {"url": "https://shuake.cn/"}}]}}).encode()
TEXT_UTF8 = "代刷网课，包过，联系微信。\n".encode("utf-8")
TEXT_BOM = b"\xef\xbb\xbf" + TEXT_UTF8
TEXT_GBK = "代刷网课，包过，联系微信。\n".encode("gbk")


def upload(name: str, data: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


@pytest.fixture
def referral(db_session, user, agency):
    made = make_referral(user("edu-44.intake_officer"))
    db.session.add(Assignment(referral=made, agency=agency("psb-44"), state="sent"))
    db.session.flush()
    return made


@pytest.mark.parametrize("name,data,expected", [
    ("a.png", PNG, "image/png"), ("a.JPG", JPEG, "image/jpeg"), ("a.jpeg", JPEG, "image/jpeg"),
    ("a.gif", GIF, "image/gif"), ("a.webp", WEBP, "image/webp"), ("a.pdf", PDF, "application/pdf"),
    ("a.mp4", MP4, "video/mp4"), ("a.mov", MOV, "video/quicktime"), ("a.webm", WEBM, "video/webm"),
    ("capture.har", HAR, "application/har+json"), ("a.txt", TEXT_UTF8, "text/plain; charset=utf-8"),
    ("a.txt", TEXT_BOM, "text/plain; charset=utf-8"), ("a.txt", TEXT_GBK, "text/plain; charset=gbk"),
])
def test_accepted_types(referral, user, name, data, expected):
    evidence = attach_evidence(referral, upload(name, data), {}, user("edu-44.intake_officer"))
    assert evidence.content_type == expected
    assert evidence.size == len(data)
    assert storage.path_for(evidence.storage_key).read_bytes() == data


@pytest.mark.parametrize("name,data", [
    ("screenshot.pdf", PNG), ("report.png", PDF), ("video.mp4", MOV), ("clip.mov", MP4),
    ("notes.txt", HAR), ("capture.har", b'{"log": {"pages": []}}'), ("page.txt", b"<!DOCTYPE html><script>x</script>"),
    ("page.html", b"<html></html>"), ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ("tool.exe", b"MZ\x90\x00"), ("noext", PNG), ("binary.txt", b"\x00\x01\x02\x03"),
    ("empty.png", b""), ("a.webm", b"\x1a\x45\xdf\xa3matroska"),
    ("photo.mp4", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 8),
])
def test_spoofed_or_unaccepted_files_are_refused(referral, user, name, data):
    with pytest.raises(ValidationFailed) as caught:
        attach_evidence(referral, upload(name, data), {}, user("edu-44.intake_officer"))
    assert "file" in caught.value.errors
    assert db.session.scalar(select(Evidence).where(Evidence.referral_id == referral.id)) is None


def test_oversized_files_are_refused(app, referral, user, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 1024)
    actor = user("edu-44.intake_officer")
    attach_evidence(referral, upload("ok.txt", b"a" * 1024), {}, actor)
    with pytest.raises(ValidationFailed) as caught:
        attach_evidence(referral, upload("big.txt", b"a" * 1025), {}, actor)
    assert "larger than" in caught.value.errors["file"]


def test_storage_is_content_addressed_outside_the_web_root(app, referral, user):
    data = PNG + uuid.uuid4().bytes
    evidence = attach_evidence(referral, upload("../../etc/passwd.png", data), {"description": "首页截图"},
                               user("edu-44.intake_officer"))
    path = storage.path_for(evidence.storage_key)
    assert path.name == evidence.sha256 and evidence.original_filename == "passwd.png"
    root = Path(app.config["EVIDENCE_DIR"]).resolve()
    assert root in path.resolve().parents
    static = Path(app.static_folder).resolve()
    assert static not in path.resolve().parents
    again = attach_evidence(referral, upload("again.png", data), {}, user("edu-44.intake_officer"))
    assert again.storage_key == evidence.storage_key
    assert not list(path.parent.glob(".upload-*"))


def test_evidence_is_immutable(referral, user):
    evidence = attach_evidence(referral, upload("a.pdf", PDF), {}, user("edu-44.intake_officer"))
    evidence.description = "changed"
    with pytest.raises(EvidenceImmutable):
        db.session.flush()
    db.session.rollback()


def test_target_must_belong_to_the_referral(referral, user):
    other = make_referral(user("edu-44.intake_officer"))
    actor = user("edu-44.intake_officer")
    with pytest.raises(ValidationFailed) as caught:
        attach_evidence(referral, upload("a.pdf", PDF), {"target_id": other.targets[0].id}, actor)
    assert "target_id" in caught.value.errors
    linked = attach_evidence(referral, upload("a.pdf", PDF), {"target_id": str(referral.targets[0].id)}, actor)
    assert linked.target_id == referral.targets[0].id


def test_upload_form_and_refusal_are_audited(referral, login_as):
    client = login_as("edu-44.intake_officer")
    ok = client.post(f"/referrals/{referral.id}/evidence", data={"file": (io.BytesIO(PNG), "shot.png")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    bad = client.post(f"/referrals/{referral.id}/evidence", data={"file": (io.BytesIO(PNG), "shot.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 400 and "image/png" in bad.get_data(as_text=True)
    outcomes = db.session.scalars(select(AuditEvent.outcome).where(AuditEvent.event == "evidence.upload")
                                  .order_by(AuditEvent.seq.desc()).limit(2)).all()
    assert outcomes == ["refused", "ok"]


def test_download_is_an_attachment_within_the_scope_and_audited(referral, user, login_as):
    evidence = attach_evidence(referral, upload("page.txt", b"<b>not html to a browser</b>"), {},
                               user("edu-44.intake_officer"))
    client = login_as("psb-44.case_officer")
    response = client.get(f"/evidence/{evidence.id}/download")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "text/plain"
    assert response.data == b"<b>not html to a browser</b>"
    downloads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.event == "evidence.download", AuditEvent.object_id == evidence.id)).all()
    assert [d.actor_name for d in downloads] == ["psb-44.case_officer"]
    for outsider in ("psb-11.case_officer", "edu-11.intake_officer", "cac-44.case_officer"):
        assert login_as(outsider).get(f"/evidence/{evidence.id}/download").status_code == 404
        assert login_as(outsider).get(f"/referrals/{referral.id}/evidence").status_code == 404
    assert client.get("/evidence/999999/download").status_code == 404


def test_download_keeps_a_chinese_file_name(referral, user, login_as):
    evidence = attach_evidence(referral, upload("首页截图.png", PNG), {}, user("edu-44.intake_officer"))
    response = login_as("edu-44.intake_officer").get(f"/evidence/{evidence.id}/download")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''%E9%A6%96%E9%A1%B5" in disposition
    assert response.mimetype == "image/png"


def test_verify_detects_a_modified_file_and_download_refuses_it(app, referral, user, login_as):
    from tests.test_cli import run_cli

    actor = user("edu-44.intake_officer")
    evidence = attach_evidence(referral, upload("a.txt", f"证据 {uuid.uuid4()}".encode()), {}, actor)
    assert verify_all_evidence().ok
    assert run_cli(app, "evidence", "verify").exit_code == 0
    path = storage.path_for(evidence.storage_key)
    path.chmod(0o600)
    path.write_bytes(b"tampered")
    report = verify_all_evidence()
    assert report.problems == [(evidence.id, "content does not match its SHA-256")]
    result = run_cli(app, "evidence", "verify")
    assert result.exit_code == 1 and f"evidence {evidence.id}" in result.output
    assert login_as("edu-44.intake_officer").get(f"/evidence/{evidence.id}/download").status_code == 409
    failures = db.session.scalars(select(AuditEvent.outcome).where(
        AuditEvent.event == "evidence.download", AuditEvent.object_id == evidence.id)).all()
    assert failures == ["tampered"]
    path.unlink()
    assert verify_all_evidence().problems == [(evidence.id, "file missing")]


def test_verify_detects_a_rewritten_row(referral, user):
    from sqlalchemy import update

    original = f"原件 {uuid.uuid4()}".encode()
    first = attach_evidence(referral, upload("a.txt", original), {}, user("edu-44.intake_officer"))
    forged_bytes = f"伪造 {uuid.uuid4()}".encode()
    sha256, key = storage.store_bytes(forged_bytes)
    db.session.execute(update(Evidence).where(Evidence.id == first.id).values(sha256=sha256, storage_key=key))
    db.session.expire_all()
    assert verify_all_evidence().problems == [(first.id, "recorded SHA-256 differs from the audit trail")]


def test_detection_does_not_trust_the_name():
    assert detect_type(PNG) == "image/png"
    assert detect_type(b"\x00\x00\x00\x00") is None
    assert detect_type("<HTML><body>".encode()) is None
