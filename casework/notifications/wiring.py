"""Connects ownership and notifications to the app at creation: after every transition the engine
lets the acting officer claim an unowned item, then tells the next desk; the worker's periodic jobs
are registered; templates read the unread count."""
from __future__ import annotations

from flask import Flask
from flask_login import current_user

from casework.notifications.services import notify_transition, unread_count
from casework.notifications.worker import register_worker_jobs
from casework.ownership.services import claim_on_first_step
from casework.workflow.engine import on_transition


def bell_count() -> int:
    return unread_count(current_user) if current_user.is_authenticated else 0


def init_notifications(app: Flask) -> None:
    on_transition(claim_on_first_step)  # before telling anyone, so that the new owner is the one told
    on_transition(notify_transition)
    register_worker_jobs(app)
    app.jinja_env.globals["unread_notifications"] = bell_count
