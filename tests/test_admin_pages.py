"""The three administrators in the browser (三权分立): each does only its part, every change is
audited, case roles see none of it, and the audit administrator changes nothing."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from casework.accounts.models import User
from casework.accounts.services import create_user
from casework.agencies.models import Agency
from casework.agencies.seals import seal_for
from casework.audit.models import AuditEvent
from casework.extensions import db
from casework.workflow.clocks import effective_rule
from tests.conftest import login
from tests.factories import make_referral

ADMIN_PASSWORD = "Admin-passw0rd!"
ROLES = ("system_admin", "security_admin", "audit_admin")
CASE_USERS = ("edu-44.intake_officer", "psb-44.approver")


@pytest.fixture
def admins(app, db_session):
    """One account per administrator role and a logged-in client for it."""
    clients = {}
    for role in ROLES:
        create_user({"username": f"adm-{role}", "display_name": role, "agency_code": "moe", "roles": [role],
                     "password": ADMIN_PASSWORD, "must_change_password": False}, actor=None)
    db.session.commit()
    for role in ROLES:
        client = app.test_client()
        assert login(client, f"adm-{role}", ADMIN_PASSWORD).status_code == 302
        clients[role] = client
    return clients


def _count(event: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event == event))


def _png(width: int = 200, height: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (230, 0, 18, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def _agency_id(code: str) -> int:
    return db.session.scalar(select(Agency.id).where(Agency.code == code))


def _user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


# Who sees what -----------------------------------------------------------------------------------

@pytest.mark.parametrize("role, landing", [("system_admin", "/admin/users"), ("security_admin", "/security/"),
                                           ("audit_admin", "/audit")])
def test_each_administrator_lands_on_their_page_with_a_menu(app, admins, role, landing):
    client = app.test_client()
    response = login(client, f"adm-{role}", ADMIN_PASSWORD)
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == landing
    page = client.get(landing).get_data(as_text=True)
    assert f'href="{landing}" aria-current="page"' in page
    assert ">收件箱<" not in page and 'href="/search"' not in page


def test_case_users_keep_their_inbox_and_menu(login_as):
    client = login_as("edu-44.intake_officer")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/search"' in page and 'href="/admin/users"' not in page and 'href="/audit"' not in page


PAGES = {
    "system_admin": ["/admin/users", "/admin/users/new", "/admin/agencies", "/admin/agencies/new",
                     "/admin/agencies/{agency}", "/admin/users/{user}"],
    "security_admin": ["/admin/clocks"],
    "audit_admin": ["/audit", "/audit/export.csv"],
}


@pytest.mark.parametrize("owner", ROLES)
def test_each_page_opens_for_its_administrator_only(admins, login_as, owner):
    ids = {"agency": _agency_id("psb-44"), "user": _user_id("psb-44.case_officer")}
    case_clients = [login_as(name) for name in CASE_USERS]
    for path in PAGES[owner]:
        url = path.format(**ids)
        assert admins[owner].get(url).status_code == 200, url
        for role in ROLES:
            if role != owner:
                assert admins[role].get(url).status_code == 404, (role, url)
        for client in case_clients:
            assert client.get(url).status_code == 404, url


def _posts() -> list[tuple[str, dict]]:
    return [
    ("/admin/agencies/new", {"code": "psb-45", "kind": "police", "level": "provincial", "name": "广西公安厅"}),
    ("/admin/agencies/{agency}", {"name": "改名"}),
    ("/admin/agencies/{agency}/seal", {"image": (io.BytesIO(b"x"), "seal.png")}),
    ("/admin/users/new", {"username": "new-user", "display_name": "x", "agency_id": "1", "roles": ["approver"],
                          "password": "Good-passw0rd!", "password_again": "Good-passw0rd!"}),
    ("/admin/users/{user}", {"roles": ["approver"]}),
    ("/admin/users/{user}/deactivate", {"reason": "x"}),
    ("/admin/users/{user}/reactivate", {}),
    ("/admin/clocks/receipt", {"receipt-amount": "9", "receipt-unit": "hours"}),
    ("/admin/clocks/receipt/reset", {}),
    ]


@pytest.mark.parametrize("role", ["audit_admin", "edu-44.approver", "psb-44.case_officer"])
def test_the_audit_administrator_and_case_roles_change_nothing(admins, login_as, role):
    client = admins[role] if role in admins else login_as(role)
    ids = {"agency": _agency_id("psb-44"), "user": _user_id("psb-44.case_officer")}
    before = db.session.scalar(select(func.max(AuditEvent.seq)))
    for path, data in _posts():
        response = client.post(path.format(**ids), data=data, content_type="multipart/form-data")
        assert response.status_code == 404, path
    changes = db.session.scalars(select(AuditEvent.event).where(AuditEvent.seq > before,
                                                                AuditEvent.event != "access.denied")).all()
    assert changes == []
    assert db.session.get(Agency, ids["agency"]).name != "改名"
    assert db.session.get(User, ids["user"]).active


def test_each_administrator_posts_only_to_its_own_pages(admins):
    ids = {"agency": _agency_id("psb-44"), "user": _user_id("psb-44.case_officer")}
    system_paths = [p for p, _ in _posts() if not p.startswith("/admin/clocks")]
    for path in system_paths:
        assert admins["security_admin"].post(path.format(**ids), data={}).status_code == 404
    for path in ("/admin/clocks/receipt", "/admin/clocks/receipt/reset"):
        assert admins["system_admin"].post(path, data={}).status_code == 404
    assert admins["system_admin"].post("/admin/audit/verify").status_code == 404
    assert admins["security_admin"].post("/admin/audit/verify").status_code == 404


# System administrator ----------------------------------------------------------------------------

def test_system_admin_creates_and_edits_an_agency(admins):
    client = admins["system_admin"]
    bad = client.post("/admin/agencies/new", data={"code": "Bad Code", "kind": "spaceship", "level": "provincial",
                                                   "name": ""})
    assert bad.status_code == 400
    assert 'id="err-code"' in bad.get_data(as_text=True) and 'id="err-name"' in bad.get_data(as_text=True)
    parent = _agency_id("mps")
    response = client.post("/admin/agencies/new", data={
        "code": "psb-45", "kind": "police", "level": "provincial", "name": "广西壮族自治区公安厅",
        "name_en": "Guangxi Public Security Department", "number_prefix": "桂公网安函", "parent_id": str(parent),
        "region_code": "450000"})
    assert response.status_code == 302
    agency = db.session.scalar(select(Agency).where(Agency.code == "psb-45"))
    assert (agency.kind, agency.parent_id, agency.region_code) == ("police", parent, "450000")
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "agency.create")).all()[-1]
    assert created.actor_name == "adm-system_admin" and created.payload["code"] == "psb-45"

    edited = client.post(f"/admin/agencies/{agency.id}", data={"name": "广西公安厅", "parent_id": str(parent),
                                                               "region_code": "4500"})
    assert edited.status_code == 400 and 'id="err-region_code"' in edited.get_data(as_text=True)
    assert client.post(f"/admin/agencies/{agency.id}", data={"name": "广西公安厅", "parent_id": str(parent),
                                                             "region_code": "450000"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).name == "广西公安厅"
    update = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "agency.update")).all()[-1]
    assert update.payload["changed"]["name"] == {"from": "广西壮族自治区公安厅", "to": "广西公安厅"}
    listing = client.get("/admin/agencies").get_data(as_text=True)
    assert "广西公安厅" in listing and "公安部" in listing


def test_an_agency_cannot_be_placed_below_itself(admins):
    moe, edu = _agency_id("moe"), _agency_id("edu-44")
    response = admins["system_admin"].post(f"/admin/agencies/{moe}", data={"name": "教育部", "parent_id": str(edu)})
    assert response.status_code == 400 and 'id="err-parent_id"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Agency, moe).parent_id is None


def test_system_admin_creates_an_account_with_roles(app, admins):
    client = admins["system_admin"]
    data = {"username": "psb-44-new", "display_name": "新承办人", "agency_id": str(_agency_id("psb-44")),
            "password": "Fresh-passw0rd!", "password_again": "Fresh-passw0rd!"}
    refused = {
        "roles": (["case_officer", "system_admin"], "cannot also work cases"),
        "roles_security": (["security_admin"], "命令行"),
        "roles_fit": (["intake_officer"], "intake"),
    }
    for roles, needle in refused.values():
        response = client.post("/admin/users/new", data={**data, "roles": roles})
        assert response.status_code == 400, roles
        page = response.get_data(as_text=True)
        assert 'id="err-roles"' in page
    mismatch = client.post("/admin/users/new", data={**data, "roles": ["case_officer"], "password_again": "other"})
    assert mismatch.status_code == 400 and 'id="err-password_again"' in mismatch.get_data(as_text=True)
    weak = client.post("/admin/users/new", data={**data, "roles": ["case_officer"], "password": "short",
                                                "password_again": "short"})
    assert weak.status_code == 400 and 'id="err-password"' in weak.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "psb-44-new")) == 0

    created = client.post("/admin/users/new", data={**data, "roles": ["case_officer"]})
    assert created.status_code == 302
    new_user = db.session.scalar(select(User).where(User.username == "psb-44-new"))
    assert new_user.roles == {"case_officer"}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "user.create")).all()[-1]
    assert event.actor_name == "adm-system_admin" and event.object_id == new_user.id
    assert login(app.test_client(), "psb-44-new", "Fresh-passw0rd!").status_code == 302


def test_system_admin_changes_roles_and_deactivates(app, admins):
    client = admins["system_admin"]
    target = _user_id("psb-44.case_officer2")
    assert client.post(f"/admin/users/{target}", data={"roles": ["approver"]}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, target).roles == {"approver"}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "user.roles")).all()[-1]
    assert event.payload["from"] == ["case_officer"] and event.payload["to"] == ["approver"]
    refused = client.post(f"/admin/users/{target}", data={"roles": ["approver", "audit_admin"]})
    assert refused.status_code == 400

    assert client.post(f"/admin/users/{target}/deactivate", data={"reason": "调离"}).status_code == 302
    assert login(app.test_client(), "psb-44.case_officer2", "Test-passw0rd!").status_code == 401
    assert _count("user.deactivate") >= 1
    assert client.post(f"/admin/users/{target}/reactivate", data={}).status_code == 302
    assert login(app.test_client(), "psb-44.case_officer2", "Test-passw0rd!").status_code == 302
    listing = client.get("/admin/users?q=case_officer2&agency=" + str(_agency_id("psb-44"))).get_data(as_text=True)
    assert "psb-44.case_officer2" in listing and "psb-44.approver2" not in listing


def test_system_admin_cannot_touch_the_other_administrators_or_lock_itself_out(admins):
    client = admins["system_admin"]
    auditor = _user_id("adm-audit_admin")
    page = client.get(f"/admin/users/{auditor}").get_data(as_text=True)
    assert "命令行" in page and "deactivate" not in page
    client.post(f"/admin/users/{auditor}/deactivate", data={"reason": "x"})
    db.session.expire_all()
    assert db.session.get(User, auditor).active
    refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "user.deactivate",
                                                          AuditEvent.object_id == auditor)).one()
    assert refusal.outcome == "refused"
    own = _user_id("adm-system_admin")
    assert client.post(f"/admin/users/{own}/deactivate", data={}).status_code == 302
    assert client.post(f"/admin/users/{own}", data={"roles": ["approver"]}).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, own).active and db.session.get(User, own).roles == {"system_admin"}


@pytest.mark.parametrize("image, message", [
    (b"GIF89a" + b"\x00" * 100, "PNG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG"),
    ("small", "64"),
    ("huge", "2048"),
    ("heavy", "512"),
])
def test_a_seal_must_be_a_real_png_of_bounded_size(admins, image, message):
    if image == "small":
        image = _png(20, 20)
    elif image == "huge":
        image = _png(3000, 100)
    elif image == "heavy":
        buffer = io.BytesIO()
        Image.frombytes("RGB", (600, 600), bytes(range(256)) * (600 * 600 * 3 // 256 + 1)).save(
            buffer, format="PNG", compress_level=0)
        image = buffer.getvalue()
    agency = _agency_id("cac-44")
    response = admins["system_admin"].post(f"/admin/agencies/{agency}/seal", content_type="multipart/form-data",
                                           data={"image": (io.BytesIO(image), "seal.png")})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="err-image"' in page and message in page
    assert seal_for(db.session.get(Agency, agency)) is None


def test_a_seal_is_stored_with_its_hash_and_replaced_by_the_next(admins):
    import hashlib

    client = admins["system_admin"]
    agency_id = _agency_id("cac-44")
    first, second = _png(200, 200), _png(300, 300)
    for image in (first, second):
        response = client.post(f"/admin/agencies/{agency_id}/seal", content_type="multipart/form-data",
                               data={"image": (io.BytesIO(image), "seal.png")})
        assert response.status_code == 302
    image, digest = seal_for(db.session.get(Agency, agency_id))
    assert image == second and digest == hashlib.sha256(second).hexdigest()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "agency.seal_upload")
                                .order_by(AuditEvent.seq)).all()[-2:]
    assert events[1].payload["previous_sha256"] == hashlib.sha256(first).hexdigest()
    served = client.get(f"/admin/agencies/{agency_id}/seal.png")
    assert served.status_code == 200 and served.data == second and served.mimetype == "image/png"
    assert seal_for(db.session.get(Agency, _agency_id("ca-44"))) is None


# Security administrator: clock rules -------------------------------------------------------------

def test_security_admin_changes_and_resets_a_clock_rule(admins):
    client = admins["security_admin"]
    page = client.get("/admin/clocks").get_data(as_text=True)
    assert "签收期限" in page and 'id="rule-receipt"' in page
    bad = client.post("/admin/clocks/receipt", data={"receipt-amount": "0", "receipt-unit": "hours"})
    assert bad.status_code == 400 and 'id="err-receipt-amount"' in bad.get_data(as_text=True)
    assert client.post("/admin/clocks/receipt", data={"receipt-amount": "48", "receipt-unit": "hours"}).status_code == 302
    assert (effective_rule("receipt").unit, effective_rule("receipt").amount) == ("hours", 48)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "clock_rule.override")).all()[-1]
    assert event.actor_name == "adm-security_admin" and event.payload["before"] == {"unit": "working_days",
                                                                                   "amount": 3}
    assert client.post("/admin/clocks/receipt/reset").status_code == 302
    assert (effective_rule("receipt").unit, effective_rule("receipt").amount) == ("working_days", 3)
    assert client.post("/admin/clocks/nap", data={}).status_code == 404


# Audit administrator -----------------------------------------------------------------------------

def test_the_audit_administrator_reads_the_other_administrators_events(admins):
    admins["system_admin"].post("/admin/agencies/new", data={"code": "amr-45", "kind": "market", "level": "provincial",
                                                             "name": "广西市场监督管理局"})
    admins["security_admin"].post("/admin/clocks/receipt", data={"receipt-amount": "5", "receipt-unit": "working_days"})
    page = admins["audit_admin"].get("/audit").get_data(as_text=True)
    rows = page.split("<tbody>")[1]
    assert "adm-system_admin" in rows and "adm-security_admin" in rows
    assert "登录" in rows and "auth.login" in rows  # the name, with the code beside it
    by_user = admins["audit_admin"].get("/audit?user=adm-security_admin").get_data(as_text=True).split("<tbody>")[1]
    assert "adm-security_admin" in by_user and "adm-system_admin" not in by_user
    by_event = admins["audit_admin"].get("/audit?event=agency.").get_data(as_text=True).split("<tbody>")[1]
    assert "广西市场监督管理局" in by_event and "adm-security_admin" not in by_event


def test_the_trail_filters_by_referral_agency_and_outcome(admins, login_as, user):
    referral = make_referral(user("edu-44.intake_officer"))
    other = make_referral(user("edu-11.intake_officer"))
    db.session.commit()
    login_as("edu-44.assessor").post(f"/referrals/{referral.id}/fire/withdraw", data={})
    client = admins["audit_admin"]
    rows = client.get(f"/audit?referral={referral.number}").get_data(as_text=True).split("<tbody>")[1]
    assert referral.number in rows and other.number not in rows
    rows = client.get(f"/audit?referral={referral.id}&outcome=refused").get_data(as_text=True).split("<tbody>")[1]
    assert "edu-44.assessor" in rows and "edu-44.intake_officer" not in rows
    rows = client.get(f"/audit?agency={_agency_id('edu-11')}").get_data(as_text=True).split("<tbody>")[1]
    assert other.number in rows and referral.number not in rows
    missing = client.get("/audit?referral=NOPE-1").get_data(as_text=True)
    assert "Nothing here" in missing or "暂无" in missing or 'class="empty"' in missing


def test_verification_button_runs_the_check_and_records_it(admins):
    client = admins["audit_admin"]
    response = client.post("/admin/audit/verify")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="verification"' in page and "flash-success" in page
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "audit.verify")).all()[-1]
    assert event.payload["ok"] is True and event.payload["checked"] >= 1


def test_export_csv_and_xlsx_are_readable_and_safe(admins, user):
    make_referral(user("edu-44.intake_officer"), title="=HYPERLINK(\"http://evil\")")
    db.session.commit()
    client = admins["audit_admin"]
    response = client.get("/audit/export.csv?event=referral.")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][0] in ("序号", "Sequence") and len(rows) > 1
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    xlsx = client.get("/audit/export.xlsx?event=referral.")
    book = load_workbook(io.BytesIO(xlsx.data))
    sheet = book.active
    assert sheet.max_row == len(rows)
    export = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "audit.export")).all()[-1]
    assert export.actor_name == "adm-audit_admin" and export.payload["filters"] == {"event": "referral."}
    assert client.get("/audit/export.pdf").status_code == 404


def test_spreadsheet_cells_lose_formulas_and_unwritable_characters():
    from casework.audit.trail import spreadsheet_cell

    assert spreadsheet_cell("=1+1") == "'=1+1"
    assert spreadsheet_cell("  @SUM(A1)") == "'  @SUM(A1)"
    assert spreadsheet_cell("a\x00b\ud800") == "a\ufffdb\ufffd"
    assert spreadsheet_cell(12) == 12


def test_bad_input_gets_a_clear_answer_and_never_a_500(admins):
    system, auditor = admins["system_admin"], admins["audit_admin"]
    agency = _agency_id("psb-44")
    # a NUL anywhere is refused by the input layer (casework/web/input_guard.py) before the form sees it
    response = system.post(f"/admin/agencies/{agency}", data={"name": "公安\x00厅"})
    assert response.status_code == 400 and "U+0000" in response.get_data(as_text=True)
    response = system.post("/admin/users/new", data={
        "username": "nul\x00user", "display_name": "x", "agency_id": str(agency), "roles": ["case_officer"],
        "password": "Good-passw0rd!", "password_again": "Good-passw0rd!"})
    assert response.status_code == 400 and "U+0000" in response.get_data(as_text=True)
    assert system.get("/admin/users?q=%00%25_&agency=99999999999&role=x&status=y&page=-4").status_code == 400
    for url in ("/admin/users?q=%25_&agency=99999999999&role=x&status=y&page=-4",
                "/admin/users?agency=abc&page=999999999999"):
        assert system.get(url).status_code == 200
    assert system.post("/admin/users/new", data={"agency_id": "99999999999999"}).status_code == 400
    assert admins["security_admin"].post("/admin/clocks/receipt", data={
        "receipt-amount": "99999999999999999999", "receipt-unit": "fortnights"}).status_code == 400
    for url in ("/audit?user=%00&referral=%00&event=%25&agency=x", "/audit/export.csv?user=%00&referral=99999999999"):
        assert auditor.get(url).status_code == 400
    for url in ("/audit?user=x&referral=y&event=%25&agency=x", "/audit/export.csv?user=x&referral=99999999999"):
        assert auditor.get(url).status_code == 200
