"""Export of the current list to CSV (UTF-8 with BOM, opens in Excel/WPS) or XLSX."""
from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from casework.referrals.labels import join_words, state_label
from casework.referrals.models import Referral
from casework.referrals.queries import referral_is_late
from casework.web.i18n import format_datetime


def _state_label(state: str) -> str:
    return state_label(state)


def header() -> list[str]:
    return [_("Number"), _("Title"), _("State"), _("Originator"), _("Region"), _("Opened"), _("Due"),
            _("Overdue"), _("Agencies")]


def row(referral: Referral) -> list[str]:
    agencies = join_words((f"{a.agency.name}（{_state_label(a.state)}）" for a in referral.assignments),
                          strong=True)
    return [referral.number, referral.title, _state_label(referral.state), referral.origin_agency.name,
            referral.region_code or "", format_datetime(referral.created_at), format_datetime(referral.due_at),
            _("yes") if referral_is_late(referral) else "", agencies]


def _safe_cell(value: str) -> str:
    """Keep spreadsheet programs from running cell text as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def to_csv(referrals: list[Referral]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header())
    for referral in referrals:
        writer.writerow([_safe_cell(v) for v in row(referral)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(value: str) -> str:
    """Spreadsheet XML cannot hold most control characters: each is written as U+FFFD."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # openpyxl (0.1 s) loads only for an XLSX export

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", _safe_cell(value))


def to_xlsx(referrals: list[Referral]) -> bytes:
    from openpyxl import Workbook  # openpyxl (0.1 s) loads only for an XLSX export, not at start-up

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Referrals"))
    sheet.append(header())
    for referral in referrals:
        sheet.append([_xlsx_cell(v) for v in row(referral)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
