"""Evidence pages: upload on a referral, list, and download as an attachment only."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.access.loaders import get_evidence_or_404, get_referral_or_404
from casework.access.rules import may_add_evidence
from casework.errors import ValidationFailed
from casework.evidence.detect import EXTENSIONS
from casework.evidence.display import file_kind, file_size
from casework.evidence.services import EvidenceIntegrityError, evidence_of, max_evidence_bytes, open_evidence
from casework.evidence.services import attach_evidence, check_may_add_evidence
from casework.read_only import read_only
from casework.unit_of_work import unit_of_work

bp = Blueprint("evidence", __name__)
bp.add_app_template_filter(file_size, "file_size")
bp.add_app_template_filter(file_kind, "file_kind")


def _page(referral, *, errors=None, form=None, status: int = 200):
    return render_template(
        "evidence/list.html", referral=referral, evidence=evidence_of(referral), errors=errors or {},
        form=form or {}, extensions=sorted(EXTENSIONS), max_mb=max_evidence_bytes() / 1048576,
        may_upload=may_add_evidence(current_user, referral),
    ), status


@bp.get("/referrals/<int:referral_id>/evidence")
@read_only
@login_required
def index(referral_id: int):
    return _page(get_referral_or_404(referral_id, current_user))


@bp.post("/referrals/<int:referral_id>/evidence")
@login_required
def upload(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user)
    try:
        with unit_of_work():
            check_may_add_evidence(referral, current_user)  # before the file is read
            evidence = attach_evidence(referral, request.files.get("file"), request.form, current_user)
    except ValidationFailed as error:
        return _page(get_referral_or_404(referral_id, current_user), errors=error.errors,
                     form=request.form, status=400)
    flash(_("Evidence attached: %(name)s (SHA-256 %(sha)s).", name=evidence.original_filename,
            sha=evidence.sha256[:16]), "success")
    return redirect(url_for("evidence.index", referral_id=referral_id))


@bp.get("/evidence/<int:evidence_id>/download")
@login_required
def download(evidence_id: int):
    evidence = get_evidence_or_404(evidence_id, current_user)
    try:
        with unit_of_work():
            stream = open_evidence(evidence, current_user)
    except EvidenceIntegrityError:
        abort(409, _("The stored file does not match its recorded hash; it is not served."))
    response = send_file(stream, mimetype=evidence.content_type, as_attachment=True,
                         download_name=evidence.original_filename, max_age=0, etag=False)
    response.headers["Content-Type"] = evidence.content_type  # as detected, charset included once
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response
