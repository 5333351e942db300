"""Everything the referral page shows, loaded up front with a fixed number of statements.

``referral_page`` loads the referral with its assignments (and their dispositions, actions and
notes), targets and assessments, then in one statement each: the notices, the evidence, the
timeline, the running clocks of the assignments with their extension requests, the takedown
metrics, every user and agency the page names (the owners too, ``casework.ownership.panel``), and the routing recommendation when a routing
form is offered. The template reads only this object and the objects it holds (their
many-to-one links resolve from the session's identity map); it runs no query of its own, so the
page costs the same number of statements whatever the number of agencies, targets, notices and
timeline entries (``tests/test_referral_page_sql.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from casework.access.rules import (assignments_with_details, may_add_evidence, may_comment, may_correct_notice,
                                   may_edit_referral, may_import_targets, notice_reader)
from casework.accounts.models import User
from casework.agencies.models import Agency
from casework.assignments.models import Assignment, Disposition
from casework.audit.models import AuditEvent
from casework.comments.models import Comment
from casework.comments.services import mentionable_users, visible_comments
from casework.db_types import database_id
from casework.evidence.models import Evidence
from casework.extensions import db
from casework.notices.models import Notice
from casework.ownership.panel import OwnerRow, owner_rows
from casework.referrals import labels
from casework.referrals.forms import field_options
from casework.referrals.models import Referral
from casework.referrals.routing_recommendation import recommended_agencies
from casework.targets.metrics import referral_metrics
from casework.text import language
from casework.workflow.clocks import subject_ref
from casework.workflow.diagrams import svg_for
from casework.workflow.engine import available_triggers
from casework.workflow.models import Clock
from workflows import declarations


TIMELINE_TEXTS = ("reason", "material", "summary", "body", "opinion")  # payload keys the timeline prints


@dataclass
class ActionSet:
    """The triggers one user may fire now on one object, with each field's options:
    ``options[trigger][field]`` (``casework.referrals.forms.field_options``)."""

    obj: object
    kind: str
    triggers: list = field(default_factory=list)
    options: dict[str, dict[str, dict]] = field(default_factory=dict)


@dataclass
class PendingExtension:
    """An extension request waiting for an approver, with its clock's name and unit in words."""

    request: object
    clock: str
    unit: str


@dataclass
class CommentSection:
    """意见交流: the comments the user may read (authors loaded with them), which of them a later
    comment corrects ({original id: correction id}), and for the form: the assignments a comment may
    be about and the people who may be mentioned."""

    comments: list[Comment] = field(default_factory=list)
    corrected_by: dict[int, int] = field(default_factory=dict)
    may_write: bool = False
    subjects: list[tuple[int, str]] = field(default_factory=list)
    mentionable: list[User] = field(default_factory=list)

    def correctable(self, comment: Comment, user: User) -> bool:
        """The author may correct a comment not corrected yet."""
        return self.may_write and comment.author_id == user.id and comment.id not in self.corrected_by

    def failed_correction(self, comment_id: int | None, user: User) -> int | None:
        """The comment whose correction form shows a refused correction of ``comment_id``; None when
        that form is not on the page (then the page's own form shows the error and the text)."""
        found = next((c for c in self.comments if c.id == comment_id), None)
        return comment_id if found is not None and self.correctable(found, user) else None


def comment_section(referral: Referral, assignments: list[Assignment], user: User,
                    readable: set[int]) -> CommentSection:
    """The comments ``user`` may read and what the form offers (two statements, whatever the number
    of comments: the comments with their authors, the people who may be mentioned)."""
    comments = visible_comments(referral, user, readable)
    corrected_by = {c.supersedes_id: c.id for c in comments if c.supersedes_id is not None}
    if not may_comment(user, referral):
        return CommentSection(comments, corrected_by)
    return CommentSection(comments, corrected_by, True,
                          [(a.id, a.agency.name) for a in assignments if a.id in readable],
                          mentionable_users(referral))


