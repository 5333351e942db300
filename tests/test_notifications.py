"""Notifications: who is told after a step, the bell's page, e-mail settings, and the outbox sent
through a real SMTP server (aiosmtpd on 127.0.0.1): language, link, retries and failures."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casework.audit.models import AuditEvent
from casework.errors import DomainError
from casework.extensions import db
from casework.notifications.delivery import deliver_digests, deliver_pending
from casework.notifications.mail import transport_for
from casework.notifications.models import MailDelivery, MailSettings, Notification
from casework.notifications.services import mark_all_read, notify_users, unread_count
from casework.unit_of_work import unit_of_work
from tests.smtp_sink import smtp_sink
from tests.factories import act, approved_referral, assignment_of, find_user, routed_referral


@pytest.fixture
def mail_on(app, monkeypatch):
    """E-mail configured (the URL is replaced by each test's sink) and retried at once."""
    monkeypatch.setitem(app.config, "MAIL_URL", "smtp://127.0.0.1:1")
    monkeypatch.setitem(app.config, "MAIL_RETRY_SECONDS", 0)
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://casework.example.gov.cn")


def notifications_of(username: str) -> list[Notification]:
    user = find_user(username)
    return list(db.session.scalars(select(Notification).where(Notification.recipient_id == user.id)
                                   .order_by(Notification.id)))


def give_address(username: str, mode: str = "immediate", hour: int = 8, locale: str | None = None) -> None:
    user = find_user(username)
    if locale:
        user.locale = locale
    db.session.merge(MailSettings(user_id=user.id, email=f"{username}@example.gov.cn", mode=mode, digest_hour=hour))
    db.session.commit()


def test_routing_tells_the_receiving_agencys_officers_and_not_the_actor(db_session):
    referral = routed_referral("44", "psb-44", "cac-44")
    told = notifications_of("psb-44.case_officer")
    assert [(n.kind, n.referral_id, n.trigger) for n in told] == [("to_receive", referral.id, "route")]
    assert told[0].link == f"/referrals/{referral.id}" and told[0].number == referral.number
    assert notifications_of("psb-44.case_officer2")[-1].kind == "to_receive"
    assert notifications_of("psb-44.approver") == []  # approvers do not receive
    assert [n.kind for n in notifications_of("cac-44.case_officer")] == ["to_receive"]
    assert all(n.subject_type == "referral" for n in notifications_of("edu-44.assessor"))


@pytest.mark.parametrize("step, who, kind", [
    ("propose", "cac-44.approver", "to_approve"),
    ("feedback", "edu-44.approver", "to_act"),
])
def test_the_next_desk_is_told_by_the_state_it_reached(db_session, step, who, kind):
    referral = routed_referral("44", "cac-44")
    cyber = assignment_of(referral, "cac-44")
    act(cyber, "receive", "cac-44.case_officer")
    act(cyber, "accept", "cac-44.case_officer")
    act(cyber, "start_investigation", "cac-44.case_officer")
    target = referral.targets[0]
    before = len(notifications_of(who))
    if step == "propose":
        from casework.workflow.fields import catalogue_for

        action = next(iter(catalogue_for(cyber, target)))
        act(cyber, "propose_disposition", "cac-44.case_officer", summary="依法处置", **{f"action_{target.id}": action})
    else:
        from tests.factories import dispose

        dispose(cyber, "cac-44")
    after = notifications_of(who)
    assert len(after) == before + 1 and after[-1].kind == kind


def test_a_refused_step_tells_no_one(db_session):
    referral = approved_referral("44", "psb-44")
    before = db.session.scalar(select(func.count()).select_from(Notification))
    with pytest.raises(DomainError):
        act(referral, "route", "edu-44.intake_officer", agencies=[])
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before


def test_a_rolled_back_change_notifies_no_one(db_session):
    referral = approved_referral("44", "psb-44")
    officer = find_user("psb-44.case_officer")
    before = unread_count(officer)
    with pytest.raises(RuntimeError):
        with unit_of_work():
            notify_users([officer], "to_act", referral)
            raise RuntimeError("the change fails after the notification was written")
    assert unread_count(officer) == before


def test_the_notifications_page_reads_and_marks(db_session, login_as):
    referral = routed_referral("44", "psb-44")
    client = login_as("psb-44.case_officer")
    page = client.get("/notifications")
    assert page.status_code == 200 and referral.number in page.get_data(as_text=True)
    assert "新的待签收事项" in page.get_data(as_text=True) or "New work to receive" in page.get_data(as_text=True)
    mine = notifications_of("psb-44.case_officer")[-1]
    opened = client.post(f"/notifications/{mine.id}/read", data={"open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/referrals/{referral.id}")
    db.session.expire_all()
    assert mine.read_at is not None
    other = notifications_of("psb-44.case_officer2")[-1]
    assert client.post(f"/notifications/{other.id}/read").status_code == 404
    assert client.post("/notifications/read-all").status_code == 302
    assert unread_count(find_user("psb-44.case_officer")) == 0
    assert client.get("/notifications?unread=1").status_code == 200


def test_mark_all_read_counts(db_session):
    routed_referral("44", "psb-44")
    officer = find_user("psb-44.case_officer")
    assert mark_all_read(officer, {}, officer) == 1


def test_mail_settings_are_validated_and_audited(db_session, login_as):
    client = login_as("psb-44.case_officer")
    bad = client.post("/notifications/settings", data={"email": "not an address", "mode": "digest",
                                                      "digest_hour": "25"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "not an address" in text  # what was typed is kept
    good = client.post("/notifications/settings", data={"email": "officer@example.gov.cn", "mode": "digest",
                                                       "digest_hour": "9"})
    assert good.status_code == 302
    saved = db.session.get(MailSettings, find_user("psb-44.case_officer").id)
    assert (saved.email, saved.mode, saved.digest_hour) == ("officer@example.gov.cn", "digest", 9)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.event == "mail_settings.update"))


def test_a_user_without_an_address_gets_no_mail(db_session, mail_on):
    routed_referral("44", "psb-44")
    assert db.session.scalar(select(func.count()).select_from(MailDelivery)) == 0


def test_mail_goes_out_in_the_recipients_language_with_a_link(db_session, mail_on):
    give_address("psb-44.case_officer")
    give_address("psb-44.case_officer2", locale="en")
    referral = routed_referral("44", "psb-44")
    with smtp_sink() as (sink, url):
        report = deliver_pending(transport_for(url))
    assert report.sent == 2 and report.failed == 0
    by_address = {m["To"]: m for m in sink.messages}
    chinese = by_address["psb-44.case_officer@example.gov.cn"]
    english = by_address["psb-44.case_officer2@example.gov.cn"]
    assert "新的待签收事项" in chinese["Subject"] and referral.number in chinese["Subject"]
    assert "New work to receive" in english["Subject"]
    body = chinese.get_content()
    assert f"https://casework.example.gov.cn/referrals/{referral.id}" in body
    assert referral.title in body and referral.summary not in body
    with smtp_sink() as (sink, url):
        assert deliver_pending(transport_for(url)).sent == 0  # sent once only
    assert sink.messages == []


def test_a_temporary_refusal_is_retried_and_a_permanent_one_fails(db_session, mail_on):
    give_address("psb-44.case_officer")
    routed_referral("44", "psb-44")
    with smtp_sink(answers=["451 4.3.0 try again later"]) as (sink, url):
        first = deliver_pending(transport_for(url))
        assert (first.sent, first.retried) == (0, 1)
        delivery = db.session.scalar(select(MailDelivery))
        db.session.refresh(delivery)
        assert delivery.state == "pending" and delivery.attempts == 1 and delivery.last_error.startswith("451")
        second = deliver_pending(transport_for(url))
    assert second.sent == 1 and len(sink.messages) == 1
    give_address("psb-44.case_officer2")
    routed_referral("44", "psb-44")
    with smtp_sink(answers=["550 5.1.1 mailbox unavailable"] * 3) as (sink, url):
        report = deliver_pending(transport_for(url))
    failed = db.session.scalars(select(MailDelivery).where(MailDelivery.state == "failed")).all()
    assert report.failed == 2 and len(failed) == 2  # both officers of the desk, each refused for good
    assert all(f.attempts == 1 and f.last_error.startswith("550") for f in failed)


def test_an_unreachable_server_is_retried_then_marked_failed(db_session, mail_on):
    give_address("psb-44.case_officer")
    routed_referral("44", "psb-44")
    transport = transport_for("smtp://127.0.0.1:9")  # nothing listens on the discard port
    reports = [deliver_pending(transport) for _ in range(3)]
    assert [r.retried for r in reports] == [1, 1, 0] and reports[-1].failed == 1
    delivery = db.session.scalar(select(MailDelivery))
    db.session.refresh(delivery)
    assert delivery.state == "failed" and delivery.attempts == 3 and "Connection" in delivery.last_error


def test_a_digest_lists_the_days_notifications_in_one_mail(db_session, mail_on):
    from datetime import datetime, timezone

    give_address("psb-44.case_officer", mode="digest", hour=9)
    routed_referral("44", "psb-44")
    routed_referral("44", "psb-44")
    with smtp_sink() as (sink, url):
        assert deliver_pending(transport_for(url)).sent == 0  # held for the digest
        at_nine_cst = datetime(2026, 11, 30, 1, 5, tzinfo=timezone.utc)
        report = deliver_digests(transport_for(url), at_nine_cst)
        again = deliver_digests(transport_for(url), at_nine_cst)
    assert report.sent == 1 and again.sent == 0 and len(sink.messages) == 1
    assert "2" in sink.messages[0]["Subject"]
