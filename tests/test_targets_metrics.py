"""Takedown metrics: routing → receipt, → disposition, → verified offline; per referral and per agency."""
from __future__ import annotations

from datetime import timedelta

from casework.assignments.models import Assignment
from casework.db_types import utcnow
from casework.extensions import db
from casework.targets.metrics import Summary, agency_metrics, format_duration, referral_metrics
from casework.targets.models import TargetStatusCheck
from tests.factories import make_referral
from tests.sql_count import counted_statements


def _route(referral, agency, routed, received=None, disposed=None):
    assignment = Assignment(referral=referral, agency=agency, state="sent", routed_at=routed,
                            received_at=received, disposed_at=disposed)
    db.session.add(assignment)
    db.session.flush()
    return assignment


def _check(target, status, at):
    db.session.add(TargetStatusCheck(target=target, status=status, method="http", checked_at=at))
    db.session.flush()


def test_referral_and_agency_metrics(db_session, user, agency):
    t0 = utcnow() - timedelta(days=10)
    referral = make_referral(user("edu-44.intake_officer"), targets=[
        {"kind": "website", "name": "one", "url": "https://metrics-one.cn"},
        {"kind": "website", "name": "two", "url": "https://metrics-two.cn"},
    ])
    one, two = referral.targets
    _check(one, "offline", t0 - timedelta(days=1))
    _route(referral, agency("cac-44"), t0, t0 + timedelta(hours=3), t0 + timedelta(days=2))
    _route(referral, agency("psb-44"), t0 + timedelta(days=1))
    _check(one, "offline", t0 + timedelta(days=3))
    rows = referral_metrics(referral)
    assert [r.to_receipt for r in rows] == [timedelta(hours=3), None]
    assert [r.to_disposition for r in rows] == [timedelta(days=2), None]
    assert [r.to_offline for r in rows] == [None, None]
    _check(two, "online", t0 + timedelta(days=3))
    _check(two, "offline", t0 + timedelta(days=4))
    _check(two, "offline", t0 + timedelta(days=5))
    rows = referral_metrics(referral)
    assert [r.to_offline for r in rows] == [timedelta(days=4), timedelta(days=3)]

    other = make_referral(user("edu-44.intake_officer"), targets=[
        {"kind": "website", "name": "three", "url": "https://metrics-three.cn"}])
    _route(other, agency("cac-44"), t0, t0 + timedelta(hours=5))
    summary = agency_metrics([agency("cac-44").id], since=t0 - timedelta(seconds=1))[agency("cac-44").id]
    assert (summary["to_receipt"].count, summary["to_receipt"].done) == (2, 2)
    assert summary["to_receipt"].median == timedelta(hours=4)
    assert (summary["to_offline"].done, summary["to_offline"].median) == (1, timedelta(days=4))
    assert summary["to_disposition"].mean == timedelta(days=2)


def test_durations_are_readable(app):
    assert format_duration(None) == "—"
    assert format_duration(timedelta(minutes=5)) == "5 min"
    assert format_duration(timedelta(hours=3, minutes=7)) == "3 h 7 min"
    assert format_duration(timedelta(days=2, hours=1)) == "2 d 1 h"


def test_metrics_on_the_target_page_and_referral_panel(db_session, user, agency, login_as, app):
    t0 = utcnow() - timedelta(days=3)
    referral = make_referral(user("edu-44.intake_officer"), targets=[
        {"kind": "website", "name": "page", "url": "https://metrics-page.cn"}])
    _route(referral, agency("psb-44"), t0, t0 + timedelta(hours=2), t0 + timedelta(days=1))
    _check(referral.targets[0], "offline", t0 + timedelta(days=2))
    client = login_as("psb-44.case_officer")
    page = client.get(f"/targets/{referral.targets[0].id}").get_data(as_text=True)
    assert "2 小时 0 分" in page or "2 h 0 min" in page
    target_url = f"/targets/{referral.targets[0].id}"
    shown = login_as("edu-44.intake_officer").get(f"/referrals/{referral.id}").get_data(as_text=True)
    panel = shown[shown.index('class="card takedown"'):]
    assert target_url in panel and "metrics-page.cn" in panel and ("2 小时 0 分" in panel or "2 h 0 min" in panel)


def _table(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index("<tbody>"):html.index("</tbody>")]


