"""Bounded readers of uploaded tables (CSV and XLSX): every limit is checked before the work it bounds.

XLSX: the members' uncompressed sizes are read from the zip's central directory before anything is
decompressed (a member never inflates beyond its declared size, Python's zipfile stops there);
the workbook, worksheet and shared strings are parsed as streams with expat's callbacks (no element
tree), refusing the first row, column or cell beyond the limits as soon as it is read.
CSV: the same limits, any line ending. Every refusal is a ``SheetError`` naming the row and column;
a ``Deadline`` stops work that runs past its budget.
"""
from __future__ import annotations

import csv
import io
import re
import time
import zipfile
import zlib
from dataclasses import dataclass
from posixpath import join, normpath
from xml.parsers import expat

from casework.input_rules import text_problem
from casework.targets.text import _

CELL_REF = re.compile(r"([A-Z]{1,3})(\d{1,7})$")
CHECK_EVERY = 512
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Limits:
    rows: int  # data rows below the header, read one beyond to tell "too many"
    columns: int
    cell_chars: int
    member_bytes: int  # largest uncompressed zip member (worksheet, shared strings)
    total_bytes: int  # all members read, uncompressed


class SheetError(ValueError):
    """The table cannot be read; ``row`` and ``column`` (a spreadsheet letter) say where (0/"" for the file)."""

    def __init__(self, message: str, row: int = 0, column: str = ""):
        super().__init__(message)
        self.row = row
        self.column = column
        self.first_row: list[str] = []  # the header, when it was read before the error


def _with_first_row(error: SheetError, rows: list[tuple[int, list[str]]]) -> SheetError:
    error.first_row = rows[0][1] if rows else []
    return error


