"""Helpers for the security tests: second-factor logins, administrators, source addresses."""
from __future__ import annotations

import time

import pyotp
import pytest

from casework.accounts.services import create_user
from tests.conftest import PASSWORD

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def enforced(app, monkeypatch):
    """Second factors required as in production (the older suite runs without)."""
    monkeypatch.setitem(app.config, "TWO_FACTOR_ENFORCED", True)


def code(secret: str = SECRET, steps_ahead: int = 0) -> str:
    """The code of the current time step, or of one ``steps_ahead`` (accepted within the ±1 window)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def post_login(client, username: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    return client.post("/login", data={"username": username, "password": password}, **from_address(address))


def make_admin(role: str, username: str | None = None):
    return create_user({"username": username or f"test-{role}", "agency_code": "moe", "roles": [role],
                        "password": PASSWORD, "must_change_password": False}, actor=None)
