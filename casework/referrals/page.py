"""Everything the referral page shows, loaded with a fixed number of queries."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from casework.accounts.models import User
from casework.assignments.models import Assignment, Disposition
from casework.audit.models import AuditEvent
from casework.extensions import db
from casework.referrals.models import Referral
from casework.evidence.models import Evidence
from casework.notices.access import notice_reader
from casework.notices.models import Notice
from casework.referrals.scoping import assignments_with_details
from casework.workflow.diagrams import svg_for
from casework.workflow.engine import available_triggers


@dataclass
class ActionSet:
    """The triggers one user may fire now on one object."""

    obj: object
    kind: str
    triggers: list = field(default_factory=list)


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

    @property
    def agency_names(self) -> dict[int, str]:
        return {a.id: a.agency.name for a in self.assignments}

    @property
    def agency_kinds(self) -> dict[int, str]:
        return {a.id: a.agency.kind for a in self.assignments}


def load_assignments(referral: Referral) -> list[Assignment]:
    return list(db.session.scalars(
        select(Assignment).where(Assignment.referral_id == referral.id)
        .options(selectinload(Assignment.dispositions).selectinload(Disposition.actions),
                 selectinload(Assignment.notes))
        .order_by(Assignment.id)
    ))


def timeline_for(referral: Referral, assignments: list[Assignment], related: dict[str, list[int]]) -> list[AuditEvent]:
    """What happened to the referral, its assignments and the records hanging off them (one query).

    Refused attempts stay out: they are for the audit trail, not the timeline every party reads."""
    ids = {"referral": [referral.id], "assignment": [a.id for a in assignments],
           "assessment": [a.id for a in referral.assessments], **related}
    refs = [and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_(values))
            for kind, values in ids.items() if values]
    return list(db.session.scalars(
        select(AuditEvent).where(or_(*refs), AuditEvent.outcome == "ok").order_by(AuditEvent.seq)))


def display_names(user_ids: set[int]) -> dict[int, str]:
    """Display names of the given users (one query; none for an empty set)."""
    if not user_ids:
        return {}
    return {row.id: row.display_name for row in db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(user_ids)))}


def notices_for(referral: Referral, user: User) -> list:
    """The referral's notices ``user`` may read (``casework.notices.access``), in issue order."""
    query = select(Notice).where(Notice.referral_id == referral.id).order_by(Notice.issued_at, Notice.id)
    return list(filter(notice_reader(user), db.session.scalars(query)))


def evidence_for(referral: Referral) -> list:
    return list(db.session.scalars(select(Evidence).where(Evidence.referral_id == referral.id).order_by(Evidence.id)))


def actions_for(referral: Referral, assignments: list[Assignment], user: User) -> list[ActionSet]:
    sets = [ActionSet(referral, "referral", list(available_triggers(referral, user)))]
    for assignment in assignments:
        sets.append(ActionSet(assignment, "assignment", list(available_triggers(assignment, user))))
    return [s for s in sets if s.triggers]


def diagram_for(obj) -> str | None:
    """The lifecycle SVG with the object's current state highlighted (workflow.diagrams)."""
    return svg_for(obj) if obj is not None else None


def referral_page(referral: Referral, user: User) -> ReferralPage:
    assignments = load_assignments(referral)
    own = next((a for a in assignments if a.agency_id == user.agency_id), None)
    notices = notices_for(referral, user)
    evidence = evidence_for(referral)
    related = {"notice": [n.id for n in notices], "evidence": [e.id for e in evidence],
               "disposition": [d.id for a in assignments for d in a.dispositions]}
    timeline = timeline_for(referral, assignments, related)
    return ReferralPage(
        referral=referral,
        assignments=assignments,
        timeline=timeline,
        notices=notices,
        evidence=evidence,
        actions=actions_for(referral, assignments, user),
        diagram=diagram_for(referral),
        own_diagram=diagram_for(own),
        own_assignment=own,
        detail_ids=assignments_with_details(user, referral, assignments),
        actor_names=display_names({event.actor_id for event in timeline if event.actor_id is not None}),
    )
