"""Intake in the browser: drafts with targets, server-side validation, nothing saved half-way."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from casework.audit.models import AuditEvent
from casework.extensions import db
from casework.referrals.models import Referral
from casework.targets.models import ReferralTarget


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _form(**overrides) -> dict:
    data = {
        "title": "某网课代刷平台",
        "source": "platform_report",
        "summary": "学生反映该平台代刷网课学时。",
        "region_code": "440000",
        "targets-0-kind": "website",
        "targets-0-name": "代刷网",
        "targets-0-url": "https://www.daishua-ui.example.cn/",
        "targets-1-kind": "app",
        "targets-1-name": "秒刷",
        "targets-1-package_name": "com.miaoshua.ui",
        "targets-1-store": "huawei",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_intake_form_renders_in_chinese(login_as):
    client = login_as("edu-44.intake_officer")
    page = client.get("/referrals/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "新建线索" in html and "保存为草稿" in html


def test_agency_officer_cannot_open_intake(login_as):
    assert login_as("psb-44.case_officer").get("/referrals/new").status_code == 403


def test_saving_a_draft_with_two_targets(login_as):
    client = login_as("edu-44.intake_officer")
    before = _count(Referral)
    response = client.post("/referrals/new", data=_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _count(Referral) == before + 1
    referral = db.session.scalar(select(Referral).order_by(Referral.id.desc()).limit(1))
    assert referral.state == "draft"
    assert {t.kind for t in referral.targets} == {"website", "app"}
    page = client.get(response.headers["Location"])
    assert "代刷网" in page.get_data(as_text=True)


def _assert_refused(client, data, field, *, files=None, kept=("某网课代刷平台",)):
    counts = (_count(Referral), _count(ReferralTarget), _count(AuditEvent))
    payload = dict(data)
    if files:
        payload.update(files)
    response = client.post("/referrals/new", data=payload, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html[:500]
    assert f'id="err-{field}"' in html, f"no error next to {field}"
    for text in kept:
        assert text in html, f"input {text!r} not kept"
    assert (_count(Referral), _count(ReferralTarget), _count(AuditEvent)) == counts
    return html


def test_missing_title_and_source(login_as):
    client = login_as("edu-44.intake_officer")
    html = _assert_refused(client, _form(title="", source=""), "title", kept=("daishua-ui.example.cn",))
    assert 'id="err-source"' in html


def test_url_that_is_not_a_url(login_as):
    _assert_refused(login_as("edu-44.intake_officer"), _form(**{"targets-0-url": "not a url"}), "targets-0-url",
                    kept=("某网课代刷平台", "not a url"))


def test_bad_package_name(login_as):
    _assert_refused(login_as("edu-44.intake_officer"), _form(**{"targets-1-package_name": "秒刷 app!"}),
                    "targets-1-package_name", kept=("秒刷 app!",))


def test_over_long_title_and_summary(login_as):
    client = login_as("edu-44.intake_officer")
    html = _assert_refused(client, _form(title="长" * 201, summary="x" * 4001), "title", kept=("长" * 201,))
    assert 'id="err-summary"' in html


def test_oversized_file(app, login_as):
    client = login_as("edu-44.intake_officer")
    app.config["EVIDENCE_MAX_BYTES"] = 1024
    try:
        big = (io.BytesIO(b"%PDF-1.4\n" + b"0" * 4096), "big.pdf")
        _assert_refused(client, _form(), "evidence", files={"evidence": big})
    finally:
        app.config.pop("EVIDENCE_MAX_BYTES")


def test_a_failing_target_saves_nothing_of_the_referral(login_as):
    client = login_as("edu-44.intake_officer")
    _assert_refused(client, _form(**{"targets-2-kind": "account", "targets-2-platform": "qq",
                                     "targets-2-account_id": "abc"}), "targets-2-account_id")


def test_add_target_button_keeps_input_and_adds_a_row(login_as):
    client = login_as("edu-44.intake_officer")
    before = _count(Referral)
    response = client.post("/referrals/new", data=_form(action="add_target"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="targets-2-kind"' in html and "daishua-ui.example.cn" in html
    assert _count(Referral) == before


def test_submitting_needs_a_target(login_as):
    client = login_as("edu-44.intake_officer")
    data = {k: v for k, v in _form(action="submit").items() if not k.startswith("targets-")}
    _assert_refused(client, data, "targets")


def test_submit_moves_the_referral_on(login_as):
    client = login_as("edu-44.intake_officer")
    response = client.post("/referrals/new", data=_form(action="submit"))
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    referral = db.session.scalar(select(Referral).order_by(Referral.id.desc()).limit(1))
    assert referral.state == "submitted"


def test_editing_a_draft_replaces_its_targets(login_as):
    client = login_as("edu-44.intake_officer")
    client.post("/referrals/new", data=_form())
    referral = db.session.scalar(select(Referral).order_by(Referral.id.desc()).limit(1))
    edit = client.get(f"/referrals/{referral.id}/edit")
    assert "com.miaoshua.ui" in edit.get_data(as_text=True)
    data = {k: v for k, v in _form(title="改过的标题").items() if not k.startswith("targets-1")}
    data["version"] = str(referral.version)
    data["shown_targets"] = re.findall(r'name="shown_targets" value="(\d+)"', edit.get_data(as_text=True))
    assert len(data["shown_targets"]) == 2
    response = client.post(f"/referrals/{referral.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert referral.title == "改过的标题"
    assert [t.kind for t in referral.targets] == ["website"]


def test_editing_with_a_stale_version_is_a_conflict(login_as):
    client = login_as("edu-44.intake_officer")
    client.post("/referrals/new", data=_form())
    referral = db.session.scalar(select(Referral).order_by(Referral.id.desc()).limit(1))
    response = client.post(f"/referrals/{referral.id}/edit", data=_form(version=str(referral.version - 1 or 99)))
    assert response.status_code == 409
    assert "已被他人修改" in response.get_data(as_text=True)


def test_a_target_already_known_is_hinted_at_intake(login_as, user):
    from tests.factories import make_referral

    earlier = make_referral(user("edu-44.intake_officer"), targets=[
        {"kind": "website", "name": "老网站", "url": "https://www.daishua-ui.example.cn/"}])
    db.session.commit()
    client = login_as("edu-44.intake_officer")
    html = client.post("/referrals/new", data=_form(action="add_target")).get_data(as_text=True)
    assert "已有记录" in html and earlier.number in html
    fragment = client.get("/referrals/known-target?kind=website&url=https://www.daishua-ui.example.cn/")
    assert earlier.number in fragment.get_data(as_text=True)
    unknown = client.get("/referrals/known-target?kind=website&url=https://never-seen.example.cn/")
    assert "已有记录" not in unknown.get_data(as_text=True)


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6364f8cf500f0002870180eb47ba92"
                    "0000000049454e44ae426082")


def test_evidence_files_are_attached_with_the_draft(login_as):
    from casework.evidence.models import Evidence

    client = login_as("edu-44.intake_officer")
    before = _count(Evidence)
    response = client.post("/referrals/new", data=_form(
        evidence=(io.BytesIO(PNG), "截图.png"), evidence_description="应用页面截图"),
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert _count(Evidence) == before + 1
    assert "截图.png" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_file_whose_content_does_not_match_saves_nothing(login_as):
    from casework.evidence.models import Evidence

    client = login_as("edu-44.intake_officer")
    counts = (_count(Referral), _count(Evidence))
    response = client.post("/referrals/new", data=_form(evidence=(io.BytesIO(b"MZ not a picture"), "x.png")),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert 'id="err-evidence"' in response.get_data(as_text=True)
    assert (_count(Referral), _count(Evidence)) == counts


def test_a_form_that_comes_back_names_the_files_to_choose_again(login_as):
    client = login_as("edu-44.intake_officer")
    chosen = {"evidence": [(io.BytesIO(b"%PDF-1.4\nshot"), "截图一.pdf"), (io.BytesIO(b"%PDF-1.4\nx"), "b.pdf")]}
    html = _assert_refused(client, _form(title=""), "title", files=chosen, kept=("daishua-ui.example.cn",))
    notice = html[html.index('id="unsaved-files"'):]
    assert "截图一.pdf、b.pdf" in notice[:notice.index("</p>")]
    plain = client.post("/referrals/new", data=_form(title="")).get_data(as_text=True)
    assert 'id="unsaved-files"' not in plain


def _hidden(page: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', page)


def test_saving_a_draft_with_many_targets_unchanged_keeps_every_target(login_as):
    from casework.referrals.forms import MAX_TARGET_ROWS, referral_form_values
    from casework.referrals.services import add_target
    from tests.factories import find_user

    client = login_as("edu-44.intake_officer")
    client.post("/referrals/new", data=_form())
    referral = db.session.scalar(select(Referral).order_by(Referral.id.desc()).limit(1))
    for n in range(MAX_TARGET_ROWS + 20):
        add_target(referral, {"kind": "app", "name": f"刷课{n}", "package_name": f"com.keep.app{n}"},
                   find_user("edu-44.intake_officer"))
    db.session.commit()
    total = len(referral.target_links)
    for targets_from in (0, MAX_TARGET_ROWS):
        db.session.expire_all()
        referral = db.session.get(Referral, referral.id)
        page = client.get(f"/referrals/{referral.id}/edit?targets_from={targets_from}").get_data(as_text=True)
        shown = _hidden(page, "shown_targets")
        assert len(shown) == min(MAX_TARGET_ROWS, total - targets_from)
        assert f"targets_from={MAX_TARGET_ROWS if targets_from == 0 else 0}" in page
        values = referral_form_values(referral, targets_from)
        assert [str(i) for i in values["shown_target_ids"]] == shown
        form = {f"targets-{i}-{name}": value for i, row in enumerate(values["targets"]) for name, value in row.items()}
        form |= {"title": referral.title, "source": referral.source, "summary": referral.summary or "",
                 "region_code": referral.region_code or "", "version": str(referral.version), "action": "save",
                 "shown_targets": shown, "targets_from": _hidden(page, "targets_from")[0],
                 "targets_total": _hidden(page, "targets_total")[0]}
        response = client.post(f"/referrals/{referral.id}/edit", data=form)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        db.session.expire_all()
        assert len(db.session.get(Referral, referral.id).target_links) == total
    removed = {k: v for k, v in form.items() if not k.startswith("targets-0-")}
    removed["version"] = str(db.session.get(Referral, referral.id).version)
    assert client.post(f"/referrals/{referral.id}/edit", data=removed).status_code == 302
    db.session.expire_all()
    assert len(db.session.get(Referral, referral.id).target_links) == total - 1