def test_agency_metrics_page_counts_only_the_visible_assignments(db_session, user, agency, login_as):
    t0 = utcnow() - timedelta(days=2)
    seen = make_referral(user("edu-44.intake_officer"), targets=[
        {"kind": "website", "name": "seen", "url": "https://metrics-seen.cn"}])
    unseen = make_referral(user("edu-11.intake_officer"), targets=[
        {"kind": "website", "name": "unseen", "url": "https://metrics-unseen.cn"}])
    _route(seen, agency("miit"), t0, t0 + timedelta(hours=1))
    _route(unseen, agency("miit"), t0, t0 + timedelta(hours=9))
    _route(unseen, agency("psb-11"), t0)
    page = _table(login_as("edu-44.intake_officer").get("/targets/metrics"))
    miit = agency("miit").name
    assert miit in page and agency("psb-11").name not in page
    row = page[page.index(miit):]
    row = row[:row.index("</tr>")]
    assert "<td>1</td>" in row and ("1 h 0 min" in row or "1 小时 0 分" in row)
    national = _table(login_as("miit.case_officer").get("/targets/metrics"))
    row = national[national.index(miit):]
    assert "<td>2</td>" in row[:row.index("</tr>")]


def test_agency_metrics_page_runs_the_same_sql_for_many_assignments(db_session, user, agency, login_as):
    t0 = utcnow() - timedelta(days=2)
    client = login_as("edu-44.intake_officer")

    def add(n):
        for i in range(n):
            referral = make_referral(user("edu-44.intake_officer"), targets=[
                {"kind": "website", "name": f"bulk {i}", "url": f"https://metrics-bulk-{n}-{i}.cn"}])
            _route(referral, agency("miit"), t0, t0 + timedelta(hours=1))
            _route(referral, agency("psb-44"), t0)
            _check(referral.targets[0], "offline", t0 + timedelta(hours=2))

    add(2)
    with counted_statements() as few:
        assert client.get("/targets/metrics").status_code == 200
    add(12)
    with counted_statements() as many:
        page = _table(client.get("/targets/metrics"))
    assert len(many) == len(few), many
    row = page[page.index(agency("miit").name):]
    assert "<td>14</td>" in row[:row.index("</tr>")]


def test_agency_medians_over_odd_and_even_counts(db_session, user, agency):
    t0 = utcnow() - timedelta(days=5)
    since = t0 - timedelta(seconds=1)
    for hours in (6, 1, 2):
        referral = make_referral(user("edu-44.intake_officer"))
        _route(referral, agency("amr-44"), t0, t0 + timedelta(hours=hours))
    summary = agency_metrics([agency("amr-44").id], since=since)[agency("amr-44").id]["to_receipt"]
    assert (summary.count, summary.done, summary.median, summary.mean) == (3, 3, timedelta(hours=2),
                                                                           timedelta(hours=3))
    _route(make_referral(user("edu-44.intake_officer")), agency("amr-44"), t0, t0 + timedelta(hours=4))
    _route(make_referral(user("edu-44.intake_officer")), agency("amr-44"), t0)
    summary = agency_metrics([agency("amr-44").id], since=since)[agency("amr-44").id]["to_receipt"]
    assert (summary.count, summary.done, summary.median) == (5, 4, timedelta(hours=3))
    both = agency_metrics([agency("amr-44").id, agency("amr-11").id], since=since)
    assert both[agency("amr-44").id]["to_receipt"].count == 5
    assert both[agency("amr-11").id]["to_receipt"] == Summary(0, 0, None, None)


def test_the_target_page_runs_the_same_sql_for_more_referrals(db_session, user, agency, login_as):
    t0 = utcnow() - timedelta(days=3)
    target_input = {"kind": "website", "name": "shared", "url": "https://metrics-shared.cn"}
    client = login_as("edu-44.assessor")

    def add_referral():
        referral = make_referral(user("edu-44.intake_officer"), targets=[target_input])
        _route(referral, agency("psb-44"), t0, t0 + timedelta(hours=1))
        return referral.targets[0].id

    target_id = add_referral()
    with counted_statements() as one:
        assert client.get(f"/targets/{target_id}").status_code == 200
    add_referral(), add_referral()
    with counted_statements() as three:
        page = client.get(f"/targets/{target_id}").get_data(as_text=True)
    assert len(three) == len(one), "\n".join(s[:150] for s in three)
    assert page.count("广东省公安厅") >= 3
