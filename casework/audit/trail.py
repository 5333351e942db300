"""The audit trail as the audit administrator reads it: filters, readable rows, export.

Events are named in words (the workflow's step names, ``referrals.labels.event_label``, and the
labels below for sign-in and administration); objects by their number or name, not ``users #6``.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select

from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.agencies.seals import AgencySeal
from casework.assignments.models import Assignment, Disposition
from casework.audit.models import AuditEvent
from casework.db_types import LARGEST_BIGINT, database_id
from casework.evidence.models import Evidence
from casework.extensions import db
from casework.notices.models import Notice
from casework.referrals.labels import event_label, object_state_label
from casework.referrals.models import Referral
from casework.referrals.queries import EARLIEST_DATE, LATEST_DATE
from casework.targets.models import Target
from casework.web.i18n import CST, format_datetime
from casework.workflow.models import ClockRuleOverride

PAGE_SIZE = 100
EXPORT_LIMIT = 50_000

ADMIN_EVENT_LABELS = {
    "auth.login": _l("Sign-in"),
    "auth.logout": _l("Sign-out"),
    "auth.lock": _l("Account locked after failed sign-ins"),
    "access.denied": _l("Access denied (object outside the user's scope)"),
    "user.create": _l("Account created"),
    "user.roles": _l("Roles changed"),
    "user.deactivate": _l("Account deactivated"),
    "user.reactivate": _l("Account reactivated"),
    "user.anonymise": _l("Account anonymised"),
    "agency.create": _l("Agency created"),
    "agency.update": _l("Agency edited"),
    "agency.seal_upload": _l("Seal image uploaded"),
    "clock_rule.override": _l("Clock rule changed"),
    "clock_rule.reset": _l("Clock rule restored to its declaration"),
    "audit.verify": _l("Audit chain verified"),
    "audit.export": _l("Audit trail exported"),
    "notice.dossier_export": _l("Dossier exported"),
    "target.check": _l("Target checked"),
    "clock.expiry_refused": _l("Expiry step refused"),
}
EVENT_GROUPS = (
    ("auth.", _l("Sign-in and sessions")),
    ("access.", _l("Access denials")),
    ("user.", _l("Accounts")),
    ("agency.", _l("Agencies and seals")),
    ("clock_rule.", _l("Clock rules")),
    ("audit.", _l("Audit administration")),
    ("referral.", _l("Referrals")),
    ("assessment.", _l("Assessments")),
    ("assignment.", _l("Agency assignments")),
    ("disposition.", _l("Dispositions")),
    ("notice.", _l("Notices")),
    ("evidence.", _l("Evidence")),
    ("target.", _l("Targets")),
    ("clock.", _l("Time limits")),
)
OUTCOME_LABELS = {"ok": _l("Succeeded"), "refused": _l("Refused"), "locked": _l("Locked"),
                  "conflict": _l("Conflict"), "failed": _l("Failed")}
OBJECT_TYPE_LABELS = {
    "referral": _l("Referral"), "assignment": _l("Assignment"), "users": _l("Account"), "user": _l("Account"),
    "agencies": _l("Agency"), "agency": _l("Agency"), "agency_seal": _l("Seal"), "target": _l("Target"),
    "notice": _l("Notice"), "evidence": _l("Evidence"), "disposition": _l("Disposition"),
    "assessment": _l("Assessment"), "clock": _l("Time limit"), "clock_rule_override": _l("Clock rule"),
    "clock_extension": _l("Extension request"), "reminder": _l("Reminder"), "reconsideration": _l("Reconsideration"),
    "assignment_note": _l("Investigation note"), "target_check": _l("Target check"),
}
TEXT_LIMIT = 64


def audit_event_label(event: str, trigger: str | None = None, object_type: str | None = None,
                      kind: str | None = None) -> str:
    """An audit event in words: sign-in and administration here, everything else as the desk names it."""
    if event in ADMIN_EVENT_LABELS:
        return str(ADMIN_EVENT_LABELS[event])
    return event_label(event, trigger, object_type, kind)


def event_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """(group title, [(value, label)]) for the event filter: groups by prefix, then single events."""
    groups = [(prefix, str(label)) for prefix, label in EVENT_GROUPS]
    single = sorted(((name, str(label)) for name, label in ADMIN_EVENT_LABELS.items()), key=lambda c: c[1])
    return [(str(_l("Kinds of events")), groups), (str(_l("Single events")), single)]


def _day(value: str, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        return None
    moment = datetime.combine(day, time.min, tzinfo=CST)
    return moment + timedelta(days=1) if end else moment


@dataclass
class TrailFilters:
    """The audit page's filters; values that are not ids, days or known outcomes are ignored."""

    user: str = ""
    agency: str = ""
    referral: str = ""
    event: str = ""
    outcome: str = ""
    since: str = ""
    until: str = ""
    object_type: str = ""
    object_id: str = ""
    notes: dict[str, str] = field(default_factory=dict)

    NAMES = ("user", "agency", "referral", "event", "outcome", "since", "until", "object_type", "object_id")

    @classmethod
    def from_args(cls, args) -> TrailFilters:
        return cls(**{name: _plain(args.get(name)) for name in cls.NAMES})

    def as_args(self) -> dict[str, str]:
        """The filters set, for links (paging, export)."""
        return {name: getattr(self, name) for name in self.NAMES if getattr(self, name)}

    def query(self):
        """``select(AuditEvent)`` with the filters applied."""
        query = select(AuditEvent)
        if self.user:
            query = query.where(AuditEvent.actor_name == self.user)
        if (agency_id := database_id(self.agency)) is not None:
            query = query.where(AuditEvent.agency_id == agency_id)
        if self.referral:
            query = query.where(self._referral_clause())
        if self.event:
            query = query.where(AuditEvent.event.startswith(self.event, autoescape=True))
        if self.outcome in OUTCOME_LABELS:
            query = query.where(AuditEvent.outcome == self.outcome)
        if since := _day(self.since):
            query = query.where(AuditEvent.occurred_at >= since)
        if until := _day(self.until, end=True):
            query = query.where(AuditEvent.occurred_at < until)
        if self.object_type:
            query = query.where(AuditEvent.object_type == self.object_type)
        if (object_id := database_id(self.object_id)) is not None:
            query = query.where(AuditEvent.object_id == object_id)
        return query

    def _referral_clause(self):
        """Events on the referral and on what hangs from it: assignments, dispositions, notices, evidence."""
        referral_id = database_id(self.referral)
        if referral_id is None:
            referral_id = db.session.scalar(select(Referral.id).where(Referral.number == self.referral))
        if referral_id is None or db.session.get(Referral, referral_id) is None:
            self.notes["referral"] = str(_l("No referral has this number or id."))
            return false()
        assignments = select(Assignment.id).where(Assignment.referral_id == referral_id)
        return or_(
            (AuditEvent.object_type == "referral") & (AuditEvent.object_id == referral_id),
            (AuditEvent.object_type == "assignment") & AuditEvent.object_id.in_(assignments),
            (AuditEvent.object_type == "disposition") & AuditEvent.object_id.in_(
                select(Disposition.id).where(Disposition.assignment_id.in_(assignments))),
            (AuditEvent.object_type == "notice") & AuditEvent.object_id.in_(
                select(Notice.id).where(Notice.referral_id == referral_id)),
            (AuditEvent.object_type == "evidence") & AuditEvent.object_id.in_(
                select(Evidence.id).where(Evidence.referral_id == referral_id)),
        )