class Deadline:
    """A time budget: ``check()`` raises ``SheetError`` once the calling thread has spent ``seconds`` of CPU
    time since creation (CPU, not wall-clock time: a loaded server does not refuse what an idle one accepts)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.thread_time() + seconds

    def check(self, row: int = 0) -> None:
        if time.thread_time() > self.ends:
            raise SheetError(_("Reading the file took longer than %(n)d seconds; split it into smaller files.",
                               n=self.seconds), row)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def check_cell(value: str, row: int, column: int, limits: Limits) -> str:
    """``value`` when it fits the cell rules, else ``SheetError`` naming row and column."""
    if len(value) > limits.cell_chars:
        raise SheetError(_("A cell longer than %(n)d characters.", n=limits.cell_chars), row, column_letter(column))
    if problem := text_problem(value):
        raise SheetError(problem, row, column_letter(column))
    return value


def _check_width(count: int, row: int, limits: Limits) -> None:
    if count > limits.columns:
        raise SheetError(_("More than %(n)d columns.", n=limits.columns), row, column_letter(limits.columns))


# --- CSV ---

def _blank(cells) -> bool:
    return not any(cell.strip() for cell in cells)


def read_csv(text: str, limits: Limits, deadline: Deadline) -> list[tuple[int, list[str]]]:
    """(line number, cells) of the non-blank rows of a CSV text (CRLF, LF or CR line ends), the header
    and at most ``limits.rows + 1`` rows below it."""
    rows: list[tuple[int, list[str]]] = []
    try:
        _read_csv(text, rows, limits, deadline)
    except SheetError as error:
        raise _with_first_row(error, rows)
    return rows


def _read_csv(text: str, rows: list, limits: Limits, deadline: Deadline) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    while len(rows) <= limits.rows + 1:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise SheetError(_("Cannot read this line as CSV (%(reason)s).", reason=error), reader.line_num) from None
        if reader.line_num % CHECK_EVERY == 0:
            deadline.check(reader.line_num)
        _check_width(len(cells), reader.line_num, limits)
        if not _blank(cells):
            rows.append((reader.line_num,
                         [check_cell(cell, reader.line_num, index, limits) for index, cell in enumerate(cells)]))


# --- XLSX (parsed with expat's callbacks: no element tree is ever built) ---

def _member(book: zipfile.ZipFile, name: str, limits: Limits, budget: list[int]) -> zipfile.ZipInfo:
    try:
        info = book.getinfo(name)
    except KeyError:
        raise SheetError(_("The workbook lacks its part %(name)s.", name=name)) from None
    if info.file_size > limits.member_bytes or info.file_size > budget[0]:
        raise SheetError(_("The workbook unpacks to more than %(mb)d MB; split it into smaller files.",
                           mb=limits.total_bytes // 1048576))
    budget[0] -= info.file_size
    return info


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


class _Handler:
    """Callbacks of one XML part; subclasses override ``start``, ``end`` and ``text``."""

    def start(self, name: str, attrs: dict) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def text(self, data: str) -> None:
        pass


class _Stop(Exception):
    """The handler has what it needs."""


def _refuse_doctype(part: str):
    raise SheetError(_("%(part)s declares a document type, which workbooks never do.", part=part))


def _parse(book: zipfile.ZipFile, info: zipfile.ZipInfo, handler: _Handler, deadline: Deadline) -> None:
    parser = expat.ParserCreate()
    parser.StartElementHandler = lambda name, attrs: handler.start(_local(name), attrs)
    parser.EndElementHandler = lambda name: handler.end(_local(name))
    parser.CharacterDataHandler = handler.text
    parser.StartDoctypeDeclHandler = lambda *_args: _refuse_doctype(info.filename)
    with book.open(info) as stream:
        try:
            while chunk := stream.read(CHUNK_BYTES):
                parser.Parse(chunk, False)
                deadline.check(getattr(handler, "row", 0))
            parser.Parse(b"", True)
        except _Stop:
            return
        except expat.ExpatError as error:
            raise SheetError(_("%(part)s is not well-formed XML (line %(line)d, column %(column)d: %(reason)s).",
                               part=info.filename, line=error.lineno, column=error.offset + 1,
                               reason=expat.ErrorString(error.code))) from None


class _Workbook(_Handler):
    def __init__(self):
        self.sheet_id = None

    def start(self, name, attrs):
        if name == "sheet":
            self.sheet_id = next((v for k, v in attrs.items() if _local(k) == "id"), None)
            raise _Stop


class _Relations(_Handler):
    def __init__(self, wanted: str):
        self.wanted, self.target = wanted, None

    def start(self, name, attrs):
        if name == "Relationship" and attrs.get("Id") == self.wanted:
            self.target = attrs.get("Target") or ""
            raise _Stop


def _first_sheet_path(book: zipfile.ZipFile, limits: Limits, budget: list[int], deadline: Deadline) -> str:
    workbook = _Workbook()
    _parse(book, _member(book, "xl/workbook.xml", limits, budget), workbook, deadline)
    if workbook.sheet_id is None:
        raise SheetError(_("The workbook has no worksheet."))
    relations = _Relations(workbook.sheet_id)
    _parse(book, _member(book, "xl/_rels/workbook.xml.rels", limits, budget), relations, deadline)
    if not relations.target:
        raise SheetError(_("The workbook has no worksheet."))
    target = relations.target
    return target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))


class _SharedStrings(_Handler):
    """Shared strings: the text of each ``si``'s ``t`` elements (phonetic runs ``rPh`` left out)."""

    def __init__(self, limits: Limits):
        self.limits, self.strings, self.parts = limits, [], None
        self.in_text = self.in_phonetic = False
        self.length = 0

    def start(self, name, attrs):
        if name == "si":
            self.parts, self.length = [], 0
        elif name == "rPh":
            self.in_phonetic = True
        elif name == "t" and not self.in_phonetic:
            self.in_text = True

    def end(self, name):
        if name == "si" and self.parts is not None:
            self.strings.append("".join(self.parts))
            self.parts = None
        elif name == "rPh":
            self.in_phonetic = False
        elif name == "t":
            self.in_text = False

    def text(self, data):
        if self.in_text and self.parts is not None:
            self.length += len(data)
            if self.length > self.limits.cell_chars:
                raise SheetError(_("Shared string %(index)d is longer than %(n)d characters.",
                                   index=len(self.strings), n=self.limits.cell_chars))
            self.parts.append(data)


