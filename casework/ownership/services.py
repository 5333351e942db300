"""Claiming (领办), assigning (指派/改派) and releasing an item; each change audited, the new owner told."""
from __future__ import annotations

from sqlalchemy import select

from casework.accounts.models import User, UserRole
from casework.audit.services import record_event
from casework.errors import NotAllowed, ValidationFailed
from casework.extensions import db
from casework.notifications.services import notify_users
from casework.access.ownership import desk_agency_id, is_open, may_assign, may_claim, may_release, working_roles
from casework.text import _
from casework.workflow.moved_on import done_by, last_change


def assignable_users(item) -> list[User]:
    """The active officers of the item's desk an approver may name."""
    return list(db.session.scalars(
        select(User).where(User.agency_id == desk_agency_id(item), User.active.is_(True),
                           User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(sorted(working_roles(item))))))
        .order_by(User.display_name, User.id)))


def _change_owner(item, owner: User | None, actor, event: str) -> None:
    before = item.owner_id
    item.owner = owner
    db.session.flush()
    record_event(f"{item.audit_type}.{event}", actor, item, payload={
        "owner_before": before, "owner_after": owner.id if owner else None})


def claim_item(item, data: dict, actor) -> None:
    """领办: the officer becomes the owner."""
    if not may_claim(actor, item):
        raise NotAllowed(_claim_refusal(item, actor))
    _change_owner(item, actor, actor, "claim")


def assign_item(item, data: dict, actor) -> None:
    """指派/改派: an approver names the owner (``data["owner"]``, a user id); the owner is told."""
    if not may_assign(actor, item):
        raise NotAllowed(_("only an approver of %(agency)s assigns this", agency=_desk_name(item)))
    owner = next((u for u in assignable_users(item) if u.id == data.get("owner")), None)
    if owner is None:
        raise ValidationFailed({"owner": _("choose an officer of %(agency)s", agency=_desk_name(item))})
    if owner.id == item.owner_id:
        return
    _change_owner(item, owner, actor, "assign")
    if owner.id != getattr(actor, "id", None):
        notify_users([owner], "owner", item, actor=actor)


def release_item(item, data: dict, actor) -> None:
    """The item goes back to the desk, without an owner."""
    if not may_release(actor, item):
        raise NotAllowed(_("only its owner or an approver can give this back to the desk"))
    _change_owner(item, None, actor, "release")


def _claim_refusal(item, actor) -> str:
    """Why a claim is refused: whoever already took it, and when, or who may claim."""
    if item.owner_id is not None and is_open(item):
        if item.owner_id == getattr(actor, "id", None):
            return _("it is already yours")
        event = last_change(item, changes=("claim", "assign"))
        if event is not None:
            return done_by(item, event)
        return _("%(owner)s already owns it", owner=item.owner.display_name)
    return _("you cannot take this on: only an officer of %(agency)s can, while it is open", agency=_desk_name(item))


def _desk_name(item) -> str:
    return item.origin_agency.name if item.audit_type == "referral" else item.agency.name


def claim_on_first_step(obj, trigger: str, from_state: str, actor, created=()) -> None:
    """After a step: an officer of the desk who acts on an unowned item becomes its owner (whoever
    signs for an assignment handles it unless an approver reassigns it)."""
    if actor is not None and may_claim(actor, obj):
        _change_owner(obj, actor, actor, "claim")
