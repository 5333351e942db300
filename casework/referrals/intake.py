"""Intake as one service: the intake form's referral saved, its files attached and, when the
officer submits it, the lifecycle's ``submit`` fired, all in the caller's transaction."""
from __future__ import annotations

from casework.accounts.models import User
from casework.errors import ConflictError
from casework.referrals.models import Referral
from casework.referrals.services import attach_files, open_referral, update_referral
from casework.workflow.engine import fire

SUBMIT = "submit"


def save_intake(referral: Referral | None, data: dict, uploads: list[tuple], actor: User, *,
                submitting: bool = False, expected_version: int | None = None) -> Referral:
    """Open a referral from the intake form's ``data`` (``referral`` None) or update the draft
    ``referral`` (``ConflictError`` if it is no longer at ``expected_version``); attach ``uploads``
    (``(file storage, {"description": ...})`` pairs) and, when ``submitting``, fire ``submit``.
    Flushes, never commits; a refused file or step raises and the caller's transaction rolls back."""
    if referral is None:
        referral = open_referral(data, actor, submitting=submitting)
    else:
        if expected_version is not None and expected_version != referral.version:
            raise ConflictError("changed by someone else, reload")
        update_referral(referral, data, actor, submitting=submitting)
    attach_files(referral, uploads, actor)
    if submitting:
        fire(referral, SUBMIT, {}, actor)
    return referral