class _Sheet(_Handler):
    """Rows of a worksheet as text, refusing the first cell, row or column beyond the limits."""

    def __init__(self, shared: list[str], limits: Limits):
        self.shared, self.limits = shared, limits
        self.rows: list[tuple[int, list[str]]] = []
        self.row = 0
        self.cells: dict[int, str] | None = None
        self.column = -1
        self.kind = "n"
        self.parts: list[str] | None = None
        self.in_value = False
        self.length = 0

    def start(self, name, attrs):
        if name == "row":
            number = attrs.get("r") or ""
            self.row = int(number) if number.isdigit() and len(number) <= 7 else self.row + 1
            self.cells, self.column = {}, -1
        elif name == "c" and self.cells is not None:
            match = CELL_REF.match(attrs.get("r") or "")
            self.column = column_index(match.group(1)) if match else self.column + 1
            _check_width(max(self.column + 1, len(self.cells) + 1), self.row, self.limits)
            self.kind, self.parts, self.length = attrs.get("t", "n"), [], 0
        elif name in ("v", "t") and self.parts is not None:
            self.parts.append("")
            self.in_value = True

    def text(self, data):
        if self.in_value:
            self.length += len(data)
            if self.length > self.limits.cell_chars:
                raise SheetError(_("A cell longer than %(n)d characters.", n=self.limits.cell_chars), self.row,
                                 column_letter(self.column))
            self.parts[-1] += data

    def end(self, name):
        if name in ("v", "t"):
            self.in_value = False
        elif name == "c" and self.parts is not None:
            self.cells[self.column] = check_cell(self._value(), self.row, self.column, self.limits)
            self.parts = None
        elif name == "row" and self.cells is not None:
            width = max(self.cells, default=-1) + 1
            cells = [self.cells.get(index, "") for index in range(width)]
            if not _blank(cells):
                self.rows.append((self.row, cells))
            self.cells = None
            if len(self.rows) > self.limits.rows + 1:
                raise _Stop

    def _value(self) -> str:
        raw = "".join(self.parts or ())
        if self.kind == "s":
            if not raw.strip().isdigit() or len(raw.strip()) > 9 or int(raw) >= len(self.shared):
                raise SheetError(_("The cell refers to shared string %(index)s, which the workbook lacks.",
                                   index=raw[:20]), self.row, column_letter(self.column))
            return self.shared[int(raw)]
        if self.kind == "b":
            return {"1": "TRUE", "0": "FALSE"}.get(raw, raw)
        return raw


def read_xlsx(data: bytes, limits: Limits, deadline: Deadline) -> list[tuple[int, list[str]]]:
    """(row number, cells as text) of the non-blank rows of the workbook's first worksheet, the header
    and at most ``limits.rows + 1`` rows below it."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SheetError(_("The file is not a valid XLSX workbook.")) from None
    budget = [limits.total_bytes]
    try:
        with book:
            sheet_info = _member(book, _first_sheet_path(book, limits, budget, deadline), limits, budget)
            shared = _SharedStrings(limits)
            if "xl/sharedStrings.xml" in book.NameToInfo:
                _parse(book, _member(book, "xl/sharedStrings.xml", limits, budget), shared, deadline)
            sheet = _Sheet(shared.strings, limits)
            try:
                _parse(book, sheet_info, sheet, deadline)
            except SheetError as error:
                raise _with_first_row(error, sheet.rows)
            return sheet.rows
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as error:
        raise SheetError(_("The file is not a valid XLSX workbook (%(reason)s).", reason=str(error)[:200])) from None
