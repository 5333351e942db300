"""The notifications page (unread filter, mark read, mark all read) and the user's e-mail settings."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from casework.extensions import db
from casework.notifications.forms import MailSettingsForm
from casework.notifications.labels import kind_label, step_label
from casework.notifications.models import Notification
from casework.notifications.services import mail_settings_of, mark_all_read, mark_read, update_mail_settings
from casework.read_only import read_only
from casework.unit_of_work import transactional

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PAGE_SIZE = 50


@dataclass
class NotificationsPage:
    """What the notifications page shows: one page of the user's notifications and the counts."""

    items: list[Notification]
    unread_only: bool
    unread: int
    page: int
    has_next: bool

    @classmethod
    def load(cls, user, unread_only: bool, page: int) -> NotificationsPage:
        query = select(Notification).where(Notification.recipient_id == user.id)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        rows = db.session.scalars(query.order_by(Notification.id.desc())
                                  .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
        unread = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.recipient_id == user.id, Notification.read_at.is_(None)))
        return cls(list(rows[:PAGE_SIZE]), unread_only, unread or 0, page, len(rows) > PAGE_SIZE)


def _own_notification_or_404(notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != current_user.id:
        abort(404)
    return notification


@bp.get("")
@read_only
@login_required
def index():
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    listing = NotificationsPage.load(current_user, request.args.get("unread") == "1", page)
    return render_template("notifications/index.html", listing=listing, kind_label=kind_label,
                           step_label=step_label)


@bp.post("/<int:notification_id>/read")
@login_required
@transactional
def read(notification_id: int):
    notification = mark_read(_own_notification_or_404(notification_id), {}, current_user)
    if request.form.get("open") == "1" and notification.link.startswith("/"):
        return redirect(notification.link)
    return redirect(url_for("notifications.index", unread=request.form.get("unread") or None))


@bp.post("/read-all")
@login_required
@transactional
def read_all():
    count = mark_all_read(current_user, {}, current_user)
    flash(_("%(count)d notifications marked as read.", count=count), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    current = mail_settings_of(current_user)
    form = MailSettingsForm(obj=current)
    if form.validate_on_submit():
        _save_settings(current, form.data)
        flash(_("Your e-mail settings are saved."), "success")
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form), 400 if form.errors else 200


@transactional
def _save_settings(current, data: dict) -> None:
    update_mail_settings(current, data, current_user)
