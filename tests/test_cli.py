"""The casework command: create-user, demo, audit verify, and clear one-line failures."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from casework.accounts.models import User
from casework.console import main
from casework.extensions import db

STRONG = "Str0ng-password"


def run_cli(app, *args, input=None):
    runner = app.test_cli_runner()
    return runner.invoke(args=list(args), input=input)


def test_create_user_asks_twice_and_creates(app, db_session):
    result = run_cli(app, "create-user", "--username", "first-admin", "--agency", "moe",
                     "--role", "system_admin", input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.username == "first-admin")).roles == {"system_admin"}


def test_create_user_rejects_mismatched_repeat(app, db_session):
    result = run_cli(app, "create-user", "--username", "x-admin", "--agency", "moe",
                     "--role", "system_admin", input=f"{STRONG}\nother-Passw0rd\n{STRONG}\n{STRONG}\n")
    assert "match" in result.output.lower()


@pytest.mark.parametrize("password,problem", [
    ("Sh0rt!", "at least 10"),
    ("alllowercaseletters", "3 of"),
    ("lowercase123456", "3 of"),
])
def test_create_user_enforces_password_policy(app, db_session, password, problem):
    result = run_cli(app, "create-user", "--username", "weak-admin", "--agency", "moe",
                     "--role", "system_admin", input=f"{password}\n{password}\n")
    assert result.exit_code != 0 and problem in result.output


def test_create_user_refuses_existing_name(app, db_session):
    result = run_cli(app, "create-user", "--username", "moe.assessor", "--agency", "moe",
                     "--role", "assessor", input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code != 0 and "already exists" in result.output


def test_create_user_refuses_combined_admin_roles(app, db_session):
    result = run_cli(app, "create-user", "--username", "super", "--agency", "moe",
                     "--role", "system_admin", "--role", "audit_admin", input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code != 0 and "separation of duties" in result.output


def test_audit_verify_passes_on_intact_chain(app, db_session):
    result = run_cli(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def _cli(env_url: str, *args: str, checkpoints=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CASEWORK_DATABASE_URL": env_url, "CASEWORK_SECRET_KEY": "cli-test",
           "CASEWORK_AUDIT_KEY": "cli-1:" + "c1" * 32}
    if checkpoints is not None:
        env["CASEWORK_AUDIT_CHECKPOINT_DIR"] = str(checkpoints)
    return subprocess.run([sys.executable, "-c", "from casework.console import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=300)


def test_unreachable_database_is_one_clear_line():
    result = _cli("postgresql+psycopg://nobody:secret@127.0.0.1:9/none", "audit", "verify")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("casework: cannot reach the database")
    assert "secret" not in result.stderr


def test_demo_fills_an_empty_database_and_refuses_a_full_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    first = _cli(url, "demo", "--password", STRONG, "--referrals", "3", checkpoints=tmp_path / "first")
    assert first.returncode == 0, first.stderr
    assert "edu-44-intake" in first.stdout and STRONG in first.stdout
    second = _cli(url, "demo", checkpoints=tmp_path / "first")
    assert second.returncode != 0 and "--reset" in second.stderr
    third = _cli(url, "demo", "--reset", "--password", STRONG, "--referrals", "2", checkpoints=tmp_path / "second")
    assert third.returncode == 0, third.stderr
    verify = _cli(url, "audit", "verify", checkpoints=tmp_path / "second")
    assert verify.returncode == 0, verify.stderr
    wiped = _cli(url, "audit", "verify", checkpoints=tmp_path / "first")
    assert wiped.returncode != 0 and "audit chain broken" in wiped.stderr


def test_entry_point_is_installed():
    assert callable(main)


def test_gunicorn_stops_with_one_line_when_the_database_is_unreachable():
    env = {**os.environ, "CASEWORK_DATABASE_URL": "postgresql+psycopg://nobody:secret@127.0.0.1:9/none",
           "CASEWORK_SECRET_KEY": "cli-test", "CASEWORK_PUBLIC_URL": "https://casework.example.gov.cn"}
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "casework.wsgi:app"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    ours = [line for line in result.stderr.splitlines() if line.startswith("casework:")]
    assert len(ours) == 1 and "cannot reach the database" in ours[0] and "secret" not in ours[0]


@pytest.mark.parametrize("public_url, says", [
    (None, "is not set"), ("http://casework.example.gov.cn", "must be an https address"),
    ("https://127.0.0.1:8443", "loopback"), ("https://localhost", "loopback"), ("https://[::1]/", "loopback"),
])
def test_gunicorn_refuses_a_wrong_public_url_with_one_line(tmp_path, public_url, says):
    env = {key: value for key, value in os.environ.items() if key != "CASEWORK_PUBLIC_URL"}
    env.update({"CASEWORK_DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite'}", "CASEWORK_SECRET_KEY": "cli-test"})
    if public_url is not None:
        env["CASEWORK_PUBLIC_URL"] = public_url
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--timeout", "20",
                             "casework.wsgi:app"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    ours = [line for line in result.stderr.splitlines() if line.startswith("casework:")]
    assert len(ours) == 1 and "CASEWORK_PUBLIC_URL" in ours[0] and says in ours[0]
    assert "Traceback" not in result.stderr


def test_a_public_https_address_passes_the_check():
    from casework.config import public_url_problem

    assert public_url_problem("https://casework.example.gov.cn") is None
    assert public_url_problem("https://10.0.0.5/casework") is None
def test_an_unusable_audit_key_is_one_clear_line(tmp_path):
    env = {**os.environ, "CASEWORK_DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite'}",
           "CASEWORK_SECRET_KEY": "cli-test", "CASEWORK_AUDIT_KEY": "no-secret-here"}
    result = subprocess.run([sys.executable, "-c", "from casework.console import main; main()", "audit", "verify"],
                            env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1 and "key_id:secret" in lines[0]