@dataclass
class ReferralPage:
    referral: Referral
    assignments: list[Assignment]
    timeline: list[AuditEvent]
    notices: list
    evidence: list
    actions: list[ActionSet]
    diagram: str | None
    own_diagram: str | None
    own_assignment: Assignment | None
    detail_ids: set[int] = field(default_factory=set)
    actor_names: dict[int, str] = field(default_factory=dict)
    people: dict[int, User] = field(default_factory=dict)
    extensions: dict[int, PendingExtension] = field(default_factory=dict)
    recommendation_texts: list[str] = field(default_factory=list)
    takedown_rows: list = field(default_factory=list)
    correctable_notice_ids: set[int] = field(default_factory=set)
    comments: CommentSection = field(default_factory=CommentSection)
    owners: list[OwnerRow] = field(default_factory=list)
    may_edit: bool = False
    may_add_evidence: bool = False
    may_import_targets: bool = False

    def actor_label(self, event: AuditEvent) -> str:
        """Who did it: the user's display name, or "system" for the clock and other automatic steps."""
        if event.actor_id in self.actor_names:
            return self.actor_names[event.actor_id]
        if event.actor_name in (None, "", "system"):
            return _("system")
        return event.actor_name

    def shows_payload(self, event: AuditEvent) -> bool:
        """Whether the user may read the reasons and texts an event carries."""
        if event.object_type == "assignment":
            return event.object_id in self.detail_ids
        if event.object_type == "disposition":
            owners = {d.id: a.id for a in self.assignments for d in a.dispositions}
            return owners.get(event.object_id) in self.detail_ids
        return True

    def event_texts(self, event: AuditEvent) -> list[tuple[str, str]]:
        """The texts an event carries that the user may read, each with the label of the form field
        it was typed in (e.g. 审批意见 for an approver's opinion), in a fixed order."""
        if not self.shows_payload(event):
            return []
        kind = self.agency_kinds.get(event.object_id) if event.object_type == "assignment" else None
        payload = event.payload or {}
        return [(labels.field_label(event.trigger, key, event.object_type, kind), payload[key])
                for key in TIMELINE_TEXTS if isinstance(payload.get(key), str) and payload[key]]

    @property
    def agency_names(self) -> dict[int, str]:
        return {a.id: a.agency.name for a in self.assignments}

    @property
    def agency_kinds(self) -> dict[int, str]:
        return {a.id: a.agency.kind for a in self.assignments}


def load_referral(referral: Referral) -> Referral:
    """The referral again with its assignments (dispositions, actions, notes), targets and
    assessments loaded, one statement per collection."""
    return db.session.scalars(
        select(Referral).where(Referral.id == referral.id)
        .options(selectinload(Referral.assignments).options(
                     selectinload(Assignment.dispositions).selectinload(Disposition.actions),
                     selectinload(Assignment.notes)),
                 selectinload(Referral.target_links),
                 selectinload(Referral.assessments))
        .execution_options(populate_existing=True)
    ).one()


def timeline_for(referral: Referral, assignments: list[Assignment], related: dict[str, list[int]]) -> list[AuditEvent]:
    """What happened to the referral, its assignments and the records hanging off them (one query).

    Refused attempts stay out: they are for the audit trail, not the timeline every party reads."""
    ids = {"referral": [referral.id], "assignment": [a.id for a in assignments],
           "assessment": [a.id for a in referral.assessments], **related}
    refs = [and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_(values))
            for kind, values in ids.items() if values]
    return list(db.session.scalars(
        select(AuditEvent).where(or_(*refs), AuditEvent.outcome == "ok").order_by(AuditEvent.seq)))


def notices_for(referral: Referral, user: User) -> tuple[list[Notice], set[int]]:
    """The referral's notices ``user`` may read, in issue order, and those the user may correct."""
    every = list(db.session.scalars(
        select(Notice).where(Notice.referral_id == referral.id).order_by(Notice.issued_at, Notice.id)))
    by_superseded = {n.supersedes_id: n for n in every if n.supersedes_id is not None}
    for notice in every:  # a superseding notice is always one of the same referral's
        set_committed_value(notice, "superseded_by", by_superseded.get(notice.id))
    readable = list(filter(notice_reader(user), every))
    return readable, {n.id for n in readable if may_correct_notice(user, n)}


def evidence_for(referral: Referral) -> list[Evidence]:
    return list(db.session.scalars(select(Evidence).where(Evidence.referral_id == referral.id).order_by(Evidence.id)))


def pending_extensions(assignments: list[Assignment], readable: set[int]) -> dict[int, PendingExtension]:
    """{assignment id: the extension request waiting on one of its running clocks} for the
    assignments whose details the user reads (one statement for the clocks, one for the requests)."""
    refs = [subject_ref(a) for a in assignments if a.id in readable]
    if not refs:
        return {}
    clocks = db.session.scalars(
        select(Clock).where(Clock.subject_type == refs[0][0], Clock.subject_id.in_([ident for _kind, ident in refs]),
                            Clock.stopped_at.is_(None))
        .options(selectinload(Clock.extensions)).order_by(Clock.id))
    rules, found = declarations().clocks, {}
    for clock in clocks:
        asked = next((e for e in clock.extensions if e.state == "requested"), None)
        if asked is None or clock.subject_id in found:
            continue
        rule = rules.get(clock.rule)
        found[clock.subject_id] = PendingExtension(asked, rule.label.pick(language()) if rule else clock.rule,
                                                   labels.clock_unit_label(clock.unit))
    return found


