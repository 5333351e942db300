"""Search and export: filters, agency scope, CSV and XLSX of the current list."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from casework.assignments.models import Assignment
from casework.db_types import utcnow
from casework.extensions import db
from tests.factories import make_referral


def _seed(user, agency):
    edu44 = user("edu-44.intake_officer")
    edu11 = user("edu-11.intake_officer")
    app_ref = make_referral(edu44, title="秒刷应用线索", targets=[
        {"kind": "app", "name": "秒刷", "package_name": "com.miaoshua.search", "store": "huawei"}])
    site_ref = make_referral(edu44, title="代刷网站线索", targets=[
        {"kind": "website", "name": "代刷网", "url": "https://daishua-search.example.cn/x"}])
    beijing = make_referral(edu11, title="北京的线索", targets=[
        {"kind": "app", "name": "秒刷京", "package_name": "com.miaoshua.search.bj"}])
    site_ref.state = "routed"
    db.session.add(Assignment(referral=site_ref, agency=agency("ca-44"), state="received",
                              due_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    return app_ref, site_ref, beijing


def test_search_by_target_respects_scope(login_as, user, agency):
    app_ref, site_ref, beijing = _seed(user, agency)
    html = login_as("edu-44.assessor").get("/search?target=miaoshua").get_data(as_text=True)
    assert app_ref.number in html and beijing.number not in html and site_ref.number not in html
    html = login_as("moe.assessor").get("/search?target=miaoshua").get_data(as_text=True)
    assert app_ref.number in html and beijing.number in html


def test_search_filters(login_as, user, agency):
    app_ref, site_ref, beijing = _seed(user, agency)
    client = login_as("edu-44.assessor")
    by_domain = client.get("/search?target=daishua-search.example.cn").get_data(as_text=True)
    assert site_ref.number in by_domain and app_ref.number not in by_domain
    for pasted in ("https://daishua-search.example.cn/", "HTTP://WWW.daishua-search.example.cn/x/"):
        by_address = client.get("/search", query_string={"target": pasted}).get_data(as_text=True)
        assert site_ref.number in by_address and app_ref.number not in by_address, pasted
    by_number = client.get(f"/search?number={app_ref.number}").get_data(as_text=True)
    assert app_ref.number in by_number and site_ref.number not in by_number
    by_lower_case = client.get(f"/search?number={app_ref.number.lower()}").get_data(as_text=True)
    assert app_ref.number in by_lower_case and site_ref.number not in by_lower_case
    by_part = client.get(f"/search?number={app_ref.number[-4:]}").get_data(as_text=True)
    assert app_ref.number in by_part and site_ref.number not in by_part
    by_agency = client.get("/search?agency=ca-44").get_data(as_text=True)
    assert site_ref.number in by_agency and app_ref.number not in by_agency
    by_state = client.get("/search?state=received").get_data(as_text=True)
    assert site_ref.number in by_state and app_ref.number not in by_state
    overdue = client.get("/search?overdue=1").get_data(as_text=True)
    assert site_ref.number in overdue and app_ref.number not in overdue
    today = utcnow().date()
    dated = client.get(f"/search?date_from={today - timedelta(days=1)}&date_to={today + timedelta(days=1)}")
    assert app_ref.number in dated.get_data(as_text=True)
    future = client.get(f"/search?date_from={today + timedelta(days=2)}").get_data(as_text=True)
    assert app_ref.number not in future
    region = client.get("/search?region=11").get_data(as_text=True)
    assert app_ref.number not in region


def test_agency_sees_only_what_was_routed_to_it(login_as, user, agency):
    app_ref, site_ref, _beijing = _seed(user, agency)
    html = login_as("ca-44.case_officer").get("/search").get_data(as_text=True)
    assert site_ref.number in html and app_ref.number not in html


def test_bad_filter_input_is_a_field_error(login_as):
    response = login_as("edu-44.assessor").get("/search?date_from=2026-13-45&region=abc")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="err-date_from"' in html and 'id="err-region"' in html and "2026-13-45" in html


@pytest.mark.parametrize("path", [
    "/search?date_from=0001-01-01", "/search?date_to=9999-12-31", "/search?date_from=2026-11-20&date_to=2026-11-01",
    "/search/export.csv?date_to=9999-12-31", "/search/export.xlsx?date_from=bad",
])
def test_dates_out_of_range_or_reversed_are_field_errors(login_as, path):
    response = login_as("edu-44.assessor").get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert 'id="err-date_from"' in html or 'id="err-date_to"' in html


def test_csv_export_of_the_current_list(login_as, user, agency):
    app_ref, site_ref, beijing = _seed(user, agency)
    response = login_as("edu-44.assessor").get("/search/export.csv?target=miaoshua")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "编号"
    numbers = [row[0] for row in rows[1:]]
    assert numbers == [app_ref.number]


def test_xlsx_export_respects_scope(login_as, user, agency):
    app_ref, site_ref, beijing = _seed(user, agency)
    response = login_as("ca-44.case_officer").get("/search/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [site_ref.number]
    assert "广东省通信管理局" in sheet.cell(row=2, column=9).value


def test_export_neutralises_formulas(login_as, user):
    make_referral(user("edu-44.intake_officer"), title="=HYPERLINK(\"http://x\")")
    db.session.commit()
    text = login_as("edu-44.assessor").get("/search/export.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_a_referral_with_a_late_assignment_is_marked_overdue_in_the_list_and_the_export(login_as, user, agency):
    app_ref, site_ref, _beijing = _seed(user, agency)
    client = login_as("edu-44.assessor")
    html = client.get("/search?overdue=1").get_data(as_text=True)
    row = html[html.index(site_ref.number):]
    assert "已超期" in row[:row.index("</tr>")]
    rows = list(csv.reader(io.StringIO(client.get("/search/export.csv").data.decode("utf-8-sig"))))
    overdue = {row[0]: row[rows[0].index("已超期")] for row in rows[1:]}
    assert overdue[site_ref.number] == "是" and overdue[app_ref.number] == ""
    page = client.get(f"/referrals/{site_ref.id}").get_data(as_text=True)
    assignment = page[page.index('class="assignment'):]
    assert "已超期" in assignment[:assignment.index("</header>")]