def _plain(value) -> str:
    """A filter value: printable text, short enough to be a name or a number."""
    text = "".join(ch for ch in str(value or "") if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)
    return text.strip()[:TEXT_LIMIT]


@dataclass(frozen=True)
class TrailRow:
    seq: int
    time: str
    user: str
    agency: str
    source_ip: str
    event: str
    event_label: str
    object_label: str
    change: str
    outcome: str
    outcome_label: str
    detail: str
    hash: str


@dataclass
class TrailPage:
    filters: TrailFilters
    rows: list[TrailRow]
    next_before: int | None
    agencies: list[tuple[int, str]]
    events: list


def trail_page(filters: TrailFilters, before: str | None) -> TrailPage:
    """One page of events (newest first), older ones after ``before`` (a sequence number)."""
    query = filters.query()
    if (limit := database_id(before, LARGEST_BIGINT)) is not None:
        query = query.where(AuditEvent.seq < limit)
    events = db.session.scalars(query.order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    agencies = db.session.execute(select(Agency.id, Agency.name).order_by(Agency.kind, Agency.code)).all()
    return TrailPage(filters, readable_rows(events), events[-1].seq if more else None,
                     [(a.id, a.name) for a in agencies], event_choices())


def export_events(filters: TrailFilters) -> list[TrailRow]:
    """The newest ``EXPORT_LIMIT`` events matching the filters, as readable rows."""
    events = db.session.scalars(filters.query().order_by(AuditEvent.seq.desc()).limit(EXPORT_LIMIT)).all()
    return readable_rows(events)


def readable_rows(events: list[AuditEvent]) -> list[TrailRow]:
    names = _object_names(events)
    agencies = dict(db.session.execute(select(Agency.id, Agency.name).where(
        Agency.id.in_({e.agency_id for e in events if e.agency_id}))).all())
    rows = []
    for e in events:
        name, kind = names.get((e.object_type, e.object_id), (None, None))
        rows.append(TrailRow(
            seq=e.seq, time=format_datetime(e.occurred_at), user=e.actor_name or "",
            agency=agencies.get(e.agency_id, ""), source_ip=e.source_ip or "", event=e.event,
            event_label=audit_event_label(e.event, e.trigger, e.object_type, kind),
            object_label=_object_label(e, name), change=_change(e, kind),
            outcome=e.outcome, outcome_label=str(OUTCOME_LABELS.get(e.outcome, e.outcome)),
            detail=_detail(e.payload), hash=e.hash,
        ))
    return rows


def _object_label(event: AuditEvent, name: str | None) -> str:
    if not event.object_type:
        return ""
    kind = str(OBJECT_TYPE_LABELS.get(event.object_type, event.object_type))
    return f"{kind} {name}" if name else f"{kind} #{event.object_id}"


def _change(event: AuditEvent, kind: str | None) -> str:
    if not event.to_state:
        return ""
    before = object_state_label(event.object_type, event.from_state, kind)
    after = object_state_label(event.object_type, event.to_state, kind)
    return f"{before} → {after}" if before else after


def _detail(payload: dict | None, limit: int = 300) -> str:
    """The event's particulars in one line (a refusal's reason first)."""
    if not isinstance(payload, dict) or not payload:
        return ""
    ordered = sorted(((k, v) for k, v in payload.items() if v not in (None, "", [], {})),
                     key=lambda item: item[0] != "reason")
    text = "; ".join(f"{key}: {_value(value)}" for key, value in ordered)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _value(value) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _object_names(events: list[AuditEvent]) -> dict[tuple[str, int], tuple[str, str | None]]:
    """(object type, id) -> (name, agency kind of an assignment) for the objects of ``events``."""
    wanted: dict[str, set[int]] = {}
    for e in events:
        if e.object_type and e.object_id is not None:
            wanted.setdefault(e.object_type, set()).add(e.object_id)
    found: dict[tuple[str, int], tuple[str, str | None]] = {}
    for object_type, ids in wanted.items():
        for ident, name, kind in _names_of(object_type, ids):
            found[(object_type, ident)] = (name, kind)
    return found


def _names_of(object_type: str, ids: set[int]) -> list[tuple[int, str, str | None]]:
    if object_type == "assignment":
        rows = db.session.execute(
            select(Assignment.id, Referral.number, Agency.name, Agency.kind)
            .join(Referral, Assignment.referral_id == Referral.id).join(Agency, Assignment.agency_id == Agency.id)
            .where(Assignment.id.in_(ids))).all()
        return [(r[0], f"{r[1]} · {r[2]}", r[3]) for r in rows]
    columns = {
        "referral": (Referral.id, Referral.number), "users": (User.id, User.username),
        "user": (User.id, User.username), "agencies": (Agency.id, Agency.name), "agency": (Agency.id, Agency.name),
        "target": (Target.id, Target.key), "notice": (Notice.id, Notice.document_number),
        "evidence": (Evidence.id, Evidence.original_filename),
        "clock_rule_override": (ClockRuleOverride.id, ClockRuleOverride.rule),
    }
    if object_type == "agency_seal":
        rows = db.session.execute(select(AgencySeal.id, Agency.name).join(Agency, AgencySeal.agency_id == Agency.id)
                                  .where(AgencySeal.id.in_(ids))).all()
        return [(r[0], r[1], None) for r in rows]
    if object_type not in columns:
        return []
    ident, name = columns[object_type]
    return [(r[0], str(r[1]), None) for r in db.session.execute(select(ident, name).where(ident.in_(ids)))]


# Export ------------------------------------------------------------------------------------------

_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value) -> str | int:
    """A value safe in CSV and XLSX: no characters XML refuses, and text a spreadsheet program
    would run as a formula kept as text (a leading apostrophe)."""
    if isinstance(value, int):
        return value
    text = _NOT_IN_XML.sub("\ufffd", str(value))
    return "'" + text if text.lstrip(" ").startswith(FORMULA_START) else text


def export_header() -> list[str]:
    return [str(label) for label in (
        _l("Sequence"), _l("Time (China Standard Time)"), _l("User"), _l("Agency"), _l("IP"), _l("Event"),
        _l("Event code"), _l("Object"), _l("Change"), _l("Outcome"), _l("Details"), _l("Hash"))]


def _export_row(row: TrailRow) -> list:
    return [spreadsheet_cell(v) for v in (
        row.seq, row.time, row.user, row.agency, row.source_ip, row.event_label, row.event, row.object_label,
        row.change, row.outcome_label, row.detail, row.hash)]


def to_csv(rows: list[TrailRow]) -> bytes:
    """UTF-8 with a byte order mark, so that Excel and WPS read the Chinese text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export_header())
    for row in rows:
        writer.writerow(_export_row(row))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[TrailRow]) -> bytes:
    from openpyxl import Workbook  # openpyxl (0.1 s) loads only for an XLSX export, not at start-up

    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_l("Audit trail")))
    sheet.append(export_header())
    for row in rows:
        sheet.append(_export_row(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
