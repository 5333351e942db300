"""Bulk intake: CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX files of targets into one referral.

Every row is validated first; a file with any invalid row imports nothing and the
report names each bad row and field. Reading is bounded (``casework/targets/sheets.py``): at most
``MAX_BYTES`` uploaded, ``LIMITS`` on the unpacked size, rows, columns and cell length, checked
before the work they bound, and ``IMPORT_TIME_BUDGET`` CPU seconds for reading and validating.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy import select

from casework.audit.services import record_event
from casework.access.rules import may_import_targets
from casework.errors import NotAllowed, ValidationFailed
from casework.extensions import db
from casework.referrals.labels import join_words
from casework.targets.models import TARGET_KIND_ZH, TARGET_KINDS, ReferralTarget
from casework.targets.services import clean_target, fill_missing, find_targets, new_target
from casework.targets.sheets import Deadline, Limits, SheetError, column_index, read_csv, read_xlsx
from casework.targets.text import _
from casework.text import language

MAX_ROWS = 2000
MAX_BYTES = 10 * 1024 * 1024
IMPORT_SECONDS = 20  # CPU seconds; the largest accepted file (2,000 rows) validates in about 2
LIMITS = Limits(rows=MAX_ROWS, columns=64, cell_chars=4096, member_bytes=16 * 1024 * 1024,
                total_bytes=24 * 1024 * 1024)
COLUMNS = ("kind", "name", "url", "package_name", "store", "developer", "platform", "account_id",
           "icp_number", "ip_addresses", "operator_name", "operator_uscc", "contact", "note")
ALIASES = {
    "类型": "kind", "名称": "name", "网址": "url", "包名": "package_name", "应用商店": "store",
    "开发者": "developer", "平台": "platform", "账号": "account_id", "备案号": "icp_number",
    "ip地址": "ip_addresses", "运营者": "operator_name", "统一社会信用代码": "operator_uscc",
    "联系方式": "contact", "备注": "note",
}

KIND_ALIASES = {zh: kind for kind, zh in TARGET_KIND_ZH.items()} | {
    "应用": "app", "平台账号": "account", "店铺": "shop", "聊天群": "group", "群": "group"}


@dataclass
class RowError:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return _("row %(row)d, %(field)s: %(message)s", row=self.row, field=self.field, message=self.message)


@dataclass
class ImportReport:
    filename: str
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    linked: int = 0
    new_targets: int = 0


class ImportRejected(ValidationFailed):
    """The file was rejected as a whole; ``report.errors`` lists every problem by row."""

    def __init__(self, report: ImportReport):
        super().__init__([str(e) for e in report.errors], _("Nothing was imported."))
        self.report = report


def _header(cells: list) -> list[str]:
    names = []
    for cell in cells:
        name = str(cell or "").strip().lstrip("\ufeff").lower().replace(" ", "_")
        names.append(ALIASES.get(name, name))
    return names


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def time_budget() -> Deadline:
    """The import's time budget: ``IMPORT_TIME_BUDGET`` CPU seconds of the app's configuration (default 20)."""
    seconds = current_app.config.get("IMPORT_TIME_BUDGET", IMPORT_SECONDS) if has_app_context() else IMPORT_SECONDS
    return Deadline(seconds)


def read_numbered_rows(filename: str, data: bytes, deadline: Deadline) -> list[tuple[int, list[str]]]:
    """(row number, cells) of the non-blank rows of a CSV or XLSX file; ``SheetError`` when it cannot
    be read within the limits."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "csv":
        try:
            text = _decode(data)
        except UnicodeDecodeError:
            raise SheetError(_("The file is neither UTF-8 nor GBK text.")) from None
        if "\x00" in text:
            raise SheetError(_("The file is not a text CSV file."))
        rows = read_csv(text, LIMITS, deadline)
    elif extension == "xlsx":
        rows = read_xlsx(data, LIMITS, deadline)
    else:
        raise SheetError(_("Upload a .csv or .xlsx file."))
    if not rows:
        raise SheetError(_("The file is empty."))
    return rows


def _where(error: SheetError, header: list[str]) -> str:
    """The column an error is about: its letter and, when the header names it, the name."""
    if not error.column:
        return "file" if not error.row else "row"
    header = header or _header(error.first_row)
    index = column_index(error.column)
    return f"{error.column} ({header[index][:64]})" if index < len(header) and header[index] else error.column


def _header_problems(header: list[str]) -> list[str]:
    counts = Counter(name for name in header if name)
    unknown = [name for name in counts if name not in COLUMNS]
    repeated = sorted(name for name, count in counts.items() if count > 1)
    return unknown + repeated