def actions_for(referral: Referral, assignments: list[Assignment], user: User) -> list[ActionSet]:
    """What the user may fire now on the referral and each assignment, with each form field's
    options (the routing recommendation computed once, when a routing form is offered)."""
    sets = [ActionSet(referral, "referral", list(available_triggers(referral, user)))]
    sets += [ActionSet(a, "assignment", list(available_triggers(a, user))) for a in assignments]
    sets = [s for s in sets if s.triggers]
    wants_recommendation = any(not f.default for s in sets for t in s.triggers for f in t.fields
                               if f.type == "agencies")
    recommended = recommended_agencies(referral) if wants_recommendation else {}
    for action_set in sets:
        action_set.options = {t.name: {f.name: field_options(action_set.obj, f, recommended) for f in t.fields}
                              for t in action_set.triggers}
    return sets


def load_people(referral: Referral, assignments: list[Assignment], evidence: list[Evidence],
                timeline: list[AuditEvent], extensions: dict[int, PendingExtension]) -> dict[int, User]:
    """Every user the page names, by id (one statement). The page keeps them, so that the links to
    them (assessor, note authors, proposers …) resolve from the session's identity map."""
    ids = {event.actor_id for event in timeline}
    for assessment in referral.assessments:
        ids |= {assessment.assessor_id, assessment.approved_by_id}
    for assignment in assignments:
        ids |= {note.author_id for note in assignment.notes}
        ids |= {d.proposed_by_id for d in assignment.dispositions} | {d.decided_by_id for d in assignment.dispositions}
    ids |= {e.uploaded_by_id for e in evidence} | {x.request.requested_by_id for x in extensions.values()}
    ids |= {referral.owner_id} | {a.owner_id for a in assignments}
    ids.discard(None)
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def recommendation_texts(referral: Referral) -> list[str]:
    """The assessment's recommended agencies as "name（reason）" (one statement for the names)."""
    assessment = referral.assessment
    items = [item for item in (assessment.recommendations if assessment else []) or []]
    keys = {str(item.get("agency_id") or item.get("agency") or item.get("code") or "")
            for item in items if isinstance(item, dict)}
    names: dict[str, str] = {}
    if keys:
        ids = [number for number in map(database_id, keys) if number is not None]
        for agency in db.session.scalars(select(Agency).where(or_(Agency.code.in_(keys), Agency.id.in_(ids)))):
            names[agency.code] = names[str(agency.id)] = agency.name
    texts = []
    for item in items:
        if not isinstance(item, dict):
            texts.append(str(item))
            continue
        key = str(item.get("agency_id") or item.get("agency") or item.get("code") or "")
        name, reason = names.get(key, key), item.get("reason") or ""
        texts.append(f"{name}（{reason}）" if reason else name)
    return texts


def referral_page(referral: Referral, user: User) -> ReferralPage:
    referral = load_referral(referral)
    assignments = list(referral.assignments)
    own = next((a for a in assignments if a.agency_id == user.agency_id), None)
    notices, correctable = notices_for(referral, user)
    evidence = evidence_for(referral)
    related = {"notice": [n.id for n in notices], "evidence": [e.id for e in evidence],
               "disposition": [d.id for a in assignments for d in a.dispositions]}
    timeline = timeline_for(referral, assignments, related)
    detail_ids = assignments_with_details(user, referral, assignments)
    extensions = pending_extensions(assignments, detail_ids)
    people = load_people(referral, assignments, evidence, timeline, extensions)
    return ReferralPage(
        referral=referral,
        assignments=assignments,
        timeline=timeline,
        notices=notices,
        evidence=evidence,
        actions=actions_for(referral, assignments, user),
        diagram=svg_for(referral),
        own_diagram=svg_for(own) if own is not None else None,
        own_assignment=own,
        detail_ids=detail_ids,
        actor_names={e.actor_id: people[e.actor_id].display_name for e in timeline if e.actor_id in people},
        people=people,
        extensions=extensions,
        recommendation_texts=recommendation_texts(referral),
        takedown_rows=referral_metrics(referral),
        correctable_notice_ids=correctable,
        comments=comment_section(referral, assignments, user, detail_ids),
        owners=owner_rows(referral, assignments, user, detail_ids),
        may_edit=may_edit_referral(user, referral),
        may_add_evidence=may_add_evidence(user, referral),
        may_import_targets=may_import_targets(user, referral),
    )
