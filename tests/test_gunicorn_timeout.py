"""gunicorn.conf.py's timeout really stops a stuck request (sync workers; answered 503 with Retry-After)
and replaces the worker; gthread's would not stop it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(*extra: str):
    port = free_port()
    env = {**os.environ, "CASEWORK_BIND": f"127.0.0.1:{port}", "CASEWORK_WORKERS": "1",
           "CASEWORK_REQUEST_TIMEOUT": str(TIMEOUT), "CASEWORK_ACCESS_LOG": "/dev/null"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), *extra,
                               "tests.wsgi_stuck:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(base + "/")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGINT)  # quick shutdown
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a gthread worker still in its stuck request
            os.killpg(server.pid, signal.SIGKILL)  # the master and its workers: their own process group
            server.wait(timeout=60)


def get(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return answer.read().decode()


def test_a_stuck_request_is_stopped_and_its_worker_replaced():
    with gunicorn() as base:
        first_worker = get(base + "/")
        started = time.monotonic()
        with pytest.raises(urllib.error.HTTPError) as stopped:
            get(base + "/stuck", timeout=60)
        assert stopped.value.code == 503 and stopped.value.headers["Retry-After"].isdigit()
        assert "nothing was saved" in stopped.value.read().decode()
        assert time.monotonic() - started < 10 * TIMEOUT
        assert get(base + "/") != first_worker


def test_a_gthread_worker_would_keep_the_stuck_request():
    with gunicorn("--worker-class", "gthread", "--threads", "2") as base:
        with pytest.raises(TimeoutError):
            get(base + "/stuck", timeout=4 * TIMEOUT)
