"""Functions and constants every template may use: labels, the posted values of a refused form,
the clock, list rows. None of them queries the database: what a page shows is loaded by its view
(the referral page by ``casework.referrals.referral_page``)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from casework.access.rules import may_open_referral, may_read_audit_trail
from casework.access.scope import has_case_role
from casework.db_types import utcnow
from casework.extensions import db
from casework.referrals import forms, labels
from casework.referrals.queries import ASSIGNMENT_TERMINAL, REFERRAL_TERMINAL
from casework.web.i18n import CST

TARGET_STATUS_LABELS = {"unknown": _l("Not checked"), "online": _l("Online"), "offline": _l("Offline")}


def source_label(source: str) -> str:
    return str(forms.SOURCE_LABELS.get(source, source))


def kind_label(kind: str) -> str:
    return str(forms.KIND_LABELS.get(kind, kind))


def target_status_label(status: str) -> str:
    return str(TARGET_STATUS_LABELS.get(status, status))


def submitted_field(spec):
    return forms.shown_value(spec, request.form)


def today_cst() -> str:
    return utcnow().astimezone(CST).date().isoformat()


def submitted_value(name: str) -> str:
    return request.form.get(name, "")


@dataclass(frozen=True)
class ListRow:
    """One list row, formatted once (the locale is looked up once per page, not per cell)."""

    url: str
    number: str
    title: str
    state: str
    state_label: str
    origin: str
    region: str
    due: str
    overdue: bool
    opened: str
    owner: str = ""


def list_rows(rows, show_url_prefix: str) -> list[ListRow]:
    zh = str(get_locale() or "zh").startswith("zh")
    dates: dict = {}

    def day(value, with_time=False):
        if value is None:
            return ""
        key = (value, with_time)
        if key not in dates:
            local = value.astimezone(CST)
            text = f"{local.year}年{local.month}月{local.day}日" if zh else local.strftime("%Y-%m-%d")
            dates[key] = f"{text} {local:%H:%M}" if with_time else text
        return dates[key]

    state_labels: dict = {}
    result = []
    for row in rows:
        referral = row.referral
        kind = row.assignment.agency.kind if row.assignment is not None else None
        if (row.state, kind) not in state_labels:
            state_labels[row.state, kind] = labels.state_label(row.state, kind)
        result.append(ListRow(
            url=f"{show_url_prefix}{referral.id}", number=referral.number, title=referral.title,
            state=row.state, state_label=state_labels[row.state, kind],
            origin=referral.origin_agency.name, region=referral.region_code or "",
            due=day(row.due_at, True), overdue=row.is_overdue, opened=day(referral.created_at),
            owner=getattr(row.assignment or referral, "owner_name", None) or ""))
    return result


def register_template_globals(app: Flask) -> None:
    for function in (labels.state_label, labels.disposition_state_label, labels.object_state_label,
                     labels.event_label, labels.choice_label, labels.trigger_label, labels.join_words,
                     source_label, kind_label, target_status_label, submitted_field, submitted_value,
                     today_cst, list_rows, may_open_referral, may_read_audit_trail, has_case_role):
        app.add_template_global(function)
    app.add_template_global(utcnow, "now_utc")
    app.add_template_global(ASSIGNMENT_TERMINAL, "assignment_terminal")
    app.add_template_global(REFERRAL_TERMINAL, "referral_terminal")
