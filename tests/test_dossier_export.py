"""Dossier exports: cached by what they show (a repeat builds nothing), refused past their time budget."""
from __future__ import annotations

import os

import pytest

from casework.extensions import db
from casework.notices import dossier
from casework.notices.services import issue_notice
from tests.factories import assignment_row, find_user, referral_row


@pytest.fixture
def referral_with_notices(db_session):
    referral = referral_row("edu-44")
    letter = issue_notice("referral_letter", assignment_row(referral, "cac-44"), find_user("edu-44.assessor"))
    letter.assignment.state = "received"
    issue_notice("receipt", letter.assignment, find_user("cac-44.case_officer"))
    db.session.commit()
    return referral


@pytest.fixture
def cache_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DOSSIER_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_repeat_export_comes_from_the_cache(referral_with_notices, login_as, cache_dir, monkeypatch):
    client = login_as("edu-44.intake_officer")
    url = f"/referrals/{referral_with_notices.id}/dossier.pdf"
    first = client.get(url)
    assert first.status_code == 200 and len(list(cache_dir.iterdir())) == 1

    def must_not_build(*_args, **_kwargs):
        raise AssertionError("a cached dossier was built again")

    monkeypatch.setattr(dossier, "build_dossier", must_not_build)
    again = client.get(url)
    assert again.status_code == 200 and again.data == first.data


def test_the_cache_key_follows_the_visible_notices_and_the_referral(referral_with_notices, login_as, cache_dir):
    referral = referral_with_notices
    assert login_as("edu-44.intake_officer").get(f"/referrals/{referral.id}/dossier.zip").status_code == 200
    # the cyberspace office sees the same two notices: the same export
    assert login_as("cac-44.case_officer").get(f"/referrals/{referral.id}/dossier.zip").status_code == 200
    assert len(list(cache_dir.iterdir())) == 1
    # the police, on the referral now, may read neither notice: an export of their own
    assignment_row(referral, "psb-44")
    db.session.commit()
    assert login_as("psb-44.case_officer").get(f"/referrals/{referral.id}/dossier.zip").status_code == 200
    assert len(list(cache_dir.iterdir())) == 2
    referral.title = "标题已更正的线索"
    db.session.commit()  # a new version of the referral
    assert login_as("edu-44.intake_officer").get(f"/referrals/{referral.id}/dossier.zip").status_code == 200
    assert len(list(cache_dir.iterdir())) == 3


def test_an_export_past_its_time_budget_is_refused_clearly(referral_with_notices, login_as, cache_dir, app,
                                                            monkeypatch):
    monkeypatch.setitem(app.config, "DOSSIER_TIME_BUDGET_SECONDS", 0)
    answer = login_as("edu-44.intake_officer").get(f"/referrals/{referral_with_notices.id}/dossier.pdf")
    assert answer.status_code == 503 and answer.headers["Retry-After"].isdigit()
    assert "0 秒内" in answer.get_data(as_text=True) or "within 0 seconds" in answer.get_data(as_text=True)
    assert not cache_dir.exists() or not list(cache_dir.iterdir())


def test_the_cache_is_trimmed_to_its_size_least_recently_used_first(tmp_path):
    for age, name in enumerate(["newest", "middle", "oldest"]):
        path = tmp_path / name
        path.write_bytes(b"x" * 100)
        os.utime(path, (1_000_000 - age, 1_000_000 - age))
    dossier.trim_cache(tmp_path, 250)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["middle", "newest"]
