"""Notice downloads (agency scope), dossier export, and the public verification pages."""
from __future__ import annotations

from dataclasses import asdict
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.access.loaders import get_notice_or_404, get_referral_or_404
from casework.access.rules import may_correct_notice, notice_reader
from casework.audit.services import record_event
from casework.errors import DomainError, ValidationFailed
from casework.extensions import db
from casework.notices.dossier import FORMATS, export_dossier, referral_notices
from casework.notices.models import Notice
from casework.notices.services import CORRECTABLE_FIELDS, correct_notice
from casework.notices.verify import find_by_bytes, find_by_code, max_upload_bytes, public_facts, read_upload
from casework.read_only import reads_first
from casework.referrals.models import Referral
from casework.unit_of_work import transactional

bp = Blueprint("notices", __name__)


def attachment_response(body: bytes, filename: str, ascii_name: str, mimetype: str, etag: str | None = None):
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if etag:
        response.set_etag(etag)
    return response


@bp.get("/notices/<int:notice_id>.pdf")
@login_required
@transactional
def download(notice_id: int):
    notice = get_notice_or_404(notice_id, current_user)
    record_event("notice.download", current_user, notice, payload={"document_number": notice.document_number})
    return attachment_response(notice.pdf, f"{notice.document_number}.pdf",
                               f"notice-{notice.issuer.code}-{notice.year}-{notice.series}-{notice.serial}.pdf",
                               "application/pdf", notice.sha256)


def correctable_fields(notice: Notice) -> list[str]:
    form = notice.data.get("form") or {}
    return [name for name in CORRECTABLE_FIELDS if isinstance(form.get(name), str)]


@bp.route("/notices/<int:notice_id>/correct", methods=["GET", "POST"])
@login_required
def correct(notice_id: int):
    """An approver of the issuing agency issues a corrected notice that supersedes this one."""
    notice = get_notice_or_404(notice_id, current_user)
    if not may_correct_notice(current_user, notice):
        abort(403)
    fields = correctable_fields(notice)
    values = {name: (notice.data.get("form") or {}).get(name, "") for name in fields}
    errors: dict = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in fields}
        values["correction_note"] = request.form.get("correction_note", "")
        try:
            corrected = _store_correction(notice.id, values)
        except ValidationFailed as error:
            errors = error.errors if isinstance(error.errors, dict) else {"": "; ".join(error.errors)}
        except DomainError as error:
            errors = {"": error.message}
        else:
            flash(_("Notice %(number)s issued; it supersedes %(old)s.", number=corrected.document_number,
                    old=notice.document_number), "success")
            return redirect(url_for("referrals.show", referral_id=notice.referral_id))
    status = 400 if errors else 200
    return render_template("notices/correct.html", notice=notice, fields=fields, values=values,
                           errors=errors), status


@transactional
def _store_correction(notice_id: int, values: dict) -> Notice:
    notice = get_notice_or_404(notice_id, current_user)
    return correct_notice(notice, current_user, values)


@bp.get("/referrals/<int:referral_id>/dossier.<fmt>")
@login_required
@reads_first
def dossier(referral_id: int, fmt: str):
    """Build (or take from the cache) while only reading, then record the export in a short write."""
    if fmt not in FORMATS:
        abort(404)
    referral = get_referral_or_404(referral_id, current_user)
    visible = list(filter(notice_reader(current_user), referral_notices(referral)))
    body, number = export_dossier(referral, visible, fmt), referral.number
    db.session.commit()
    _record_dossier_export(referral_id, fmt, len(visible))
    return attachment_response(body, f"{number}-案卷.{fmt}", f"dossier-{number}.{fmt}",
                               "application/pdf" if fmt == "pdf" else "application/zip")


@transactional
def _record_dossier_export(referral_id: int, fmt: str, notice_count: int) -> None:
    record_event("notice.dossier_export", current_user, db.session.get(Referral, referral_id),
                 payload={"format": fmt, "notices": notice_count})


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/verify/<code>")
def verify_code(code: str):
    notice = find_by_code(code)
    if _wants_json():
        if notice is None:
            return jsonify({"error": "no notice has this verification code"}), 404
        return jsonify(asdict(public_facts(notice)))
    if notice is None:
        return render_template("notices/verify.html", facts=None, searched=True,
                               message=_("No Casework notice has this verification code."),
                               max_mb=max_upload_bytes() // (1024 * 1024)), 404
    return render_template("notices/verify.html", facts=public_facts(notice), searched=True, message=None,
                           max_mb=max_upload_bytes() // (1024 * 1024))


@bp.route("/verify", methods=["GET", "POST"])
def verify_upload():
    max_mb = max_upload_bytes() // (1024 * 1024)
    if request.method == "GET":
        return render_template("notices/verify.html", facts=None, searched=False, message=None, max_mb=max_mb)
    try:
        data = read_upload(request.files.get("file"))
    except ValidationFailed as error:
        return render_template("notices/verify.html", facts=None, searched=False, max_mb=max_mb,
                               errors=error.errors, message=None), 400
    notice = find_by_bytes(data)
    if notice is None:
        return render_template("notices/verify.html", facts=None, searched=True, max_mb=max_mb,
                               message=_("This file is not an unaltered Casework notice: no notice has "
                                         "exactly these bytes.")), 404
    return render_template("notices/verify.html", facts=public_facts(notice), searched=True, message=None,
                           max_mb=max_mb)