def validate_file(filename: str, data: bytes, deadline: Deadline | None = None) -> ImportReport:
    """Parse and validate every row without touching the database, within the time budget."""
    report = ImportReport(filename=filename)
    deadline = deadline or time_budget()
    if len(data) > MAX_BYTES:
        report.errors.append(RowError(0, "file", _("Larger than %(mb)d MB.", mb=MAX_BYTES // 1048576)))
        return report
    header: list[str] = []
    try:
        rows = read_numbered_rows(filename, data, deadline)
        header = _header(rows[0][1])
        _validate_rows(report, header, rows, deadline)
    except SheetError as error:
        report.rows = []
        report.errors.append(RowError(error.row, _where(error, header), str(error)))
    return report


def _validate_rows(report: ImportReport, header: list[str], rows: list, deadline: Deadline) -> None:
    bad = _header_problems(header)
    if bad or "kind" not in header:
        report.errors.append(RowError(rows[0][0], "header", _(
            "The first row must name columns from: %(columns)s (kind is required); unknown or repeated: %(bad)s",
            columns=", ".join(COLUMNS), bad=", ".join(name[:64] for name in bad[:20]) or "-")))
        return
    if len(rows) == 1:
        report.errors.append(RowError(rows[0][0] + 1, "file", _("There are no rows below the header.")))
        return
    if len(rows) - 1 > MAX_ROWS:
        report.errors.append(RowError(0, "file", _("More than %(n)d rows.", n=MAX_ROWS)))
        return
    for count, (number, cells) in enumerate(rows[1:]):
        if count % 100 == 0:
            deadline.check(number)
        if len(cells) > len(header):
            report.errors.append(RowError(number, "row", _("More cells than header columns.")))
            continue
        data_row = {name: str(value).strip() for name, value in zip(header, cells) if name}
        data_row["kind"] = KIND_ALIASES.get(data_row.get("kind", ""), data_row.get("kind", ""))
        try:
            clean_target(data_row)
        except ValidationFailed as error:
            for name, message in error.errors.items():
                if name == "kind":
                    names = TARGET_KIND_ZH.values() if language() == "zh" else TARGET_KINDS
                    message = _("Use one of: %(kinds)s.", kinds=join_words(names))
                report.errors.append(RowError(number, name, message))
            continue
        report.rows.append(data_row)


def import_targets(referral, file_storage, actor) -> ImportReport:
    """Add every target of the uploaded file to ``referral``, or nothing if any row is invalid.

    Raises ``ImportRejected`` (a ``ValidationFailed``) whose ``report.errors`` list the rows.
    Rows naming the same target are linked once; each new entry and each new link is audited
    (``target.create``, ``referral.add_target``) as in single intake.
    """
    if not may_import_targets(actor, referral):
        raise NotAllowed(_("Only the referring department adds targets, while the referral is open."))
    filename = (getattr(file_storage, "filename", None) or "").rsplit("/", 1)[-1]
    data = file_storage.read(MAX_BYTES + 1)
    report = validate_file(filename, data)
    if report.errors:
        raise ImportRejected(report)
    rows: dict[tuple[str, str], tuple[dict, dict]] = {}
    for row in report.rows:
        fields = clean_target(row)
        rows.setdefault((fields["kind"], fields["key"]), (fields, row))
    targets = find_targets(list(rows))
    created = []
    for identity, (fields, _row) in rows.items():
        if identity in targets:
            fill_missing(targets[identity], fields, actor)
        else:
            targets[identity] = new_target(fields)
            created.append(targets[identity])
    db.session.flush()
    for target in created:
        record_event("target.create", actor, target, payload={"kind": target.kind, "key": target.key})
    report.new_targets = len(created)
    already = set(db.session.scalars(
        select(ReferralTarget.target_id).where(ReferralTarget.referral_id == referral.id)))
    links = [ReferralTarget(referral_id=referral.id, target_id=targets[identity].id,
                            note=(row.get("note") or "")[:1000], added_by_id=actor.id)
             for identity, (_fields, row) in rows.items() if targets[identity].id not in already]
    db.session.add_all(links)
    db.session.flush()
    by_id = {target.id: target for target in targets.values()}
    for link in links:
        target = by_id[link.target_id]
        record_event("referral.add_target", actor, referral,
                     payload={"target_id": target.id, "kind": target.kind, "key": target.key})
    report.linked = len(links)
    db.session.expire(referral, ["target_links"])
    record_event("referral.import_targets", actor, referral, payload={
        "filename": filename, "sha256": hashlib.sha256(data).hexdigest(), "rows": len(report.rows),
        "linked": report.linked, "new_targets": report.new_targets})
    return report
