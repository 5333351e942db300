"""Notifications written in the transaction of the change that caused them (a transactional outbox):
a rolled-back change notifies no one. E-mail goes out later, from ``casework worker``."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, update

from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.extensions import db
from casework.notifications.models import MailDelivery, MailSettings, Notification
from casework.notifications.recipients import next_desk, recipients_for

MAIL_MODES = ("immediate", "digest", "off")


def _referral_of(subject):
    return subject if subject.audit_type == "referral" else subject.referral


def notify_users(users, kind: str, subject, *, trigger: str | None = None, actor=None,
                 dedupe_key: str | None = None) -> list[Notification]:
    """One notification per user (a User or a user id) about ``subject`` (a referral or an assignment),
    and its e-mail delivery where the user has an address and wants mail. A ``dedupe_key`` already used
    for a user tells that user nothing new. Flushes, never commits."""
    referral = _referral_of(subject)
    users = {getattr(u, "id", u): u for u in users}
    if dedupe_key and users:
        told = set(db.session.scalars(select(Notification.recipient_id).where(
            Notification.dedupe_key == dedupe_key, Notification.recipient_id.in_(list(users)))))
        users = {uid: u for uid, u in users.items() if uid not in told}
    if not users:
        return []
    created = [Notification(
        recipient_id=uid, kind=kind, referral_id=referral.id, subject_type=subject.audit_type,
        subject_id=subject.id, trigger=trigger, number=referral.number, title=referral.title[:200],
        agency_kind=subject.agency.kind if subject.audit_type == "assignment" else None,
        link=f"/referrals/{referral.id}", actor_id=getattr(actor, "id", None), dedupe_key=dedupe_key,
    ) for uid in users]
    db.session.add_all(created)
    db.session.flush()
    _queue_mail(created)
    return created


def _queue_mail(notifications: list[Notification]) -> None:
    if not current_app.config.get("MAIL_URL"):
        return
    settings = {s.user_id: s for s in db.session.scalars(
        select(MailSettings).where(MailSettings.user_id.in_([n.recipient_id for n in notifications])))}
    for notification in notifications:
        wanted = settings.get(notification.recipient_id)
        if wanted is None or not wanted.email or wanted.mode == "off":
            continue
        db.session.add(MailDelivery(notification_id=notification.id, recipient_id=notification.recipient_id,
                                    address=wanted.email, next_attempt_at=notification.created_at,
                                    state="held" if wanted.mode == "digest" else "pending"))
    db.session.flush()


def notify_transition(obj, trigger: str, from_state: str, actor, created=()) -> list[Notification]:
    """Tell the desk that acts next: after a step that moved ``obj`` to another state, and for every
    item the step created (e.g. the assignments a routing opens: new work to receive)."""
    told = []
    if obj.state != from_state:
        told += _notify_next_desk(obj, trigger, actor)
    for item in created:
        told += _notify_next_desk(item, trigger, actor)
    return told


def _notify_next_desk(obj, trigger: str, actor) -> list[Notification]:
    desk = next_desk(obj, obj.state)
    if desk is None:
        return []
    return notify_users(recipients_for(obj, desk, actor), desk.kind, obj, trigger=trigger, actor=actor)


def notify_clock(clock, subject, kind: str) -> list[Notification]:
    """Due soon (one working day before) or overdue (催办): the desk that has to act now, told once per clock."""
    desk = next_desk(subject, subject.state)
    if desk is None:
        return []
    users = recipients_for(subject, desk)
    return notify_users(users, kind, subject, dedupe_key=f"{kind}:clock:{clock.id}")


def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.recipient_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(notification: Notification, data: dict, actor) -> Notification:
    """The recipient has seen it."""
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user, data: dict, actor) -> int:
    """Every unread notification of ``user`` read at once; returns how many."""
    result = db.session.execute(update(Notification).where(
        Notification.recipient_id == user.id, Notification.read_at.is_(None)).values(read_at=utcnow()))
    return result.rowcount or 0


def mail_settings_of(user) -> MailSettings:
    return db.session.get(MailSettings, user.id) or MailSettings(user_id=user.id, mode="immediate", digest_hour=8)


def update_mail_settings(settings: MailSettings, data: dict, actor) -> MailSettings:
    """The user's address, mode (immediately, daily digest, off) and digest hour; audited."""
    before = {"email": settings.email, "mode": settings.mode, "digest_hour": settings.digest_hour}
    settings.email = data.get("email") or None
    settings.mode = data["mode"]
    settings.digest_hour = data["digest_hour"]
    db.session.add(settings)
    db.session.flush()
    record_event("mail_settings.update", actor, settings, payload={
        "before": before, "after": {"email": settings.email, "mode": settings.mode,
                                    "digest_hour": settings.digest_hour}})
    return settings


def give_demo_addresses(users) -> None:
    """Demo accounts get an address at a reserved demo domain (e-mail goes to the demo's local sink);
    the approvers of one agency are left without one, so that the admin's list shows who has none."""
    for user in users:
        if user.username.startswith("amr-44-approver"):
            continue
        db.session.add(MailSettings(user_id=user.id, email=f"{user.username}@demo.casework.example",
                                    mode="immediate", digest_hour=8))
    db.session.flush()
