"""The security administrator in Chromium: logs in with a code, lands on the policy page, saves the
policy, finds a user and sees the sessions. Screenshots go to test-artifacts/screenshots/."""
from __future__ import annotations

import pytest

from tests.e2e.test_full_loop import Desk, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e


def test_the_security_administrator_works_in_the_browser(server, browser):  # noqa: F811
    _app, base = server
    admin = Desk(browser, base, "moe-secadmin")
    assert admin.page.url.endswith("/security/")
    admin.shot("20-security-policy")
    admin.page.fill("#lockout_minutes", "20")
    with admin.page.expect_navigation():
        admin.page.click("#policy button[type=submit]")
    assert admin.page.locator(".flash-success").count() == 1
    assert admin.page.locator("#lockout_minutes").input_value() == "20"
    admin.page.goto(f"{base}/security/users?q=cac-44-approver")
    with admin.page.expect_navigation():
        admin.page.click("#users a >> nth=0")
    assert admin.page.locator("#reset-two-factor").count() == 1
    admin.shot("21-security-user")
    admin.page.goto(f"{base}/account")
    assert admin.page.locator("#sessions tbody tr").count() >= 1
