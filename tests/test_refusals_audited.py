"""Refused attempts are audited from every door: refused form posts one event each, probing of other
agencies' objects as rate-limited access denials."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from casework.admin.denials import AccessDenialWindow, report_pending_denials
from casework.audit.models import AuditEvent
from casework.extensions import db
from casework.unit_of_work import unit_of_work
from tests.factories import make_referral


def _events(event: str, **where) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event == event)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.session.scalars(query.order_by(AuditEvent.seq)))


def test_twenty_refused_form_posts_leave_twenty_refused_events(login_as, user):
    intake = user("edu-44.intake_officer")
    referral = make_referral(intake)
    db.session.commit()
    client = login_as("edu-44.intake_officer")  # may not start the assessment (assessor's step)
    before = len(_events("referral.start_assessment", outcome="refused"))
    for _ in range(20):
        response = client.post(f"/referrals/{referral.id}/fire/start_assessment",
                               data={"version": str(referral.version)})
        assert response.status_code == 302
    refused = _events("referral.start_assessment", outcome="refused")
    assert len(refused) - before == 20
    last = refused[-1]
    assert (last.actor_id, last.object_type, last.object_id, last.trigger, last.from_state) == (
        intake.id, "referral", referral.id, "start_assessment", "draft")
    assert last.payload["reason"]
    db.session.expire_all()
    assert db.session.get(type(referral), referral.id).state == "draft"


def test_a_refused_unknown_step_from_a_form_is_recorded(login_as, user):
    referral = make_referral(user("edu-44.intake_officer"))
    db.session.commit()
    client = login_as("edu-44.intake_officer")
    client.post(f"/referrals/{referral.id}/fire/{'x' * 300}", data={})
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == referral.id,
                                                        AuditEvent.outcome == "refused")).one()
    assert event.event.startswith("referral.x") and len(event.trigger) == 64


def test_probing_other_agencies_referrals_is_recorded_without_one_event_per_probe(login_as, user):
    referrals = [make_referral(user("edu-11.intake_officer")) for _ in range(50)]
    db.session.commit()
    prober = user("psb-44.case_officer")
    client = login_as("psb-44.case_officer")
    for referral in referrals:
        assert client.get(f"/referrals/{referral.id}").status_code == 404
    denials = _events("access.denied", actor_id=prober.id)
    assert len(denials) == 1
    assert denials[0].outcome == "refused" and denials[0].payload["count"] == 1
    window = db.session.get(AccessDenialWindow, prober.id)
    assert window.unreported == 49 and len(window.sample_paths) == 5

    window.last_reported_at -= timedelta(minutes=11)
    db.session.commit()
    assert client.post(f"/referrals/{referrals[0].id}/fire/start_assessment", data={}).status_code == 404
    denials = _events("access.denied", actor_id=prober.id)
    assert len(denials) == 2 and denials[1].payload["count"] == 50
    assert f"/referrals/{referrals[1].id}" in denials[1].payload["sample_paths"]


def test_a_quiet_window_is_reported_later(login_as, user):
    referral = make_referral(user("edu-11.intake_officer"))
    db.session.commit()
    prober = user("cac-44.case_officer")
    client = login_as("cac-44.case_officer")
    for _ in range(3):
        client.get(f"/referrals/{referral.id}")
        client.get(f"/api/referrals/{referral.id}/triggers")
    assert len(_events("access.denied", actor_id=prober.id)) == 1
    with unit_of_work():
        assert report_pending_denials() == 0  # the window is still open
    later = db.session.get(AccessDenialWindow, prober.id).last_reported_at + timedelta(minutes=10)
    with unit_of_work():
        assert report_pending_denials({"now": later}) == 1
    denials = _events("access.denied", actor_id=prober.id)
    assert denials[-1].payload["count"] == 5


def test_pages_without_an_object_id_and_anonymous_visitors_are_not_counted(app, login_as):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "access.denied"))
    login_as("psb-44.case_officer").get("/no-such-page")
    app.test_client().get("/referrals/999999")
    after = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "access.denied"))
    assert after == before


def test_the_report_command_writes_what_quiet_windows_left(app, login_as, user):
    referral = make_referral(user("edu-11.intake_officer"))
    db.session.commit()
    client = login_as("ca-44.case_officer")
    client.get(f"/referrals/{referral.id}")
    client.get(f"/referrals/{referral.id}")
    row = db.session.get(AccessDenialWindow, user("ca-44.case_officer").id)
    row.last_reported_at -= timedelta(minutes=30)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["admin", "report-denials"])
    assert result.exit_code == 0 and result.output.startswith("1 ")
