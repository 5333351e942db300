"""Connects ownership and notifications to the app at creation: after every transition the engine
lets the acting officer claim an unowned item, then tells the next desk; the worker's periodic jobs
are registered. (The bell's unread count is read by the top bar's frame, ``casework.web.frame``.)"""
from __future__ import annotations

from flask import Flask

from casework.notifications.services import notify_transition
from casework.notifications.worker import register_worker_jobs
from casework.ownership.services import claim_on_first_step
from casework.workflow.engine import on_transition


def init_notifications(app: Flask) -> None:
    on_transition(claim_on_first_step)  # before telling anyone, so that the new owner is the one told
    on_transition(notify_transition)
    register_worker_jobs(app)
