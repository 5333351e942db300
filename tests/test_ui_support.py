"""Helpers for the UI tests.

The ``db_session`` fixture keeps one application context pushed for the whole test, and Flask
reuses it for every test-client request, so ``g`` (where Flask-Login caches the current user)
and Flask-Babel's locale cache would outlive a request. ``fresh_login_cache`` drops both before
each request so that several logged-in clients in one test each act as their own user.
"""
from __future__ import annotations

import pytest
from flask import g
from flask.testing import FlaskClient


@pytest.fixture(autouse=True)
def fresh_login_cache(monkeypatch):
    original = FlaskClient.open

    def open_fresh(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FlaskClient, "open", open_fresh)
    yield
