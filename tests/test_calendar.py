"""The holiday calendar as data: provisional due dates in a year without an arrangement, shown as such,
recomputed (audited) when the year is entered in the browser or from the command line; the start-up
and page warnings from 1 November; the import format's checks."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from casework.accounts.services import create_user
from casework.audit.models import AuditEvent
from casework.calendar import services, store
from casework.calendar.startup import check_next_year
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.workflow.clocks import start_clock, stop_clock, sync_subject
from tests.conftest import login
from tests.factories import assignment_of, routed_referral

CST = ZoneInfo("Asia/Shanghai")
ADMIN_PASSWORD = "Calendar-adm1n-pass"
# A 2027 arrangement for the tests (the real one is published by the State Council in the autumn).
ARRANGEMENT_2027 = """# 2027 test arrangement
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-20,workday,春节
"""


@pytest.fixture
def admin_client(app, db_session):
    def make(role: str = "security_admin"):
        create_user({"username": f"cal-{role}", "agency_code": "moe", "roles": [role],
                     "password": ADMIN_PASSWORD, "must_change_password": False}, actor=None)
        client = app.test_client()
        assert login(client, f"cal-{role}", ADMIN_PASSWORD).status_code == 302
        return client

    return make


def _provisional_assignment():
    """An acceptance clock started on Wed 30 Dec 2026: its 3 working days end in 2027."""
    referral = routed_referral("44", "cac-44")
    assignment = assignment_of(referral, "cac-44")
    stop_clock(assignment, "receipt")
    clock = start_clock(assignment, "acceptance", now=datetime(2026, 12, 30, 9, tzinfo=CST).astimezone(timezone.utc))
    sync_subject(assignment)
    db.session.commit()
    return referral, assignment, clock


def _local_day(moment: datetime) -> date:
    return moment.astimezone(CST).date()


def test_a_2027_due_date_is_provisional_shown_as_such_and_recomputed_from_the_cli(app, db_session, login_as,
                                                                                   tmp_path):
    referral, assignment, clock = _provisional_assignment()
    assert _local_day(clock.due_at) == date(2027, 1, 4)  # Thu 31 Dec, Fri 1 Jan counted, Mon 4 Jan
    assert clock.calendar_note.startswith("暂按工作日计算") and "2027年" in clock.calendar_note
    client = login_as("cac-44.case_officer")
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "暂按工作日计算" in page and "受理期限：3个工作日" in page
    answer = client.get(f"/api/assignments/{assignment.id}/triggers").get_json()
    assert answer["due_provisional"] is True
    assert clock in services.provisional_clocks(2027)

    runner = app.test_cli_runner()
    path = tmp_path / "calendar-2027.csv"
    path.write_text(ARRANGEMENT_2027, encoding="utf-8")
    result = runner.invoke(args=["calendar", "import", str(path), "--source", "test arrangement"])
    assert result.exit_code == 0, result.output
    assert "2027: 6 holidays, 1 make-up working days; 1 provisional due dates recomputed" in result.output

    db.session.refresh(clock)
    db.session.refresh(assignment)
    assert _local_day(clock.due_at) == date(2027, 1, 5) and clock.calendar_note == ""
    assert assignment.due_at == clock.due_at
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "clock.recomputed",
                                                       AuditEvent.object_id == clock.id))
    assert event.payload["year"] == 2027 and event.payload["to"].startswith("2027-01-05")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.event == "calendar.year_entered")) is not None
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "暂按工作日计算" not in page
    assert client.get(f"/api/assignments/{assignment.id}/triggers").get_json()["due_provisional"] is False
    shown = runner.invoke(args=["calendar", "show", "2027"])
    assert shown.exit_code == 0 and "2027-02-20,workday,春节" in shown.output


def test_the_security_administrator_enters_a_year_in_the_browser(admin_client, db_session):
    _referral, _assignment, clock = _provisional_assignment()
    client = admin_client()
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert "2026" in page and "暂按工作日计算" in page and clock.calendar_note in page
    bad = client.post("/admin/calendar", data={"days": "2027-01-04,workday,x", "source": ""})
    assert bad.status_code == 400 and "weekday" in bad.get_data(as_text=True)
    assert store.stored_arrangement(2027) is None
    done = client.post("/admin/calendar", data={"days": ARRANGEMENT_2027, "source": "国办发明电（测试）"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/calendar?year=2027")
    db.session.refresh(clock)
    assert _local_day(clock.due_at) == date(2027, 1, 5) and clock.calendar_note == ""
    shown = client.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "2027-01-01,holiday,元旦" in shown


@pytest.mark.parametrize("role", ["system_admin", "audit_admin"])
def test_other_administrators_do_not_see_the_calendar_page(admin_client, role):
    assert admin_client(role).get("/admin/calendar").status_code == 404


def test_case_officers_do_not_see_the_calendar_page(login_as):
    client = login_as("cac-44.case_officer")
    assert client.get("/admin/calendar").status_code == 404
    assert client.post("/admin/calendar", data={"days": ARRANGEMENT_2027}).status_code == 404


def test_from_1_november_next_years_missing_arrangement_is_a_warning(app, db_session, admin_client, monkeypatch):
    monkeypatch.setattr(services, "local_today", lambda: date(2026, 10, 31))
    assert check_next_year(app) is None
    monkeypatch.setattr(services, "local_today", lambda: date(2026, 11, 1))
    assert check_next_year(app) == 2027
    page = admin_client().get("/admin/calendar").get_data(as_text=True)
    assert "2027" in page and ("not entered" in page or "未录入" in page)
    services.enter_arrangement(services.parse_arrangement(ARRANGEMENT_2027)[0], "test", None)
    assert services.missing_next_year(date(2026, 11, 1)) is None


@pytest.mark.parametrize("text, says", [
    ("2027-01-04,workday", "weekday"), ("2027-01-01,holiday\n2027-01-01,holiday", "twice"),
    ("2027-13-01,holiday", "not a date"), ("2027-01-01,party", "holiday or workday"),
    ("2027-02-20,workday", "public holidays"), ("# nothing", "no days"), ("2027-01-01", "expected"),
    ("2027-01-01,holiday,\ud800", "control characters"), ('2027-01-01,holiday,"元旦', "line 1"),
])
def test_the_import_format_is_checked(text, says):
    """(Also lone surrogates, which no browser form can send.)"""
    with pytest.raises(ValidationFailed) as caught:
        services.parse_arrangement(text)
    assert says in caught.value.message


def test_cli_errors_are_one_line(app, db_session, tmp_path):
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["calendar", "show", "2031"])
    assert missing.exit_code == 1 and "no holiday arrangement stored for 2031" in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_text("2027-01-04,workday\n", encoding="utf-8")
    result = runner.invoke(args=["calendar", "import", str(bad)])
    assert result.exit_code == 1 and "bad.csv: line 1" in result.output
    assert store.stored_arrangement(2027) is None


def test_the_seeded_table_is_the_librarys(db_session):
    assert store.stored_arrangement(2026) == store.library_arrangement(2026)
    assert store.stored_arrangement(2026).holidays[date(2026, 10, 1)] == "国庆节"
    assert services.seed_from_library() == []  # every year the library knows is stored already


def test_correcting_a_stored_year_recounts_the_clocks_that_reach_into_it(db_session):
    referral = routed_referral("44", "cac-44")
    assignment = assignment_of(referral, "cac-44")
    stop_clock(assignment, "receipt")
    clock = start_clock(assignment, "acceptance", now=datetime(2026, 12, 28, 9, tzinfo=CST).astimezone(timezone.utc))
    assert _local_day(clock.due_at) == date(2026, 12, 31) and clock.calendar_note == ""
    corrected = store.stored_arrangement(2026)
    corrected.holidays[date(2026, 12, 31)] = "测试更正"
    entered = services.enter_arrangement(corrected, "更正", None)
    assert entered.recomputed == 1
    assert _local_day(clock.due_at) == date(2027, 1, 1) and "2027" in clock.calendar_note
    assert assignment.due_at == clock.due_at


@pytest.mark.parametrize("days, source", [
    ("2027-01-01,holiday,元\x00旦", ""), ("2027-01-01,holiday,元旦", "国办\x00发"),
    ("\x00" * 50, ""), ("2027-01-01,holiday," + "节" * 41, ""),
])
def test_bad_text_in_the_browser_is_a_form_error_not_a_500(admin_client, days, source):
    response = admin_client().post("/admin/calendar", data={"days": days, "source": source})
    assert response.status_code == 400
    assert store.stored_arrangement(2027) is None
