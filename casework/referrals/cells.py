"""Cell text of the referral exports (CSV and XLSX alike)."""
from __future__ import annotations

from datetime import datetime

from casework.web.i18n import format_datetime


def safe_cell(value: str) -> str:
    """Keep spreadsheet programs from running cell text as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def text_of(value) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    return "" if value is None else str(value)
