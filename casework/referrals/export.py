"""Export of the current list to CSV (UTF-8 with BOM, opens in Excel/WPS) or XLSX (one row per
referral, a second sheet of targets and disposal actions; real date cells, autofilter, column
widths and a frozen header)."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from urllib.parse import quote

from flask_babel import gettext as _

from casework.referrals.cells import safe_cell, text_of
from casework.referrals.labels import choice_label, join_words, state_label, target_kind_label
from casework.referrals.models import Referral
from casework.referrals.queries import referral_is_late
from casework.web.template_globals import target_status_label

UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f"*/:<>?\\|\s]+')


def header() -> list[str]:
    return [_("Number"), _("Title"), _("State"), _("Originator"), _("Region"), _("Opened"), _("Due"),
            _("Overdue"), _("Agencies"), _("Closed"), _("Owner"), _("Targets"), _("Conclusion"), _("Severity"),
            _("Actions and outcomes")]


WIDTHS = (20, 40, 12, 24, 8, 17, 17, 8, 48, 17, 14, 48, 14, 10, 48)


def _name(user) -> str:
    return user.display_name if user else ""


def _actions(referral: Referral) -> list[tuple]:
    """(assignment, action) of every disposal action of the referral, in order."""
    return [(assignment, action) for assignment in referral.assignments
            for disposition in assignment.dispositions for action in disposition.actions]


def row(referral: Referral) -> list:
    """The referral's cells: text, and datetimes (UTC) for the date columns."""
    agencies = join_words((f"{a.agency.name}（{state_label(a.state)}）"
                           + (f"（{_name(a.owner)}）" if a.owner else "") for a in referral.assignments),
                          strong=True)
    assessment = referral.assessment
    targets = join_words((f"{target_kind_label(t.kind)}：{t.name}" for t in referral.targets), strong=True)
    actions = join_words((f"{act.target.name}：{choice_label(act.action)}（{choice_label(act.outcome)}）"
                          for _assignment, act in _actions(referral)), strong=True)
    return [referral.number, referral.title, state_label(referral.state), referral.origin_agency.name,
            referral.region_code or "", referral.created_at, referral.due_at,
            _("yes") if referral_is_late(referral) else "", agencies, referral.closed_at, _name(referral.owner),
            targets, choice_label(assessment.conclusion) if assessment else "",
            choice_label(assessment.severity) if assessment else "", actions]


def action_header() -> list[str]:
    return [_("Number"), _("Target kind"), _("Target"), _("Target key"), _("Target status"), _("Agency"),
            _("Agency state"), _("Owner"), _("Action"), _("Outcome"), _("Executed")]


ACTION_WIDTHS = (20, 10, 32, 40, 10, 24, 12, 14, 24, 10, 17)


def action_rows(referral: Referral) -> list[list]:
    """One row per disposal action; a target without any action gets one row of its own."""
    rows, acted = [], set()
    for assignment, action in _actions(referral):
        target = action.target
        acted.add(target.id)
        rows.append([referral.number, target_kind_label(target.kind), target.name, target.key,
                     target_status_label(target.status), assignment.agency.name, state_label(assignment.state),
                     _name(assignment.owner), choice_label(action.action), choice_label(action.outcome),
                     action.executed_at])
    for target in referral.targets:
        if target.id not in acted:
            rows.append([referral.number, target_kind_label(target.kind), target.name, target.key,
                         target_status_label(target.status), "", "", "", "", "", None])
    return rows


def to_csv(referrals: list[Referral]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header())
    for referral in referrals:
        writer.writerow([safe_cell(text_of(v)) for v in row(referral)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(referrals: list[Referral]) -> bytes:
    from casework.referrals import workbook  # openpyxl (0.1 s) loads only for an XLSX export, not at start-up

    return workbook.workbook_of((_("Referrals"), header(), WIDTHS, (row(r) for r in referrals)),
                               (_("Targets and actions"), action_header(), ACTION_WIDTHS,
                                (values for r in referrals for values in action_rows(r))))


def content_disposition(desk_name: str, day: datetime, fmt: str, title: str | None = None,
                        ascii_stem: str = "referrals") -> str:
    """``attachment`` with an ASCII filename and the full one (``线索导出_<desk>_<date>.<fmt>``) as
    RFC 5987 ``filename*``."""
    stamp = f"{day:%Y%m%d}"
    title = title or _("Referral export")
    name = UNSAFE_IN_FILENAME.sub("_", f"{title}_{desk_name}_{stamp}.{fmt}")
    return f"attachment; filename=\"{ascii_stem}_{stamp}.{fmt}\"; filename*=UTF-8''{quote(name, safe='')}"
