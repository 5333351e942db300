"""The dashboard's tables as an XLSX workbook: one sheet per table, a frozen header, an autofilter,
numbers and dates as real cells."""
from __future__ import annotations

import io
from datetime import datetime

from casework.dashboard.page import Table
from casework.web.i18n import local_time


def _value(cell):
    if isinstance(cell.value, datetime):
        return local_time(cell.value).replace(tzinfo=None)
    if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
        return cell.value
    return cell.text


def tables_to_xlsx(tables: list[Table]) -> bytes:
    # openpyxl is imported here, not at the top: it is heavy and only this rarely used export needs it.
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.title[:31])
        sheet.append(table.columns)
        for row in table.rows:
            values = [_value(cell) for cell in row]
            sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", _guard(v)) if isinstance(v, str) else v for v in values])
        for index, title in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(title) * 2 + 4))
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _guard(value: str) -> str:
    """Keep spreadsheet programs from running cell text as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
