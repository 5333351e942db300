"""Each administrator in Chromium: sign in, land on their own main page, use it once; screenshots go
to test-artifacts/screenshots/ (admin-*.png)."""
from __future__ import annotations

import socket
import tempfile
import threading
from pathlib import Path

import pyotp
import pytest
from werkzeug.serving import make_server

from casework.demo import DEMO_TOTP_SECRET

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "E2e-Passw0rd-admin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    from casework import create_app
    from casework.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="casework-e2e-admin-") as tmp:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/e2e.sqlite",
            "SECRET_KEY": "e2e-secret-key-not-for-production",
            "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
            "EVIDENCE_DIR": f"{tmp}/evidence",
        })
        with app.app_context():
            build_demo(app, password=PASSWORD, referral_count=3)
        http = make_server("127.0.0.1", _free_port(), app, threaded=True)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{http.server_port}"
        finally:
            http.shutdown()
            thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM)
        try:
            yield chromium
        finally:
            chromium.close()


def _sign_in(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button.primary")
    if "/login/code" in page.url:  # administrators log in with a second factor: the demo's authenticator key
        page.fill("#code", pyotp.TOTP(DEMO_TOTP_SECRET).now())
        with page.expect_navigation():
            page.click("button.primary")
    return context, page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_system_administrator(server, browser):
    context, page = _sign_in(browser, server, "moe-sysadmin")
    assert page.url.endswith("/admin/users")
    assert "用户管理" in page.content() and "edu-44-intake" in page.content()
    _shot(page, "admin-1-system-users")
    page.click("nav.topnav >> text=机关管理")
    assert page.url.endswith("/admin/agencies") and "广东省公安厅" in page.content()
    _shot(page, "admin-2-system-agencies")
    context.close()


def test_security_administrator(server, browser):
    context, page = _sign_in(browser, server, "moe-secadmin")
    assert page.url.endswith("/security/")  # the security policy is the first page of the menu
    with page.expect_navigation():
        page.click('nav.topnav a[href="/admin/clocks"]')
    assert page.url.endswith("/admin/clocks")
    form = page.locator("#rule-receipt form").first
    form.locator("input[name=receipt-amount]").fill("5")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator(".flash-success").count() == 1
    assert "已修改" in page.locator("#rule-receipt").inner_text()
    _shot(page, "admin-3-security-clocks")
    context.close()


def test_audit_administrator(server, browser):
    context, page = _sign_in(browser, server, "moe-auditor")
    assert page.url.endswith("/audit")
    assert "登录" in page.locator("table.list").inner_text()
    with page.expect_navigation():
        page.click("text=立即校验审计链")
    assert page.locator("#verification.flash-success").count() == 1
    _shot(page, "admin-4-audit-trail")
    context.close()
