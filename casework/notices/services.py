"""Issuing notices: validate, number, render, hash and store, all in the caller's transaction.

The only lock a notice takes of its own is its series counter's row (issuer, series, year); the
PDF is rendered before the commit seals the audit chain, so other agencies' steps never wait on it.
"""
from __future__ import annotations

import hashlib
import json
import secrets

from flask import current_app
from sqlalchemy import select

from casework.agencies.models import Agency
from casework.assignments.models import Assignment
from casework.audit.services import record_event
from casework.db_types import database_id, utcnow
from casework.errors import DomainError, NotAllowed, ValidationFailed
from casework.extensions import db
from casework.notices import content as builders
from casework.notices.content import title_lines as balanced_lines
from casework.notices.fonts import missing_characters
from casework.notices.kinds import KINDS, final_states, producing_states
from casework.notices.models import Notice
from casework.notices.numbering import take_number
from casework.notices.render import local_date, qr_data_uri, render_notice
from casework.notices.seal import seal_data_uri, seal_image, seal_record
from casework.referrals.models import Referral
from casework.workflow.lifecycles import lifecycle_for

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
TEXT_LIMITS = {"reason": 1500, "summary": 1500, "legal_basis": 800, "opinion": 2000, "material": 1500,
               "step": 40, "correction_note": 300}
CORRECTABLE_FIELDS = ("reason", "summary", "legal_basis", "opinion", "material")
TITLE_LIMIT = 60
TITLE_LINE_CHARS = 20  # 2号 (22 pt) characters across the 156 mm type area
ISSUER_MARK_LIMIT = 20
TARGET_FIELD_LIMIT = 300
JSON_SCHEMA = "casework.notice/1"


class NoticeRefused(DomainError):
    status = 422


def issue_notice(kind: str, subject, actor, data: dict | None = None) -> Notice:
    """Render, number, hash and store one notice inside the current transaction (flush, never commit).
    kind: referral_letter | assessment_opinion | receipt | return_notice | refusal_notice |
          disposition_decision | feedback_letter | reminder_letter | reconsideration_request
    subject: a Referral or an Assignment (casework.referrals.models / casework.assignments.models);
    the issuer is actor.agency (for reminder_letter issued by the sweep, actor may be None: then the
    issuer is the referral's origin agency or the supervising agency of the assignment).
    data: the transition's validated form data (reasons, legal basis, actions, outcomes ...).

    A referral_letter for a routed Referral is issued to every assignment still awaiting its
    letter; the first of them is returned."""
    data = dict(data or {})
    if kind not in KINDS:
        raise NoticeRefused(f"unknown notice kind {kind!r}")
    if kind == "referral_letter" and isinstance(subject, Referral):
        _check_state(kind, subject)
        pending = [a for a in subject.assignments if a.state == lifecycle_for(a).initial and not _has_letter(a)]
        if not pending:
            raise NoticeRefused("every assignment of this referral already has its referral letter")
        notices = [issue_notice(kind, assignment, actor, data) for assignment in pending]
        return notices[0]
    return _issue(kind, subject, actor, data)


def correct_notice(old: Notice, actor, data: dict | None = None) -> Notice:
    """Issue a corrected notice that supersedes ``old``; both stay, linked both ways.

    Only an approver of the issuing agency corrects; ``data`` overrides the original form fields."""
    if actor is None or actor.agency_id != old.issuer_agency_id or not actor.has_role("approver"):
        raise NotAllowed("only an approver of the issuing agency can correct its notice")
    if old.superseded_by is not None:
        raise NoticeRefused(f"{old.document_number} is already superseded by "
                            f"{old.superseded_by.document_number}")
    subject = old.assignment if old.assignment_id is not None else old.referral
    merged = {**(old.data.get("form") or {}), **(data or {})}
    return _issue(old.kind, subject, actor, merged, supersedes=old, check_state=False)


def _has_letter(assignment: Assignment) -> bool:
    return db.session.scalar(select(Notice.id).where(
        Notice.assignment_id == assignment.id, Notice.kind.in_(builders.LETTER_KINDS)).limit(1)) is not None


def _subject_name(subject) -> str:
    if isinstance(subject, Assignment):
        return "assignment"
    if isinstance(subject, Referral):
        return "referral"
    raise NoticeRefused("a notice is issued for a referral or an assignment")


def _check_state(kind: str, subject) -> None:
    name = _subject_name(subject)
    spec = KINDS[kind]
    if spec.subject not in ("any", name):
        raise NoticeRefused(f"a {kind} is issued for an {spec.subject}, not a {name}")
    if kind == "reminder_letter":
        if subject.state in final_states(name):
            raise NoticeRefused(f"no reminder for a {name} that has ended ({subject.state})")
        return
    allowed = set(producing_states(name, kind))
    if kind in builders.LETTER_KINDS and name == "assignment":
        allowed.add(lifecycle_for(subject).initial)
    if subject.state not in allowed:
        raise NoticeRefused(f"a {name} in state {subject.state!r} does not produce a {kind} "
                            f"(expected {', '.join(sorted(allowed)) or 'none'})")


