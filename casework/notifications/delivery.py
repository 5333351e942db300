"""Sending the outbox: claim due deliveries for a short lease (row locks with SKIP LOCKED, so several
workers on PostgreSQL never take the same row), send each, record it sent at once. A temporary failure
(4xx, connection trouble) is retried with back-off; a permanent one (5xx) or too many tries marks the
delivery failed with the server's answer. A worker killed mid-batch loses nothing: its unsent claims
expire and are taken again; what it recorded as sent is never sent again."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from casework.accounts.models import User
from casework.db_types import utcnow
from casework.extensions import db
from casework.notifications.mail import PERMANENT, DeliveryError, build_digest, build_message
from casework.notifications.models import MailDelivery, MailSettings
from casework.unit_of_work import unit_of_work
from casework.web.i18n import CST

LEASE = timedelta(minutes=5)
# Sent mails are recorded in groups of this size (one commit each): a worker killed mid-group may send
# those few again once their lease runs out; what was recorded sent is never sent again.
RECORD_EVERY = 50


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.errors += other.errors


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def _claimable(now: datetime):
    return or_(MailDelivery.claimed_until.is_(None), MailDelivery.claimed_until < now)


def claim_pending(worker: str, now: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` due deliveries for this worker (one short transaction)."""
    with unit_of_work():
        rows = db.session.scalars(
            select(MailDelivery).where(MailDelivery.state == "pending", MailDelivery.next_attempt_at <= now,
                                       _claimable(now))
            .order_by(MailDelivery.id).limit(limit).with_for_update(skip_locked=True)).all()
        for row in rows:
            row.claimed_by = worker
            row.claimed_until = now + LEASE
        return [row.id for row in rows]


def _loaded(ids: list[int]) -> list[MailDelivery]:
    return list(db.session.scalars(
        select(MailDelivery).where(MailDelivery.id.in_(ids))
        .options(joinedload(MailDelivery.notification)).order_by(MailDelivery.id)))


def _locales(user_ids) -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.locale).where(User.id.in_(list(set(user_ids))))).all())


def deliver_pending(transport, *, worker: str | None = None, now: datetime | None = None,
                    batch: int = 200) -> DeliveryReport:
    """Send every delivery that is due now, batch by batch, through ``transport`` (one pass: a
    delivery that fails now is tried again in a later pass, after its back-off)."""
    worker = worker or worker_id()
    now = now or utcnow()
    report = DeliveryReport()
    while True:
        ids = claim_pending(worker, now, batch)
        if not ids:
            return report
        report.add(_send_claimed(transport, worker, ids))


def _send_claimed(transport, worker: str, ids: list[int]) -> DeliveryReport:
    report = DeliveryReport()
    deliveries = _loaded(ids)
    locales = _locales(d.recipient_id for d in deliveries)
    messages = [(d.id, d.attempts, build_message(d.notification, d.address, locales.get(d.recipient_id, "zh")))
                for d in deliveries]
    db.session.rollback()
    sent: list[int] = []
    with transport:
        for delivery_id, attempts, message in messages:
            try:
                transport.send(message)
            except DeliveryError as error:
                _record_failure(delivery_id, worker, attempts, error, report)
                continue
            sent.append(delivery_id)
            report.sent += 1
            if len(sent) >= RECORD_EVERY:
                _record_sent(sent, worker)
                sent = []
    if sent:
        _record_sent(sent, worker)
    return report


def _record_sent(ids: list[int], worker: str) -> None:
    with unit_of_work():
        db.session.execute(update(MailDelivery).where(MailDelivery.id.in_(ids), MailDelivery.claimed_by == worker)
                           .values(state="sent", sent_at=utcnow(), claimed_until=None))


def _record_failure(delivery_id: int, worker: str, attempts: int, error: DeliveryError,
                    report: DeliveryReport) -> None:
    tries = attempts + 1
    final = error.kind == PERMANENT or tries >= current_app.config["MAIL_MAX_ATTEMPTS"]
    delay = timedelta(seconds=current_app.config["MAIL_RETRY_SECONDS"] * 2 ** attempts)
    values = {"attempts": tries, "last_error": error.reason, "claimed_until": None}
    if final:
        values["state"] = "failed"
        report.failed += 1
    else:
        values["next_attempt_at"] = utcnow() + delay
        report.retried += 1
    report.errors.append(error.reason)
    with unit_of_work():
        db.session.execute(update(MailDelivery).where(MailDelivery.id == delivery_id,
                                                      MailDelivery.claimed_by == worker).values(**values))


def deliver_digests(transport, now: datetime | None = None, *, worker: str | None = None) -> DeliveryReport:
    """Send one mail per user in digest mode whose digest hour (China Standard Time) is now, listing
    the notifications held for them."""
    now = now or utcnow()
    worker = worker or worker_id()
    report = DeliveryReport()
    hour = now.astimezone(CST).hour
    users = db.session.scalars(select(MailSettings.user_id).where(
        MailSettings.mode == "digest", MailSettings.digest_hour == hour)).all()
    db.session.rollback()
    for user_id in users:
        report.add(_send_digest(transport, user_id, worker, now))
    return report


def _send_digest(transport, user_id: int, worker: str, now: datetime) -> DeliveryReport:
    report = DeliveryReport()
    with unit_of_work():
        rows = db.session.scalars(
            select(MailDelivery).where(MailDelivery.recipient_id == user_id, MailDelivery.state == "held",
                                       _claimable(now))
            .order_by(MailDelivery.id).with_for_update(skip_locked=True)).all()
        for row in rows:
            row.claimed_by = worker
            row.claimed_until = now + LEASE
        ids = [row.id for row in rows]
    if not ids:
        return report
    deliveries = _loaded(ids)
    notifications = [d.notification for d in deliveries]
    message = build_digest(notifications, deliveries[-1].address, _locales([user_id]).get(user_id, "zh"))
    db.session.rollback()
    try:
        with transport:
            transport.send(message)
    except DeliveryError as error:
        report.errors.append(error.reason)
        final = {"state": "failed"} if error.kind == PERMANENT else {}
        with unit_of_work():
            db.session.execute(update(MailDelivery).where(MailDelivery.id.in_(ids), MailDelivery.claimed_by == worker)
                               .values(claimed_until=None, last_error=error.reason, **final))
        if final:
            report.failed += 1
        else:
            report.retried += 1
        return report
    _record_sent(ids, worker)
    report.sent += 1
    return report

