"""The whole loop in Chromium: intake → assessment → second-person approval → routing → each agency
receives; police decline to file (a second person approves) and are asked to reconsider, telecom
returns the referral for more material (education supplements and re-sends, telecom then declines),
cyberspace proposes a disposition that a second person approves, executes it and reports back, market
regulation decides no penalty (a second person approves); education closes every assignment and the
referral closes. On the way the police officer's bell rises with the routing and falls after reading,
and the police assignment is released, claimed by a colleague and reassigned by the approver, its
owner shown on the agency's inbox and the education desk's referral page. Eleven users of five
agencies, each in their own browser context. Screenshots go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import base64
import re
import socket
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from casework.demo import DEMO_TOTP_SECRET

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "E2e-Passw0rd-loop"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    from casework import create_app
    from casework.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="casework-e2e-") as tmp:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/e2e.sqlite",
            "SECRET_KEY": "e2e-secret-key-not-for-production",
            "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
            "EVIDENCE_DIR": f"{tmp}/evidence",
        })
        with app.app_context():
            build_demo(app, password=PASSWORD, referral_count=12)
        port = _free_port()
        http = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, f"http://127.0.0.1:{port}"
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


class Desk:
    """One user in their own browser context. Approvers and administrators give the second factor
    with a code computed from the demo's enrolment secret."""

    def __init__(self, browser, base: str, username: str, width: int = 1280):
        self.base = base
        self.username = username
        self.last_step = -1
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.goto(f"{base}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("button.primary")
        if "/login/code" in self.page.url:
            self.enter_code()
        assert "/login" not in self.page.url, f"{username} could not log in"

    def enter_code(self) -> None:
        """Type the authenticator's code; a step already used is never sent again (it would be refused)."""
        totp = pyotp.TOTP(DEMO_TOTP_SECRET)
        step = max(int(time.time() // 30), self.last_step + 1)
        self.last_step = step
        self.page.fill("#code", totp.at(step * 30))
        with self.page.expect_navigation():
            self.page.click("button.primary")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def open(self, referral_id: int) -> None:
        self.page.goto(f"{self.base}/referrals/{referral_id}")

    def act(self, referral_id: int, form_id: str, fill=None) -> None:
        """Open the referral, fill one action's form and submit it; expect the success message.
        A step that needs a fresh second factor is confirmed with a code and submitted again."""
        self._submit(referral_id, form_id, fill)
        if "/account/confirm" in self.page.url:
            self.enter_code()
            self._submit(referral_id, form_id, fill)
        flash = self.page.locator(".flash-success")
        assert flash.count() == 1, self.page.locator("main").inner_text()[:1500]

    def bell(self) -> int:
        """The unread count the top bar's bell shows (0: no count)."""
        count = self.page.locator("header.topbar a.bell .count")
        return int(count.inner_text()) if count.count() else 0

    def own(self, referral_id: int, assignment_id: int, action: str, owner: int | None = None,
            reload: bool = True) -> None:
        """Claim, assign (to ``owner``) or release an assignment from the referral page's owners card
        (``reload=False``: from the page as it was shown)."""
        if reload:
            self.open(referral_id)
        row = self.page.locator(f"#owner-assignment-{assignment_id}")
        if owner is not None:
            row.locator("select[name=owner]").select_option(str(owner))
        with self.page.expect_navigation():
            row.locator(f"button[value={action}]").click()

    def owner_of(self, referral_id: int, assignment_id: int) -> str:
        self.open(referral_id)
        return self.page.locator(f"#owner-assignment-{assignment_id} .owner-name").inner_text()

    def _submit(self, referral_id: int, form_id: str, fill=None) -> None:
        self.open(referral_id)
        form = self.page.locator(f"form#{form_id}")
        assert form.count() == 1, f"{self.username}: no action {form_id} on the page"
        summary = form.locator("summary")
        if summary.count():
            summary.click()
        if fill:
            fill(form)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").last.click()


def _assignment_ids(app, referral_id: int) -> dict[str, int]:
    from casework.assignments.models import Assignment
    from casework.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(Assignment).where(Assignment.referral_id == referral_id)).all()
        return {a.agency.code: a.id for a in rows}


def _state(app, model_name: str, object_id: int) -> str:
    from casework.extensions import db
    from casework.models import Assignment, Referral

    model = {"referral": Referral, "assignment": Assignment}[model_name]
    with app.app_context():
        return db.session.get(model, object_id).state


def _user(app, username: str) -> tuple[int, str]:
    from casework.accounts.models import User
    from casework.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return user.id, user.display_name


def _agency_id(app, code: str) -> int:
    from casework.agencies.models import Agency
    from casework.extensions import db

    with app.app_context():
        return db.session.scalar(select(Agency.id).where(Agency.code == code))


def test_full_loop(server, browser):
    app, base = server
    intake = Desk(browser, base, "edu-44-intake", width=1920)
    assessor = Desk(browser, base, "edu-44-assessor")
    approver = Desk(browser, base, "edu-44-approver")
    cyber = Desk(browser, base, "cac-44-officer")
    cyber_approver = Desk(browser, base, "cac-44-approver")
    telecom = Desk(browser, base, "ca-44-officer")
    police = Desk(browser, base, "psb-44-officer")
    police_approver = Desk(browser, base, "psb-44-approver")
    market = Desk(browser, base, "amr-44-officer", width=1920)
    market_approver = Desk(browser, base, "amr-44-approver")

    # Intake: a draft with three targets, validated on the server, then submitted.
    page = intake.page
    page.goto(f"{base}/referrals/new")
    assert "新建线索" in page.content()
    page.fill("#title", "“秒过网课”代刷应用及网店")
    page.select_option("#source", "university_report")
    page.fill("#summary", "某高校报告：多名学生使用“秒过网课”应用代刷学时，并在淘宝店铺购买代刷服务。")
    page.select_option("#targets-0-kind", "app")
    page.fill("#targets-0-name", "秒过网课")
    page.fill("#targets-0-package_name", "not a package")
    with page.expect_navigation():
        page.click("button[value=save]")
    assert page.locator("#err-targets-0-package_name").count() == 1
    assert page.locator("#title").input_value() == "“秒过网课”代刷应用及网店"
    intake.shot("01-intake-errors")
    page.fill("#targets-0-package_name", "com.miaoguo.wangke")
    page.select_option("#targets-0-store", "huawei")
    with page.expect_navigation():
        page.click("button[value=add_target]")
    page.select_option("#targets-1-kind", "website")
    page.fill("#targets-1-name", "秒过网课官网")
    page.fill("#targets-1-url", "https://www.miaoguo-wangke.example.cn/")
    with page.expect_navigation():
        page.click("button[value=add_target]")
    page.select_option("#targets-2-kind", "shop")
    page.fill("#targets-2-name", "秒过代刷小店")
    page.select_option("#targets-2-platform", "taobao")
    page.fill("#targets-2-account_id", "miaoguo-shop")
    page.set_input_files("#evidence", files=[{"name": "截图.png", "mimeType": "image/png", "buffer": PNG}])
    page.fill("#evidence_description", "应用商店页面截图")
    intake.shot("02-intake-form")
    with page.expect_navigation():
        page.click("button[value=save]")
    match = re.search(r"/referrals/(\d+)$", page.url)
    assert match, page.url
    referral_id = int(match.group(1))
    assert _state(app, "referral", referral_id) == "draft"
    assert "截图.png" in page.content()
    intake.act(referral_id, f"referral-{referral_id}-submit")
    assert _state(app, "referral", referral_id) == "submitted"

    # Assessment: recommended agencies are preselected from the targets; police added by hand.
    assessor.page.goto(f"{base}/?tab=receive")
    assessor.shot("03-inbox-assessor")
    assessor.page.click(f"a[href='/referrals/{referral_id}']")
    assessor.act(referral_id, f"referral-{referral_id}-start_assessment")
    psb = _agency_id(app, "psb-44")

    def assessment(form):
        for code in ("cac-44", "ca-44", "amr-44"):
            assert form.locator(f"input[name=agencies][value='{_agency_id(app, code)}']").is_checked()
        form.locator("select[name=conclusion]").select_option("refer")
        form.locator("select[name=severity]").select_option("high")
        form.locator("input[name=behaviours][value=brushing]").check()
        form.locator("input[name=behaviours][value=proxy_study]").check()
        form.locator("textarea[name=legal_basis]").fill("《关于加强高等学校在线开放课程教学管理的若干意见》（教高〔2022〕1号）")
        form.locator("textarea[name=opinion]").fill("经研判，该应用及网店提供代刷网课服务，构成刷课，建议移送相关部门处置。")
        form.locator(f"input[name=agencies][value='{psb}']").check()
        form.locator(f"input[name=reason_{psb}]").fill("涉嫌利用技术手段破解平台")

    assessor.act(referral_id, f"referral-{referral_id}-assess", assessment)
    assessor.shot("04-referral-assessed")

    # A second person approves the assessment; the assessor routes with the recommendations.
    approver.act(referral_id, f"referral-{referral_id}-approve_assessment")
    police.page.goto(f"{base}/")
    unread_before = police.bell()
    assessor.act(referral_id, f"referral-{referral_id}-route")
    assert _state(app, "referral", referral_id) == "routed"
    ids = _assignment_ids(app, referral_id)
    assert set(ids) == {"cac-44", "ca-44", "psb-44", "amr-44"}

    # The police officer is told: the bell rises, and falls once the notifications are read.
    police.page.goto(f"{base}/")
    assert police.bell() >= unread_before + 1
    police.shot("05a-bell-police")
    police.page.click("header.topbar a.bell")
    assert "/notifications" in police.page.url and police.page.locator("tbody tr").count() >= 1
    with police.page.expect_navigation():
        police.page.click("form[action='/notifications/read-all'] button")
    assert police.bell() == 0

    # Each agency receives.
    for desk, code in ((cyber, "cac-44"), (telecom, "ca-44"), (police, "psb-44"), (market, "amr-44")):
        desk.page.goto(f"{base}/?tab=receive")
        assert re.search(r"待签收\s*<span class=\"count\">[1-9]", desk.page.content())
        if code == "cac-44":
            desk.shot("05-inbox-agency")
        desk.act(referral_id, f"assignment-{ids[code]}-receive")
    assert _state(app, "referral", referral_id) == "awaiting_feedback"

    # Named owners: whoever received owns the assignment; released, a colleague claims it (a stale
    # claim is refused naming them), and the police approver reassigns it to the first officer.
    officer_id, officer_name = _user(app, "psb-44-officer")
    colleague_id, colleague_name = _user(app, "psb-44-officer2")
    police_asg = ids["psb-44"]
    assert police.owner_of(referral_id, police_asg) == officer_name
    police.own(referral_id, police_asg, "release")
    assert police.page.locator(".flash-success").count() == 1
    police.open(referral_id)  # shown with the claim button ...
    colleague = Desk(browser, base, "psb-44-officer2")
    colleague.own(referral_id, police_asg, "claim")
    assert colleague.owner_of(referral_id, police_asg) == colleague_name
    police.own(referral_id, police_asg, "claim", reload=False)  # ... which is now stale
    refusal = police.page.locator(".flash-error").inner_text()
    assert refusal.startswith(f"已由 {colleague_name} 于 ") and refusal.endswith(" 领办"), refusal
    police.shot("05b-claim-refused")
    police_approver.own(referral_id, police_asg, "assign", owner=officer_id)
    assert police_approver.owner_of(referral_id, police_asg) == officer_name
    police_approver.shot("05c-reassigned")
    police.page.goto(f"{base}/?tab=mine")
    mine = police.page.locator("table.list tbody")
    assert "“秒过网课”代刷应用及网店" in mine.inner_text() and officer_name in mine.inner_text()
    police.shot("05d-inbox-mine")
    assert approver.owner_of(referral_id, police_asg) == officer_name
    approver.shot("05e-owner-at-education")
    colleague.context.close()

    # Police decline to file; education asks for reconsideration; the police approver upholds.
    police.act(referral_id, f"assignment-{ids['psb-44']}-decline_filing",
               lambda f: f.locator("textarea[name=reason]").fill("现有证据不足以认定涉嫌犯罪，不予立案。"))
    police.open(referral_id)
    assert police.page.locator(f"form#assignment-{ids['psb-44']}-approve_decline_filing").count() == 0
    police_approver.act(referral_id, f"assignment-{ids['psb-44']}-approve_decline_filing")
    approver.act(referral_id, f"assignment-{ids['psb-44']}-request_reconsideration",
                 lambda f: f.locator("textarea[name=reason]").fill("该应用使用破解手段，涉案人数众多，请求复议。"))
    police_approver.act(referral_id, f"assignment-{ids['psb-44']}-uphold_refusal",
                        lambda f: f.locator("textarea[name=reason]").fill("经复议，维持不予立案决定。"))
    assert _state(app, "assignment", ids["psb-44"]) == "refusal_upheld"

    # Telecom returns for more material; education supplements and re-sends; telecom then declines.
    telecom.act(referral_id, f"assignment-{ids['ca-44']}-return_for_material",
                lambda f: f.locator("textarea[name=reason]").fill("请补充网站ICP备案信息及访问截图。"))
    intake.page.goto(f"{base}/?tab=action")
    intake.shot("06-inbox-education-action")
    intake.act(referral_id, f"assignment-{ids['ca-44']}-supplement",
               lambda f: f.locator("textarea[name=material]").fill("已补充备案查询结果及2026年11月访问截图。"))
    telecom.act(referral_id, f"assignment-{ids['ca-44']}-receive")
    telecom.act(referral_id, f"assignment-{ids['ca-44']}-decline",
                lambda f: f.locator("textarea[name=reason]").fill("该网站接入服务商不在本省，不予受理。"))
    approver.act(referral_id, f"assignment-{ids['ca-44']}-accept_refusal")

    # Cyberspace: a disposition proposed, a refused form first, then approved by a second person.
    cyber.act(referral_id, f"assignment-{ids['cac-44']}-accept")
    cyber.act(referral_id, f"assignment-{ids['cac-44']}-start_investigation")
    cyber.act(referral_id, f"assignment-{ids['cac-44']}-add_note",
              lambda f: f.locator("textarea[name=body]").fill("已核实该应用仍在华为应用市场上架。"))
    cyber.open(referral_id)
    form = cyber.page.locator(f"form#assignment-{ids['cac-44']}-propose_disposition")
    form.locator("summary").click()
    form.locator("textarea[name=legal_basis]").fill("《网络安全法》第四十七条")
    with cyber.page.expect_navigation():
        form.locator("button[type=submit]").last.click()
    assert cyber.page.locator(".has-error").count() >= 1
    assert "《网络安全法》第四十七条" in cyber.page.content()
    cyber.shot("07-disposition-refused")

    def disposition(f):
        app_select = f.locator("select[name^=action_]").first
        app_select.select_option("remove_app")
        f.locator("textarea[name=summary]").fill("责令应用商店下架“秒过网课”应用，关闭相关账号。")
        f.locator("textarea[name=legal_basis]").fill("《网络安全法》第四十七条")

    cyber.act(referral_id, f"assignment-{ids['cac-44']}-propose_disposition", disposition)
    cyber_approver.act(referral_id, f"assignment-{ids['cac-44']}-approve_disposition")
    today = date.today().isoformat()

    def execution(f):
        for select_box in f.locator("select[name^=outcome_]").all():
            select_box.select_option("done")
        for field in f.locator("input[name^=executed_at_]").all():
            field.fill(today)

    cyber.act(referral_id, f"assignment-{ids['cac-44']}-record_execution", execution)
    cyber.act(referral_id, f"assignment-{ids['cac-44']}-send_feedback",
              lambda f: f.locator("textarea[name=summary]").fill("该应用已于今日下架，相关账号已关闭。"))

    # Market regulation: accept, open a case, no penalty, feedback.
    market.act(referral_id, f"assignment-{ids['amr-44']}-accept")
    market.act(referral_id, f"assignment-{ids['amr-44']}-open_case")
    market.act(referral_id, f"assignment-{ids['amr-44']}-decide_no_penalty",
               lambda f: f.locator("textarea[name=reason]").fill("网店已自行关闭，违法所得轻微。"))
    market_approver.act(referral_id, f"assignment-{ids['amr-44']}-approve_no_penalty")
    market.act(referral_id, f"assignment-{ids['amr-44']}-send_feedback",
               lambda f: f.locator("textarea[name=summary]").fill("网店已关闭，决定不予行政处罚。"))
    market.shot("08-referral-agency-view")

    # Education acknowledges the feedback and closes; the referral closes itself.
    approver.page.goto(f"{base}/?tab=action")
    approver.shot("09-inbox-approver")
    approver.act(referral_id, f"assignment-{ids['cac-44']}-close")
    approver.act(referral_id, f"assignment-{ids['amr-44']}-close")
    assert _state(app, "referral", referral_id) == "closed"
    approver.open(referral_id)
    content = approver.page.content()
    assert "已办结" in content and "应用已于今日下架" in content
    approver.shot("10-referral-closed")
    approver.page.emulate_media(media="print")
    approver.shot("11-referral-print")
    approver.page.emulate_media(media="screen")

    assessor.page.goto(f"{base}/search?target=miaoguo")
    assert re.search(r"共查到1条线索", assessor.page.content())
    assessor.shot("12-search")
    assessor.page.click("button.link:has-text('English')")
    assessor.page.goto(f"{base}/referrals/{referral_id}")
    assert "Timeline" in assessor.page.content()
    assessor.shot("13-referral-english")

    for desk in (intake, assessor, approver, cyber, cyber_approver, telecom, police, police_approver, market):
        desk.context.close()


@pytest.mark.parametrize("width", [1280, 1920])
def test_long_text_wraps_and_the_lifecycle_is_drawn_at_a_readable_size(server, browser, width):
    _app, base = server
    desk = Desk(browser, base, "edu-44-intake", width=width)
    page = desk.page
    page.goto(f"{base}/referrals/new")
    page.fill("#title", "超长标题" * 45)
    page.select_option("#source", "public_tip")
    page.fill("#summary", "A" * 900)
    page.select_option("#targets-0-kind", "website")
    page.fill("#targets-0-name", "长网址" + "X" * 150)
    page.fill("#targets-0-url", "https://very-long-domain-for-layout.example.cn/" + "a" * 460)
    with page.expect_navigation():
        page.click("button[value=save]")
    assert re.search(r"/referrals/\d+$", page.url), page.locator("main").inner_text()[:1000]
    scroll_width, viewport = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= viewport
    scale = page.evaluate("() => { const svg = document.querySelector('#lifecycle svg');"
                          " return svg.getBoundingClientRect().width / svg.viewBox.baseVal.width; }")
    assert scale >= 0.9
    desk.shot(f"10-long-text-{width}")
    desk.context.close()