def _parties(kind: str, subject, actor, data: dict):
    """(referral, assignment, issuer, recipient) for a notice of ``kind`` about ``subject``."""
    assignment = subject if isinstance(subject, Assignment) else None
    referral = assignment.referral if assignment is not None else subject
    origin = referral.origin_agency
    actor_agency = actor.agency if actor is not None else None
    if kind in ("referral_letter", "transfer_letter"):
        if assignment is not None and assignment.state in producing_states("assignment", "transfer_letter"):
            successor = db.session.scalar(select(Assignment).where(
                Assignment.transferred_from_id == assignment.id).order_by(Assignment.id.desc()).limit(1))
            recipient = successor.agency if successor is not None else _agency(data.get("agency"))
            return referral, successor or assignment, actor_agency or assignment.agency, recipient
        return referral, assignment, actor_agency or origin, assignment.agency
    if kind == "assessment_opinion":
        return referral, None, actor_agency or origin, None
    if kind in ("receipt", "return_notice", "refusal_notice", "feedback_letter", "filing_decision",
                "acceptance_notice", "reconsideration_decision"):
        return referral, assignment, actor_agency or assignment.agency, origin
    if kind == "disposition_decision":
        return referral, assignment, actor_agency or assignment.agency, None
    if kind == "reconsideration_request":
        return referral, assignment, actor_agency or origin, assignment.agency
    overdue = _agency(data.get("responsible_agency_id"))
    if assignment is not None and (overdue is None or overdue.id == assignment.agency_id):
        return referral, assignment, actor_agency or origin, assignment.agency
    overdue = overdue or origin  # the education department itself is late: its supervisor reminds it
    return referral, assignment, actor_agency or overdue.parent or overdue, overdue


def _agency(value) -> Agency | None:
    agency_id = database_id(str(value)) if value not in (None, "") else None
    return db.session.get(Agency, agency_id) if agency_id is not None else None


def _validate(kind: str, issuer: Agency, recipient: Agency | None, content, data: dict) -> None:
    errors: dict[str, str] = {}
    for name, limit in TEXT_LIMITS.items():
        value = data.get(name)
        if isinstance(value, str) and len(value.strip()) > limit:
            errors[name] = f"at most {limit} characters fit in a notice ({len(value.strip())} given)"
    if len(content.title) > TITLE_LIMIT:
        errors["title"] = (f"the notice title would be {len(content.title)} characters; at most {TITLE_LIMIT} "
                           f"fit (shorten the referral title)")
    if len(issuer.name) > ISSUER_MARK_LIMIT:
        errors["issuer"] = f"the issuer's name is longer than {ISSUER_MARK_LIMIT} characters"
    for row in content.targets:
        for key in ("name", "locator", "operator"):
            if len(row.get(key) or "") > TARGET_FIELD_LIMIT:
                errors[f"target.{key}"] = f"a target's {key} is longer than {TARGET_FIELD_LIMIT} characters"
    text = " ".join([content.title, issuer.name, recipient.name if recipient else "", *content.paragraphs,
                     content.closing, *(line for _, lines in content.sections for line in lines),
                     *(str(v) for row in content.targets + content.actions for v in row.values())])
    missing = missing_characters(text)
    if missing:
        errors["characters"] = f"no installed font can print: {' '.join(missing)}"
    if kind in builders.LETTER_KINDS and recipient is None:
        errors["agency"] = "the referral letter has no recipient agency"
    if errors:
        raise ValidationFailed(errors, message=f"the {kind} cannot be issued")


def _new_code() -> str:
    while True:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        if db.session.scalar(select(Notice.id).where(Notice.verification_code == code)) is None:
            return code


def verify_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/verify/{code}"


def _structured(notice: Notice, kind_title: str, content, referral, assignment, data) -> dict:
    return {
        "schema": JSON_SCHEMA, "kind": notice.kind, "kind_title": kind_title,
        "document_number": notice.document_number, "title": notice.title,
        "issued_at": notice.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "date": local_date(notice.issued_at).isoformat(),
        "issuer": {"code": notice.issuer.code, "name": notice.issuer.name},
        "recipient": {"code": content.recipient.code, "name": content.recipient.name} if content.recipient else None,
        "copies": [{"code": a.code, "name": a.name} for a in content.copies],
        "referral": {"number": referral.number, "title": referral.title},
        "targets": content.targets, "actions": content.actions, "facts": content.facts,
        "verification_code": notice.verification_code,
        "supersedes": notice.supersedes.document_number if notice.supersedes is not None else None,
    }


