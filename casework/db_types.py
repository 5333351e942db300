"""Column types shared by all models: UTC timestamps that come back timezone-aware."""
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


LARGEST_ID = 2**31 - 1  # PostgreSQL INTEGER; SQLite stores more, but no id here gets that far
LARGEST_BIGINT = 2**63 - 1  # audit sequence numbers


def database_id(text: str | None, largest: int = LARGEST_ID) -> int | None:
    """``text`` as an id the database can hold (ASCII digits only, at most ``largest``), else None."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(largest)):
        return None
    value = int(text)
    return value if value <= largest else None


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC; accepts and returns aware datetimes. Naive input is rejected."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)
