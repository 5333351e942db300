"""The XLSX export's sheets: real date cells, a frozen header, column widths and an autofilter.

openpyxl is imported here only, and this module only when an XLSX export is made.
"""
from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.utils import get_column_letter

from casework.referrals.cells import safe_cell, text_of
from casework.web.i18n import local_time

DATE_FORMAT = "yyyy-mm-dd hh:mm"


def xlsx_text(value: str) -> str:
    """Spreadsheet XML cannot hold most control characters: each is written as U+FFFD."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", safe_cell(value))


def _cell(sheet, value):
    """A date as a real (China Standard Time, sortable) date cell, anything else as safe text."""
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=local_time(value).replace(tzinfo=None))
        cell.number_format = DATE_FORMAT
        return cell
    return xlsx_text(text_of(value))


def _sheet(book, title: str, columns: list[str], widths: tuple[int, ...], rows) -> None:
    sheet = book.create_sheet(title)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    count = 1
    sheet.append(columns)
    for values in rows:
        sheet.append([_cell(sheet, v) for v in values])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count}"


def workbook_of(*sheets) -> bytes:
    """A workbook of the given sheets, each (title, header, column widths, rows)."""
    book = Workbook(write_only=True)
    for title, columns, widths, rows in sheets:
        _sheet(book, title, columns, widths, rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
