"""When a step is refused because its object moved on meanwhile (another step took it out of the
state, or the version the user saw is no longer current), the refusal names who moved it and when,
from the object's last successful audit event: "已由 张三 于 11月29日 10:02 签收"."""
from __future__ import annotations

from sqlalchemy import select

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.extensions import db
from casework.text import CST, _, language
from casework.workflow.lifecycles import lifecycle_for

def last_change(obj, *, state: str | None = None, changes: tuple[str, ...] = ()) -> AuditEvent | None:
    """The object's last successful audit event: the step that brought it into ``state``, or one of
    ``changes`` (e.g. "claim"), or any."""
    query = _events(obj)
    if state is not None:
        query = query.where(AuditEvent.to_state == state, AuditEvent.trigger.is_not(None))
    if changes:
        query = query.where(AuditEvent.event.in_([f"{obj.audit_type}.{change}" for change in changes]))
    return db.session.scalar(query.order_by(AuditEvent.id.desc()).limit(1))


def _events(obj):
    return select(AuditEvent).where(AuditEvent.object_type == obj.audit_type, AuditEvent.object_id == obj.id,
                                    AuditEvent.outcome == "ok")


def done_by(obj, event: AuditEvent) -> str:
    """"已由 张三 于 11月29日 10:02 签收" / "Already done by 张三 on 2026-11-29 10:02: Receive"."""
    actor = db.session.get(User, event.actor_id) if event.actor_id is not None else None
    who = actor.display_name if actor is not None else (event.actor_name if event.actor_name not in (None, "", "system")
                                                        else _("the system"))
    local = event.occurred_at.astimezone(CST)
    when = f"{local.month}月{local.day}日 {local:%H:%M}" if language() == "zh" else f"{local:%Y-%m-%d %H:%M}"
    return _("Already done by %(who)s on %(when)s: %(step)s", who=who, when=when, step=_step_words(obj, event))


def _step_words(obj, event: AuditEvent) -> str:
    if event.trigger:
        found = next((t for t in lifecycle_for(obj).transitions if t.trigger == event.trigger), None)
        if found is not None:
            return found.label.pick(language())
    return _change_words(event.event.rpartition(".")[2])


def _change_words(change: str) -> str:
    """Changes of an item that are not steps of its lifecycle (``<subject>.<change>`` audit events)."""
    words = {"claim": _("claimed"), "assign": _("assigned"), "release": _("released")}
    return words.get(change) or _("made a change")


def moved_on_refusal(obj, action: str, state_label: str) -> str:
    """Why ``action`` is refused in the object's current state, naming the step that brought it there."""
    event = last_change(obj, state=obj.state)
    if event is None:
        return _("'%(action)s' is not allowed while the case is '%(state)s'", action=action, state=state_label)
    return _("%(done)s; '%(action)s' is no longer possible (now '%(state)s')",
             done=done_by(obj, event), action=action, state=state_label)


def stale_version_refusal(obj) -> str | None:
    """Why a step sent with an old version is refused: the change made since (None: nothing recorded);
    a step that also made its actor the owner is named by the step."""
    latest = list(db.session.scalars(_events(obj).order_by(AuditEvent.id.desc()).limit(2)))
    if not latest:
        return None
    event = latest[0]
    if len(latest) == 2 and event.event.endswith(".claim") and latest[1].trigger and latest[1].actor_id == event.actor_id:
        event = latest[1]
    return _("%(done)s; reload the page and try again", done=done_by(obj, event))