def _issue(kind: str, subject, actor, data: dict, *, supersedes: Notice | None = None,
           check_state: bool = True) -> Notice:
    if check_state:
        _check_state(kind, subject)
    referral, assignment, issuer, recipient = _parties(kind, subject, actor, data)
    content = getattr(builders, kind)(referral, assignment, issuer, recipient, data)
    if supersedes is not None:
        note = (data.get("correction_note") or "").strip()
        content.paragraphs.append(f"本文更正并取代{supersedes.document_number}，原文件同时作废。"
                                  + (f"更正说明：{note}" if note else ""))
    enclosed = _enclosed_notices(kind, referral)
    if enclosed:
        content.attachments = [f"{builders.document_kind(n)}（{n.document_number}）" for n in enclosed]
    _validate(kind, issuer, recipient, content, data)
    issued_at = utcnow()
    year = local_date(issued_at).year
    # Only this issuer's series counter is locked here; the audit chain is sealed at commit.
    with db.session.begin_nested():
        serial, number = take_number(issuer, KINDS[kind].series, year)
        notice = Notice(
            kind=kind, series=KINDS[kind].series, issuer=issuer, recipient_agency_id=recipient.id if recipient else None,
            copy_agency_ids=[a.id for a in content.copies], year=year, serial=serial, document_number=number,
            referral_id=referral.id, assignment_id=assignment.id if assignment is not None else None,
            title=content.title, issued_at=issued_at, issued_by_id=getattr(actor, "id", None),
            verification_code=_new_code(), supersedes=supersedes,
        )
        structured = _structured(notice, KINDS[kind].title_zh, content, referral, assignment, data)
        seal = seal_image(issuer)
        structured["seal"] = seal_record(seal)
        structured["enclosures"] = [{"file": enclosure_name(n), "document_number": n.document_number,
                                     "sha256": n.sha256} for n in enclosed]
        structured["form"] = {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool, list, dict))}
        structured = json.loads(json.dumps(structured, ensure_ascii=False, default=str))
        attachment = json.dumps(structured, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        rendered = render_notice(f"notices/{kind}.html",
                                 {**_template_context(notice, content, issuer, recipient), "seal_uri": seal_data_uri(seal)},
                                 attachment, issued_at, [(enclosure_name(n), n.pdf) for n in enclosed])
        notice.pdf = rendered.pdf
        notice.page_count = rendered.pages
        notice.size = len(rendered.pdf)
        notice.sha256 = hashlib.sha256(rendered.pdf).hexdigest()
        notice.data = structured
        db.session.add(notice)
        db.session.flush()
    record_event("notice.issue", actor, notice, payload={
        "kind": kind, "document_number": number, "sha256": notice.sha256, "referral_id": referral.id,
        "assignment_id": notice.assignment_id, "supersedes": supersedes.id if supersedes is not None else None,
    }, actor_name=None if actor is not None else "system")
    return notice


def enclosure_name(notice: Notice) -> str:
    """An ASCII file name for a notice embedded in another (PDF /F names are not Unicode-safe)."""
    return f"{notice.kind}-{notice.issuer.code}-{notice.year}-{notice.serial}.pdf"


def _enclosed_notices(kind: str, referral: Referral) -> list[Notice]:
    """The referral letter carries the current assessment opinion (its 附件) inside the PDF."""
    if kind != "referral_letter":
        return []
    opinions = db.session.scalars(select(Notice).where(
        Notice.referral_id == referral.id, Notice.kind == "assessment_opinion").order_by(Notice.id.desc()))
    current = next((n for n in opinions if n.superseded_by is None), None)
    return [current] if current is not None else []


def _template_context(notice: Notice, content, issuer: Agency, recipient: Agency | None) -> dict:
    mark_size = 26 if len(issuer.name) <= 16 else 22
    return {
        "title": content.title, "title_lines": balanced_lines(content.title, TITLE_LINE_CHARS), "issuer": issuer, "recipient": recipient, "document_number": notice.document_number,
        "paragraphs": content.paragraphs, "sections": content.sections, "targets": content.targets,
        "actions": content.actions, "closing": content.closing, "attachments": content.attachments,
        "copies": content.copies, "facts": content.facts, "date_text": builders.chinese_date(notice.issued_at),
        "issued_iso": notice.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verification_code": notice.verification_code, "verify_url": verify_url(notice.verification_code),
        "qr_uri": qr_data_uri(verify_url(notice.verification_code)),
        "mark_size": mark_size, "mark_spacing": 2 if len(issuer.name) <= 10 else 0,
    }
