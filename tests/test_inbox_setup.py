"""The inbox's session hooks switch on with ``init_inbox(app)`` (called by ``create_app``), not when a
module is imported; installing them twice does not count a change twice."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from casework import create_app
from casework.db_session import _HOOKS
from casework.inbox import counts, tokens

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
from sqlalchemy import event
from sqlalchemy.orm import Session
import casework.models
from casework.inbox import counts, tokens
print(event.contains(Session, "after_flush", counts._collect), event.contains(Session, "after_flush", tokens._collect))
from casework import create_app
from casework.db_session import _HOOKS
from casework.inbox import counts, tokens
create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "probe"})
print(event.contains(Session, "after_flush", counts._collect), event.contains(Session, "after_flush", tokens._collect))
"""


def test_importing_the_models_installs_no_hook_and_create_app_does():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["False False", "True True"]


def test_a_second_app_does_not_install_the_hooks_again(app):
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "second"})
    assert _HOOKS.count(counts._write) == 1 and _HOOKS.count(tokens._renew) == 1
