"""Writing comments: who may, whom one may mention, who is told."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from casework.accounts.models import User
from casework.audit.services import record_event
from casework.comments.models import Comment
from casework.errors import NotAllowed, ValidationFailed
from casework.extensions import db
from casework.notifications.services import notify_users
from casework.access.rules import assignments_with_details, may_comment
from casework.text import _

MAX_LENGTH = 5000
MENTION = re.compile(r"(?<![\w.@-])@([A-Za-z0-9][A-Za-z0-9._-]{0,63})")


def mentioned_names(body: str) -> list[str]:
    return list(dict.fromkeys(name.rstrip(".") for name in MENTION.findall(body)))


def case_agency_ids(referral, assignment=None) -> set[int]:
    """The agencies on the case: the referring department and the agencies it went to (only the
    one agency, for a comment on one assignment)."""
    agencies = {referral.origin_agency_id}
    agencies |= {assignment.agency_id} if assignment is not None else {a.agency_id for a in referral.assignments}
    return agencies


def visible_comments(referral, user, readable: set[int] | None = None) -> list[Comment]:
    """The comments ``user`` may read: those on the referral, and those on assignments whose
    details the user may read (``readable``, the ids of those assignments, when already known);
    oldest first, with their authors (one statement)."""
    if readable is None:
        readable = assignments_with_details(user, referral, list(referral.assignments))
    comments = db.session.scalars(select(Comment).where(Comment.referral_id == referral.id)
                                  .options(joinedload(Comment.author)).order_by(Comment.id))
    return [c for c in comments if c.assignment_id is None or c.assignment_id in readable]


def mentionable_users(referral) -> list[User]:
    """The people a comment on ``referral`` may mention: the active users of the agencies on the
    case, by agency and user name (one statement)."""
    return list(db.session.scalars(select(User).where(User.agency_id.in_(case_agency_ids(referral)),
                                                      User.active.is_(True))
                                   .order_by(User.agency_id, User.username)))


def _corrected(supersedes: Comment, referral, actor):
    """The assignment a correction is about: the original's (a correction keeps who may read it)."""
    if supersedes.referral_id != referral.id or supersedes.author_id != actor.id:
        raise ValidationFailed({"supersedes": _("only your own comment on this case can be corrected")})
    if db.session.scalar(select(Comment.id).where(Comment.supersedes_id == supersedes.id).limit(1)) is not None:
        raise ValidationFailed({"supersedes": _("this comment is already corrected: correct the latest version")})
    return next((a for a in referral.assignments if a.id == supersedes.assignment_id), None)


def _mentioned_users(body: str, agencies: set[int]) -> list[User]:
    names = mentioned_names(body)
    if not names:
        return []
    found = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
    outside = [name for name in names if name not in found or found[name].agency_id not in agencies
               or not found[name].active]
    if outside:
        raise ValidationFailed({"body": _("only people of the agencies on this case can be mentioned: %(names)s",
                                          names=", ".join("@" + n for n in outside))})
    return [found[name] for name in names]


def add_comment(referral, data: dict, actor) -> Comment:
    """A new comment by a party on the case (``data``: body, optional assignment, optional
    supersedes: an earlier comment of the author's it corrects, not yet corrected; the correction
    is about the same assignment). Mentioned users are told, and so is the owner of the item
    commented on."""
    if not may_comment(actor, referral):
        raise NotAllowed(_("only the parties on the case can comment"))
    supersedes = data.get("supersedes")
    assignment = _corrected(supersedes, referral, actor) if supersedes is not None else data.get("assignment")
    if assignment is not None and (assignment.referral_id != referral.id or assignment.id not in
                                   assignments_with_details(actor, referral, [assignment])):
        raise ValidationFailed({"assignment": _("choose an agency's assignment you may read")})
    body = (data.get("body") or "").strip()
    if not body:
        raise ValidationFailed({"body": _("This field is required.")})
    if len(body) > MAX_LENGTH:
        raise ValidationFailed({"body": _("at most %(count)d characters", count=MAX_LENGTH)})
    mentioned = _mentioned_users(body, case_agency_ids(referral, assignment))
    comment = Comment(referral_id=referral.id, assignment_id=assignment.id if assignment else None,
                      author_id=actor.id, body=body, mentions=[u.id for u in mentioned],
                      supersedes_id=supersedes.id if supersedes else None)
    db.session.add(comment)
    db.session.flush()
    record_event("comment.create", actor, comment, payload={
        "referral_id": referral.id, "assignment_id": comment.assignment_id, "mentions": comment.mentions,
        "supersedes_id": comment.supersedes_id})
    subject = assignment or referral
    notify_users([u for u in mentioned if u.id != actor.id], "mention", subject, actor=actor)
    owner = subject.owner
    if owner is not None and owner.id != actor.id and owner.id not in comment.mentions:
        notify_users([owner], "comment", subject, actor=actor)
    return comment
