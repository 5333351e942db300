"""The registry: one entry per target across referrals, and scope-safe "already known" hints and pages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casework.assignments.models import Assignment, Disposition, DispositionAction
from casework.audit.models import AuditEvent
from casework.db_types import utcnow
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.targets.models import Target, TargetStatusCheck
from casework.targets.services import known_target_summary, register_target
from casework.targets.status import record_status_check
from tests.factories import make_referral


def _website(url: str, **extra) -> dict:
    return {"kind": "website", "name": "代刷网课", "url": url, **extra}


def test_one_entry_for_many_spellings_across_referrals(db_session, user):
    first = make_referral(user("edu-44.intake_officer"), targets=[_website("https://www.shuake-one.cn/")])
    second = make_referral(user("edu-11.intake_officer"), targets=[_website("http://shuake-one.cn")])
    assert first.targets[0].id == second.targets[0].id
    assert db.session.scalar(select(func.count()).select_from(Target).where(Target.key == "shuake-one.cn")) == 1


def test_register_target_normalises_and_fills_missing_attributes(db_session, user):
    actor = user("edu-44.intake_officer")
    target = register_target(_website("HTTP://WWW.Shuake-two.CN:80/"), actor)
    assert (target.key, target.registrable_domain, target.icp_number) == ("shuake-two.cn", "shuake-two.cn", None)
    again = register_target(_website("shuake-two.cn", icp_number="京ICP备12345678号-1",
                                     operator_uscc="91350100M000100Y43", ip_addresses="203.0.113.9"), actor)
    assert again is target
    assert (target.icp_number, target.operator_uscc, target.ip_addresses) == (
        "京ICP备12345678号-1", "91350100M000100Y43", ["203.0.113.9"])
    register_target(_website("shuake-two.cn", icp_number="沪ICP备87654321号"), actor)
    assert target.icp_number == "京ICP备12345678号-1"


def test_account_kind_follows_the_platform(db_session, user):
    actor = user("edu-44.intake_officer")
    as_account = register_target({"kind": "account", "platform": "qq_group", "account_id": "7654321"}, actor)
    as_group = register_target({"kind": "group", "platform": "qq_group", "account_id": " 7654321"}, actor)
    assert as_account is as_group and as_group.kind == "group"
    spelled = register_target({"kind": "group", "platform": "QQ", "account_id": "7654321"}, actor)
    assert spelled is as_group


@pytest.mark.parametrize("data,field", [
    (_website("ftp://shuake.cn"), "url"),
    ({"kind": "app", "package_name": "not a package"}, "package_name"),
    ({"kind": "account", "platform": "qq_group", "account_id": "abc"}, "account_id"),
    (_website("shuake.cn", icp_number="ICP备123号"), "icp_number"),
    (_website("shuake.cn", operator_uscc="91350100M000100Y44"), "operator_uscc"),
    (_website("shuake.cn", ip_addresses="300.1.1.1"), "ip_addresses"),
    ({"kind": "spaceship", "name": "x"}, "kind"),
])
def test_malformed_input_names_the_field_and_saves_nothing(db_session, user, data, field):
    before = db.session.scalar(select(func.count()).select_from(Target))
    with pytest.raises(ValidationFailed) as caught:
        register_target(data, user("edu-44.intake_officer"))
    assert field in caught.value.errors
    assert db.session.scalar(select(func.count()).select_from(Target)) == before


@pytest.fixture
def shared_target(db_session, user, agency):
    """One site named by edu-44 (routed to psb-44), edu-11 (routed to psb-11) and edu-44 again (not routed)."""
    url = "https://secret-shuake.cn/"
    a = make_referral(user("edu-44.intake_officer"), title="广东线索 机密标题A", targets=[_website(url)])
    b = make_referral(user("edu-11.intake_officer"), title="北京线索 机密标题B", targets=[_website(url)])
    c = make_referral(user("edu-44.intake_officer"), title="广东线索 机密标题C", targets=[_website(url)])
    db.session.add(Assignment(referral=a, agency=agency("psb-44"), state="sent"))
    db.session.add(Assignment(referral=b, agency=agency("psb-11"), state="sent"))
    db.session.flush()
    return {"a": a, "b": b, "c": c, "target": a.targets[0]}


SUMMARY_SCOPE = {
    "edu-44.intake_officer": {"a", "c"},
    "edu-11.intake_officer": {"b"},
    "psb-44.case_officer": {"a"},
    "psb-11.case_officer": {"b"},
    "moe.intake_officer": {"a", "b", "c"},
    "cac-44.case_officer": set(),
}


@pytest.mark.parametrize("username,visible", SUMMARY_SCOPE.items())
def test_known_summary_counts_all_but_shows_only_the_scope(shared_target, user, username, visible):
    summary = known_target_summary(_website("http://www.secret-shuake.cn"), user(username))
    assert summary["known"] is True and summary
    assert summary["referral_count"] == 3
    shown = {r["id"] for r in summary["visible_referrals"]}
    assert shown == {shared_target[name].id for name in visible}
    assert summary["hidden_count"] == 3 - len(visible)
    text = repr(summary)
    for name, referral in shared_target.items():
        if name in ("a", "b", "c") and name not in visible:
            assert referral.title not in text and referral.number not in text
    assert (summary["target_id"] is not None) == bool(visible)


def test_known_summary_leaves_out_the_referral_being_edited(shared_target, user):
    actor = user("edu-44.intake_officer")
    summary = known_target_summary(_website("secret-shuake.cn", referral_id=str(shared_target["a"].id)), actor)
    assert summary["referral_count"] == 2
    assert [r["id"] for r in summary["visible_referrals"]] == [shared_target["c"].id]


def test_known_summary_of_an_unknown_or_malformed_target(db_session, user):
    actor = user("edu-44.intake_officer")
    unknown = known_target_summary(_website("never-seen-before.cn"), actor)
    assert unknown["known"] is False and not unknown
    bad = known_target_summary(_website("not a url"), actor)
    assert bad["known"] is False and "url" in bad["errors"]


DISPOSAL_READERS = {  # a disposal by psb-44 on referral a (edu-44's): its agency and the referring side read it
    "psb-44.case_officer": True, "edu-44.intake_officer": True, "moe.intake_officer": True,
    "edu-11.intake_officer": False, "psb-11.case_officer": False, "cac-44.case_officer": False,
}


@pytest.mark.parametrize("username,reads", DISPOSAL_READERS.items())
def test_known_summary_reports_the_latest_disposal_only_to_who_may_read_it(shared_target, user, username, reads):
    assignment = shared_target["a"].assignments[0]
    disposition = Disposition(assignment=assignment, proposed_by=user("psb-44.case_officer"), state="approved")
    disposition.actions.append(DispositionAction(target=shared_target["target"], action="stop_access",
                                                 outcome="done", executed_at=utcnow()))
    db.session.add(disposition)
    db.session.flush()
    summary = known_target_summary(_website("secret-shuake.cn"), user(username))
    assert summary["referral_count"] == 3
    if reads:
        assert summary["latest_disposal"]["action"] == "stop_access"
        assert summary["latest_disposal"]["outcome"] == "done"
    else:
        assert summary["latest_disposal"] is None
        assert "stop_access" not in repr(summary) and "approved" not in repr(summary)


def test_a_user_seeing_none_of_the_referrals_gets_a_count_only(shared_target, user, login_as):
    disposition = Disposition(assignment=shared_target["b"].assignments[0], proposed_by=user("psb-11.case_officer"),
                              state="proposed")
    disposition.actions.append(DispositionAction(target=shared_target["target"], action="stop_access"))
    db.session.add(disposition)
    record_status_check(shared_target["target"], {"status": "online", "method": "http", "detail": "HTTP 200"})
    db.session.commit()
    body = login_as("cac-44.case_officer").get("/api/targets/known?kind=website&url=secret-shuake.cn").get_json()
    assert body["known"] and (body["referral_count"], body["hidden_count"]) == (3, 3)
    assert (body["target_id"], body["latest_disposal"], body["status"], body["back_online"]) == (None, None, None, False)
    assert body["visible_referrals"] == []
    hint = login_as("cac-44.case_officer").get("/referrals/known-target?kind=website&url=secret-shuake.cn")
    text = hint.get_data(as_text=True)
    assert "3" in text and "/targets/" not in text and "最近处置" not in text and "stop" not in text


@pytest.mark.parametrize("username,visible", SUMMARY_SCOPE.items())
def test_target_page_lists_only_visible_referrals(shared_target, login_as, username, visible):
    client = login_as(username)
    response = client.get(f"/targets/{shared_target['target'].id}")
    if not visible:
        assert response.status_code == 404
        return
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for name in ("a", "b", "c"):
        referral = shared_target[name]
        assert (referral.title in page) == (name in visible)
        assert (f"/referrals/{referral.id}\"" in page) == (name in visible)


def test_api_known_answers_within_the_scope(shared_target, login_as):
    body = login_as("cac-44.case_officer").get("/api/targets/known?kind=website&url=secret-shuake.cn").get_json()
    assert body["known"] and body["visible_referrals"] == [] and body["target_id"] is None
    assert "机密" not in repr(body)


def test_back_online_after_completed_takedown_is_flagged_on_its_cases(shared_target, user):
    target = shared_target["target"]
    officer = user("psb-44.case_officer")
    record_status_check(target, {"status": "online", "method": "http", "detail": "HTTP 200"})
    assert target.back_online is False
    disposition = Disposition(assignment=shared_target["a"].assignments[0], proposed_by=officer, state="approved")
    disposition.actions.append(DispositionAction(target=target, action="stop_access", outcome="done",
                                                 executed_at=utcnow() - timedelta(hours=2)))
    db.session.add(disposition)
    record_status_check(target, {"status": "offline", "method": "manual", "detail": "gone"}, officer)
    assert target.status == "offline" and target.offline_since is not None
    check = record_status_check(target, {"status": "online", "method": "http", "detail": "HTTP 200"})
    assert check.back_online and target.back_online
    flagged = set(db.session.scalars(select(AuditEvent.object_id).where(
        AuditEvent.event == "referral.target_back_online", AuditEvent.payload["check_id"].as_integer() == check.id)))
    assert flagged == {shared_target[n].id for n in ("a", "b", "c")}
    repeat = record_status_check(target, {"status": "online", "method": "http", "detail": "HTTP 200"})
    assert repeat.back_online is False and target.back_online
    record_status_check(target, {"status": "offline", "method": "http", "detail": "refused"})
    assert target.back_online is False


def test_manual_check_needs_a_valid_status(shared_target, user):
    with pytest.raises(ValidationFailed):
        record_status_check(shared_target["target"], {"status": "gone", "method": "manual"},
                            user("psb-44.case_officer"))
    with pytest.raises(ValidationFailed):
        record_status_check(shared_target["target"], {"status": "offline", "method": "manual"})


def test_manual_check_form_records_history(shared_target, login_as):
    client = login_as("psb-44.case_officer")
    target = shared_target["target"]
    response = client.post(f"/targets/{target.id}/checks", data={"status": "offline", "detail": "页面已无法访问"})
    assert response.status_code == 302
    page = client.get(f"/targets/{target.id}").get_data(as_text=True)
    assert "页面已无法访问" in page
    assert client.post(f"/targets/{target.id}/checks", data={"status": "bogus"}).status_code == 400
    assert login_as("cac-44.case_officer").post(f"/targets/{target.id}/checks",
                                                data={"status": "offline"}).status_code == 404


def test_manual_check_with_evidence(shared_target, login_as):
    import io

    client = login_as("edu-44.intake_officer")
    target = shared_target["target"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
    spoofed = client.post(f"/targets/{target.id}/checks", content_type="multipart/form-data", data={
        "status": "offline", "referral_id": str(shared_target["a"].id), "file": (io.BytesIO(png), "shot.pdf")})
    assert spoofed.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(TargetStatusCheck)
                             .where(TargetStatusCheck.target_id == target.id)) == 0
    ok = client.post(f"/targets/{target.id}/checks", content_type="multipart/form-data", data={
        "status": "offline", "referral_id": str(shared_target["c"].id), "detail": "截图为证",
        "file": (io.BytesIO(png), "shot.png")})
    assert ok.status_code == 302
    check = db.session.scalar(select(TargetStatusCheck).where(TargetStatusCheck.target_id == target.id))
    assert check.evidence.referral_id == shared_target["c"].id and check.evidence.target_id == target.id
    assert check.checked_by.username == "edu-44.intake_officer"
    outsider_referral = client.post(f"/targets/{target.id}/checks", content_type="multipart/form-data", data={
        "status": "offline", "referral_id": str(shared_target["b"].id), "file": (io.BytesIO(png), "shot.png")})
    assert outsider_referral.status_code == 400


@pytest.mark.parametrize("query, field", [("kind=website&url=http://[::1", "url"), ("kind=", "kind"),
                                          ("kind=app&package_name=秒刷 app!", "package_name")])
def test_api_known_refuses_a_malformed_target_with_400(login_as, query, field):
    response = login_as("cac-44.case_officer").get(f"/api/targets/known?{query}")
    assert response.status_code == 400 and field in response.get_json()["errors"]
    assert "IPv6" not in repr(response.get_json())


def test_migration_0104_merges_entries_whose_keys_now_coincide_and_keeps_their_history(db_session, user):
    """A database with both spellings (m. and wap. hosts registered before they folded): the entries merge into
    the oldest, which takes over the referral links, status checks and missing attributes."""
    from casework.referrals.models import Referral
    from casework.targets.models import ReferralTarget
    from casework.targets.rekey import rekey_websites

    actor = user("edu-44.intake_officer")
    first = make_referral(actor, targets=[_website("https://rekey-shuake.cn/")])
    second = make_referral(user("edu-11.intake_officer"), targets=[_website("https://rekey-shuake.cn/")])
    site = first.targets[0]
    old = []
    for spelling in ("m.rekey-shuake.cn", "wap.rekey-shuake.cn"):  # as keyed before 0104
        target = Target(kind="website", key=spelling, name="代刷网课", url=f"https://{spelling}/",
                        domain=spelling, registrable_domain="rekey-shuake.cn", icp_number="粤ICP备12345678号",
                        ip_addresses=[])
        db.session.add(target)
        old.append(target)
    other = Target(kind="website", key="m.rekey-other.cn", name="另一网站", url="https://m.rekey-other.cn/",
                   ip_addresses=[])
    db.session.add(other)
    db.session.flush()
    db.session.add(ReferralTarget(referral=first, target=old[0]))  # the same referral names both spellings
    db.session.add(ReferralTarget(referral=second, target=old[1]))
    third = make_referral(actor, targets=[_website("https://unrelated-rekey.cn/")])
    db.session.add(ReferralTarget(referral=third, target=old[1]))
    record_status_check(old[0], {"status": "offline", "method": "manual", "detail": "已下线"}, actor)
    db.session.commit()
    site_id, old_ids, third_id = site.id, [t.id for t in old], third.id

    merged = rekey_websites(db.session.connection())
    db.session.expire_all()

    assert merged == {old_ids[0]: site_id, old_ids[1]: site_id}
    assert db.session.scalar(select(func.count()).select_from(Target).where(Target.id.in_(old_ids))) == 0
    survivor = db.session.get(Target, site_id)
    assert survivor.key == "rekey-shuake.cn" and survivor.icp_number == "粤ICP备12345678号"
    assert sorted(link.referral_id for link in survivor.referral_links) == sorted([first.id, second.id, third_id])
    assert [check.detail for check in survivor.checks] == ["已下线"]
    assert db.session.get(Target, other.id).key == "rekey-other.cn"  # re-keyed, nothing to merge with
    assert len(db.session.get(Referral, first.id).target_links) == 1
    assert rekey_websites(db.session.connection()) == {}  # running it again changes nothing
