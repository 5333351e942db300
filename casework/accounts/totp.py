"""Time-based one-time passwords (RFC 6238, 30-second steps) and one-time recovery codes.

A code is accepted for the current step and one step either side; the step of the last accepted
code is stored per user, so a code (or an earlier one) cannot be used again.
"""
from __future__ import annotations

import base64
import hashlib
import io
import secrets
import time

import pyotp
from sqlalchemy import delete, select

from casework.accounts.models import RecoveryCode, User
from casework.db_types import utcnow
from casework.extensions import db

ISSUER = "Casework"
STEP_SECONDS = 30
WINDOW = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 16  # 31 symbols ** 16 ≈ 2 ** 79: too many to guess even from a stolen hash


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_data_uri(text: str) -> str:
    """The QR code of ``text`` as an inline SVG data URI (no outside service sees the secret)."""
    import qrcode.image.svg  # qrcode and PIL load only when someone enrols, not at start-up

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (within ±1 of now) whose code is ``code``, or None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def accept_code(user: User, code: str, now: float | None = None) -> bool:
    """Check a code of the user's authenticator; a step at or before the last accepted one is refused."""
    if user.totp_secret is None:
        return False
    step = matching_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def normalise_recovery_code(code: str) -> str:
    return "".join(c for c in code.lower() if c.isascii() and c.isalnum())


def recovery_code_hash(code: str) -> str:
    """SHA-256 of a normalised code. The codes are random with about 79 bits, so unlike passwords
    they need no slow hash; one indexed look-up finds a code."""
    return hashlib.sha256(normalise_recovery_code(code).encode("ascii")).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten fresh ones; returns them in clear, to show once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=recovery_code_hash(code)) for code in codes)
    return ["-".join(code[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4)) for code in codes]


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code once, marking it used."""
    if len(normalise_recovery_code(code)) != RECOVERY_LENGTH:
        return False
    row = db.session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                      RecoveryCode.code_hash == recovery_code_hash(code),
                                                      RecoveryCode.used_at.is_(None)))
    if row is None:
        return False
    row.used_at = utcnow()
    return True


def recovery_codes_left(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                               RecoveryCode.used_at.is_(None))).all())
