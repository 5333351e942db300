"""argon2id hashing and the password rules (length and character classes, set by the policy)."""
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from casework.text import _

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters

MIN_LENGTH = 10
MIN_CLASSES = 3
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def character_classes(password: str) -> int:
    return sum([
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ])


def password_problem(password: str, min_length: int = MIN_LENGTH, min_classes: int = MIN_CLASSES) -> str | None:
    """Why the password is too weak, or None."""
    if len(password) < min_length:
        return _("at least %(n)d characters", n=min_length)
    if character_classes(password) < min_classes:
        return _("at least %(n)d of: lower case, upper case, digits, symbols", n=min_classes)
    return None


def temporary_password(min_length: int = MIN_LENGTH) -> str:
    """A random one-time password meeting every class: shown once, changed at the next login."""
    body = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(max(min_length, 12) - 3))
    return f"{body}-{secrets.choice('23456789')}{secrets.choice('ABCDEFGHJKMNPQRSTUVWXYZ')}"


@cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not reveal it
    (computed at the first such login, not at import: an argon2 hash takes a quarter second)."""
    return _hasher.hash("not-a-real-password-0A!")
