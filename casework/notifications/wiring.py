"""Connects notifications to the app at creation: the engine tells the next desk after every
transition, the worker's periodic jobs are registered, templates read the unread count."""
from __future__ import annotations

from flask import Flask
from flask_login import current_user

from casework.notifications.services import notify_transition, unread_count
from casework.notifications.worker import register_worker_jobs
from casework.workflow.engine import on_transition


def bell_count() -> int:
    return unread_count(current_user) if current_user.is_authenticated else 0


def init_notifications(app: Flask) -> None:
    on_transition(notify_transition)
    register_worker_jobs(app)
    app.jinja_env.globals["unread_notifications"] = bell_count
