"""Functions the templates call: labels, option lists of the workflow forms, the clock."""
from __future__ import annotations

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from casework.db_types import utcnow
from casework.referrals import forms, labels
from casework.referrals.queries import ASSIGNMENT_TERMINAL

TARGET_STATUS_LABELS = {"unknown": _l("Not checked"), "online": _l("Online"), "offline": _l("Offline")}


def source_label(source: str) -> str:
    return str(forms.SOURCE_LABELS.get(source, source))


def kind_label(kind: str) -> str:
    return str(forms.KIND_LABELS.get(kind, kind))


def target_status_label(status: str) -> str:
    return str(TARGET_STATUS_LABELS.get(status, status))


def all_agencies():
    from casework.agencies.models import Agency
    from casework.extensions import db

    return db.session.scalars(select(Agency).order_by(Agency.level.desc(), Agency.region_code, Agency.code)).all()


def recommendation_text(item) -> str:
    if isinstance(item, dict):
        code = str(item.get("agency_id") or item.get("agency") or item.get("code") or "")
        reason = item.get("reason") or ""
        name = next((a.name for a in all_agencies() if code in (a.code, str(a.id))), code)
        return f"{name}（{reason}）" if reason else name
    return str(item)


def submitted_field(spec):
    return forms.shown_value(spec, request.form)


def today_cst() -> str:
    from casework.web.i18n import CST

    return utcnow().astimezone(CST).date().isoformat()


def submitted_value(name: str) -> str:
    return request.form.get(name, "")


def register_template_helpers(bp: Blueprint) -> None:
    for function in (labels.state_label, labels.event_label, labels.choice_label, labels.trigger_label,
                     source_label, kind_label, target_status_label, all_agencies, recommendation_text,
                     forms.field_options, submitted_field, submitted_value, today_cst):
        bp.add_app_template_global(function)
    bp.add_app_template_global(utcnow, "now_utc")
    bp.add_app_template_global(ASSIGNMENT_TERMINAL, "assignment_terminal")
