"""The audit trail, read-only, for the audit administrator alone (others get 404)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from casework.audit.models import AuditEvent
from casework.db_types import LARGEST_BIGINT, database_id
from casework.extensions import db
from casework.read_only import read_only
from casework.referrals.queries import EARLIEST_DATE, LATEST_DATE
from casework.web.i18n import CST

bp = Blueprint("audit", __name__)

PAGE_SIZE = 100


def _day(value: str | None, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        return None
    moment = datetime.combine(day, time.min, tzinfo=CST)
    return moment + timedelta(days=1) if end else moment


def filtered_events(args) -> tuple[object, dict]:
    """The events query for the filters in ``args`` (event prefix, actor, object, outcome, dates)."""
    query = select(AuditEvent)
    filters = {key: (args.get(key) or "").strip() for key in
               ("event", "actor", "object_type", "object_id", "outcome", "since", "until")}
    if filters["event"]:
        query = query.where(AuditEvent.event.startswith(filters["event"]))
    if filters["actor"]:
        query = query.where(AuditEvent.actor_name == filters["actor"])
    if filters["object_type"]:
        query = query.where(AuditEvent.object_type == filters["object_type"])
    if (object_id := database_id(filters["object_id"])) is not None:
        query = query.where(AuditEvent.object_id == object_id)
    if filters["outcome"]:
        query = query.where(AuditEvent.outcome == filters["outcome"])
    if since := _day(filters["since"]):
        query = query.where(AuditEvent.occurred_at >= since)
    if until := _day(filters["until"], end=True):
        query = query.where(AuditEvent.occurred_at < until)
    return query, filters


@bp.get("/audit")
@read_only
@login_required
def index():
    if not current_user.has_role("audit_admin"):
        abort(404)
    query, filters = filtered_events(request.args)
    before = database_id(request.args.get("before"), LARGEST_BIGINT)
    if before:
        query = query.where(AuditEvent.seq < before)
    events = db.session.scalars(query.order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return render_template("audit/index.html", events=events, filters=filters,
                           next_before=events[-1].seq if more else None)
