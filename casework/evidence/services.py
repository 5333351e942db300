"""Evidence services: attach (checked, hashed, stored, audited), open (audited), verify."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select

from casework.access.rules import may_add_evidence
from casework.access.scope import may_see_referral
from casework.audit.models import AuditEvent
from casework.audit.services import record_event
from casework.db_types import database_id
from casework.errors import DomainError, NotAllowed, ValidationFailed
from casework.evidence import storage
from casework.evidence.detect import EXTENSIONS, detect_type, type_matches_extension
from casework.evidence.models import Evidence
from casework.extensions import db
from casework.targets.models import ReferralTarget
from casework.text import _

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


class EvidenceIntegrityError(DomainError):
    """A stored file no longer matches the hash recorded when it was attached."""

    status = 409


def max_evidence_bytes() -> int:
    return int(current_app.config.get("EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def _refused(errors: dict, actor, referral, filename: str) -> ValidationFailed:
    error = ValidationFailed(errors, _("The file was not accepted."))
    error.audit = {"event": "evidence.upload", "actor": actor, "obj": referral,
                   "payload": {"filename": filename, "errors": errors}}
    return error


def _clean_filename(name: str | None) -> str:
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[-255:]


def _size(count: int) -> str:
    return f"{count / 1048576:g} MB" if count >= 1048576 else f"{count} bytes"


def check_may_add_evidence(referral, actor, filename: str = "") -> None:
    """Refuse (``NotAllowed``, audited) unless ``actor`` may add evidence to ``referral``
    (``casework.access.rules.may_add_evidence``)."""
    if not may_add_evidence(actor, referral):
        raise NotAllowed(_("Only the referring department's intake officer adds evidence, while the referral "
                           "is open."), audit={"event": "evidence.upload", "actor": actor, "obj": referral,
                                               "payload": {"filename": filename}})


def attach_evidence(referral, file_storage, data: dict, actor) -> Evidence:
    """Attach an uploaded file to ``referral`` (optionally to one of its targets).

    ``file_storage``: a werkzeug ``FileStorage`` (or anything with ``filename`` and ``read``).
    ``data``: ``description`` (optional), ``target_id`` (optional, a target of this referral).
    The type detected from the bytes must match the file's extension; the size is limited by
    ``EVIDENCE_MAX_BYTES``. Refusals raise ``ValidationFailed({"file": ...})`` and are audited;
    an actor who may not add evidence to the referral (``may_add_evidence``) gets ``NotAllowed``.
    """
    filename = _clean_filename(getattr(file_storage, "filename", None))
    check_may_add_evidence(referral, actor, filename)
    errors: dict[str, str] = {}
    description = (data.get("description") or "").strip()
    if len(description) > 2000:
        errors["description"] = _("At most %(n)d characters.", n=2000)
    raw_target = str(data.get("target_id") or "").strip()
    target_id = database_id(raw_target)
    if raw_target and (target_id is None or db.session.scalar(select(ReferralTarget.id).where(
            ReferralTarget.referral_id == referral.id, ReferralTarget.target_id == target_id)) is None):
        errors["target_id"] = _("Not a target of this referral.")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    limit = max_evidence_bytes()
    content = file_storage.read(limit + 1) if file_storage is not None else b""
    if not filename or not content:
        errors["file"] = _("Choose a non-empty file.")
    elif extension not in EXTENSIONS:
        errors["file"] = _("Files of type .%(ext)s are not accepted (accepted: %(accepted)s).",
                           ext=extension or "?", accepted=", ".join(sorted(EXTENSIONS)))
    elif len(content) > limit:
        errors["file"] = _("The file is larger than the limit of %(size)s.", size=_size(limit))
    else:
        detected = detect_type(content)
        if detected is None or not type_matches_extension(detected, extension):
            errors["file"] = _("The content (%(detected)s) does not match the extension .%(ext)s.",
                               detected=detected or "?", ext=extension)
    if errors:
        raise _refused(errors, actor, referral, filename)
    sha256, key = storage.store_bytes(content)
    evidence = Evidence(
        referral_id=referral.id, target_id=target_id,
        original_filename=filename, content_type=detected, size=len(content), sha256=sha256,
        storage_key=key, description=description, uploaded_by_id=actor.id,
    )
    db.session.add(evidence)
    db.session.flush()
    record_event("evidence.upload", actor, evidence, payload={
        "referral_id": referral.id, "target_id": evidence.target_id, "filename": filename,
        "content_type": detected, "size": len(content), "sha256": sha256})
    return evidence


def open_evidence(evidence: Evidence, actor) -> BinaryIO:
    """Open the stored file for download after checking its hash; audits the download.

    Raises ``EvidenceIntegrityError`` (audited as a failed download) when the file is
    missing or modified.
    """
    if not may_see_referral(actor, evidence.referral_id):
        raise NotAllowed("not your referral")
    problem = check_stored(evidence)
    if problem:
        raise EvidenceIntegrityError(problem, audit={
            "event": "evidence.download", "actor": actor, "obj": evidence, "outcome": "tampered",
            "payload": {"referral_id": evidence.referral_id, "sha256": evidence.sha256}})
    record_event("evidence.download", actor, evidence,
                 payload={"referral_id": evidence.referral_id, "sha256": evidence.sha256})
    return storage.open_stored(evidence.storage_key)


def check_stored(evidence: Evidence) -> str | None:
    """None if the stored file still has the recorded hash; else what is wrong."""
    try:
        path = storage.path_for(evidence.storage_key)
    except ValueError:
        return "invalid storage key"
    if not path.is_file():
        return "file missing"
    if storage.file_sha256(path) != evidence.sha256:
        return "content does not match its SHA-256"
    return None


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _audited_hashes(ids: list[int]) -> dict[int, str]:
    rows = db.session.execute(select(AuditEvent.object_id, AuditEvent.payload).where(
        AuditEvent.event == "evidence.upload", AuditEvent.object_type == Evidence.audit_type,
        AuditEvent.outcome == "ok", AuditEvent.object_id.in_(ids)))
    return {object_id: (payload or {}).get("sha256") for object_id, payload in rows}


def verify_all_evidence(batch_size: int = 500) -> VerifyReport:
    """Recheck every stored file against its recorded SHA-256, and that hash against the one
    written to the (hash-chained) audit trail at upload, so a rewritten row is caught too."""
    report = VerifyReport()
    last_id = 0
    while True:
        batch = db.session.scalars(
            select(Evidence).where(Evidence.id > last_id).order_by(Evidence.id).limit(batch_size)
        ).all()
        if not batch:
            return report
        audited = _audited_hashes([e.id for e in batch])
        for evidence in batch:
            problem = check_stored(evidence)
            if problem is None and audited.get(evidence.id) != evidence.sha256:
                problem = "recorded SHA-256 differs from the audit trail"
            report.checked += 1
            if problem:
                report.problems.append((evidence.id, problem))
            last_id = evidence.id
        db.session.expunge_all()


def evidence_of(referral) -> list[Evidence]:
    return list(db.session.scalars(
        select(Evidence).where(Evidence.referral_id == referral.id).order_by(Evidence.id)))
