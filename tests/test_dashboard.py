"""The dashboard: its figures match the database for an education desk, the ministry and a police
desk; every linked figure is the total of the list it links to, with the dashboard's filters; the
statements it runs do not grow with the data; percentiles, working days left and the XLSX export."""
from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from casework.assignments.models import Assignment
from casework.calendar.periods import HolidayCalendar
from casework.dashboard.figures import overview
from casework.dashboard.own_work import working_days_left
from casework.db_types import utcnow
from casework.extensions import db
from casework.referrals.models import Referral
from casework.referrals.queries import SearchFilters, search_page
from casework.web.i18n import local_time
from tests.factories import assignment_row, disposition_row, find_agency, find_user, referral_row
from tests.sql_count import counted_statements

LINK = re.compile(r'<a href="(/search[^"]*)">(\d+)</a>')


def _seed(count: int = 1):
    """Per round: a Guangdong referral sent to the cyberspace office (disposed) and to the police
    (late), a Guangdong draft, and a Beijing referral sent to the Beijing police."""
    for _ in range(count):
        referral = referral_row("edu-44")
        referral.region_code = "440100"
        cac = assignment_row(referral, "cac-44", state="disposing")
        disposition_row(cac, "cac-44.case_officer")
        police = assignment_row(referral, "psb-44", state="sent")
        police.due_at = utcnow() - timedelta(days=2)
        referral_row("edu-44", state="draft").region_code = "440300"
        beijing = referral_row("edu-11")
        beijing.region_code = "110000"
        assignment_row(beijing, "psb-11", state="received")
    db.session.commit()


def _table(html: str, key: str) -> str:
    start = html.index(f'id="table-{key}"')
    return html[start:html.index("</table>", start)]


def _linked_counts(html: str, key: str) -> dict[str, int]:
    return {unescape(href): int(n) for href, n in LINK.findall(_table(html, key))}


def _expected_states(username: str) -> Counter:
    user = find_user(username)
    if user.agency.code.startswith("psb"):
        rows = db.session.scalars(select(Assignment.state).where(Assignment.agency_id == user.agency_id))
    elif user.agency.code == "moe":
        rows = db.session.scalars(select(Referral.state))
    else:
        rows = db.session.scalars(select(Referral.state).where(Referral.origin_agency_id == user.agency_id))
    return Counter(rows)


@pytest.mark.parametrize("username", ["edu-44.assessor", "moe.assessor", "psb-44.case_officer"])
def test_state_counts_match_the_database(db_session, login_as, username):
    _seed(2)
    html = login_as(username).get("/dashboard").get_data(as_text=True)
    shown = Counter()
    for href, count in _linked_counts(html, "states").items():
        shown[parse_qs(urlparse(href).query)["state"][0]] += count
    assert shown == _expected_states(username) and shown


@pytest.mark.parametrize("username", ["edu-44.assessor", "moe.assessor"])
def test_every_linked_figure_is_the_total_of_its_list_with_the_filters(db_session, login_as, app, username):
    _seed(2)
    today = local_time(utcnow()).date().isoformat()
    html = login_as(username).get(f"/dashboard?region=44&date_from=2020-01-01&date_to={today}").get_data(as_text=True)
    links = {**_linked_counts(html, "states"), **_linked_counts(html, "agencies")}
    assert links
    user = find_user(username)
    for href, count in links.items():
        args = parse_qs(urlparse(href).query)
        assert args["region"] == ["44"] and args["date_from"] == ["2020-01-01"] and args["date_to"] == [today]
        if "overdue" in args:
            continue  # an agency's overdue list holds its referrals with any late work
        filters = SearchFilters.from_args(MultiDict([(k, v[0]) for k, v in args.items()]))
        assert search_page(user, filters).total == count, href
    assert "psb-11" not in html and "北京市公安局" not in html


def test_a_police_desk_sees_only_its_own_assignments(db_session, login_as):
    _seed(1)
    figures = overview(find_user("psb-44.case_officer"), SearchFilters())
    assert [a.key for a in figures.agencies] == ["psb-44"]
    assert figures.agencies[0].overdue == 1 and figures.agencies[0].overdue_rate == 1.0


def test_the_statements_do_not_grow_with_the_data(db_session, login_as):
    client = login_as("moe.assessor")
    _seed(1)
    client.get("/dashboard")
    with counted_statements() as few:
        assert client.get("/dashboard?region=44").status_code == 200
    _seed(5)
    with counted_statements() as many:
        assert client.get("/dashboard?region=44").status_code == 200
    assert len(many) == len(few) <= 30


def test_median_and_90th_percentile_per_agency_and_kind(db_session):
    referral = referral_row("edu-44")
    start = utcnow() - timedelta(days=5)
    for hours in range(1, 11):
        db.session.add(Assignment(referral=referral, agency=find_agency("cac-44"), state="received",
                                  routed_at=start, received_at=start + timedelta(hours=hours)))
    db.session.commit()
    figures = overview(find_user("moe.assessor"), SearchFilters())
    [agency] = figures.agencies
    receive = agency.timings["receive"]
    assert receive.known == 10 and receive.median == timedelta(hours=5, minutes=30)
    assert receive.p90 == timedelta(hours=9)
    [kind] = figures.kinds
    assert kind.key == "cyberspace" and kind.timings["receive"].p90 == timedelta(hours=9)
    assert "accept" not in agency.timings


def test_outcomes_per_target_kind(db_session):
    _seed(1)
    [outcome] = overview(find_user("edu-44.assessor"), SearchFilters()).outcomes
    assert (outcome.target_kind, outcome.action, outcome.outcome, outcome.count) == ("website", "stop_access", "done", 2)


def test_working_days_left_skip_weekends_and_holidays():
    calendar = HolidayCalendar(frozenset({2026}), frozenset({date(2026, 12, 1)}))
    friday = date(2026, 11, 27)
    assert working_days_left(calendar, friday, friday) == 0
    assert working_days_left(calendar, friday, date(2026, 11, 30)) == 1  # the next Monday
    assert working_days_left(calendar, friday, date(2026, 12, 2)) == 2  # Tuesday a holiday
    assert working_days_left(calendar, date(2026, 12, 2), friday) == -2


def test_bad_filters_are_field_errors_and_the_export_opens(db_session, login_as):
    _seed(1)
    client = login_as("edu-44.assessor")
    bad = client.get("/dashboard?date_from=2026-13-45")
    assert bad.status_code == 400 and 'id="err-date_from"' in bad.get_data(as_text=True)
    response = client.get("/dashboard/export.xlsx?region=44")
    assert response.status_code == 200 and "filename*=UTF-8''" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    states = book.worksheets[0]
    assert states.freeze_panes == "A2" and states.auto_filter.ref
    assert sum(row[2] for row in states.iter_rows(min_row=2, values_only=True)) == 2


def test_the_page_needs_a_case_role_and_sends_no_inline_script(db_session, login_as):
    _seed(1)
    response = login_as("edu-44.assessor").get("/dashboard")
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))", html) == []
    assert '<script type="application/json" id="dashboard-data">' in html
    assert 'href="/dashboard"' in html  # the top bar links it
