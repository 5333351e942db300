"""The HTTP(S) reachability checker and ``casework check-targets``, against local servers on 127.0.0.1 only."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.targets.checkers import CHECKERS, CheckOptions, http_check, register_checker
from casework.targets.models import TargetStatusCheck
from tests.factories import make_referral
from tests.test_cli import run_cli

LOCAL = CheckOptions(timeout=0.5, deadline=2.0, allow_private=True)


class Handler(BaseHTTPRequestHandler):
    routes: dict = {}
    hits: list = []

    def do_GET(self):  # noqa: N802 (http.server API)
        self.hits.append(self.path)
        status, headers, delay = self.routes.get(self.path, (200, {}, 0))
        time.sleep(delay)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def serve(routes: dict):
    handler = type("LocalHandler", (Handler,), {"routes": routes, "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server, handler


@pytest.fixture
def servers():
    other, other_handler = serve({})
    other_port = other.server_address[1]
    main, main_handler = serve({
        "/gone": (404, {}, 0),
        "/removed": (410, {}, 0),
        "/broken": (503, {}, 0),
        "/slow": (200, {}, 2.0),
        "/to-home": (302, {"Location": "/"}, 0),
        "/loop": (302, {"Location": "/loop"}, 0),
        "/off-host": (301, {"Location": f"http://localhost:{other_port}/landing"}, 0),
        "/to-ftp": (302, {"Location": "ftp://127.0.0.1/x"}, 0),
    })
    base = f"http://127.0.0.1:{main.server_address[1]}"
    yield base, main_handler, other_handler
    for server in (main, other):
        server.shutdown()
        server.server_close()


def check(url: str, options: CheckOptions = LOCAL) -> dict:
    return http_check({"url": url}, options)


def test_up(servers):
    base, handler, _ = servers
    result = check(base + "/")
    assert (result["status"], result["http_status"], result["redirects"]) == ("online", 200, [])
    assert handler.hits == ["/"]


@pytest.mark.parametrize("path,status", [("/gone", "offline"), ("/removed", "offline"), ("/broken", "unknown")])
def test_http_status_decides(servers, path, status):
    assert check(servers[0] + path)["status"] == status


def test_down_is_offline():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = check(f"http://127.0.0.1:{port}/")
    assert result["status"] == "offline" and "refused" in result["detail"]


@pytest.mark.parametrize("errno,status", [(socket.EAI_NONAME, "offline"), (socket.EAI_AGAIN, "unknown")])
def test_a_name_that_does_not_resolve_is_offline_but_a_resolver_failure_is_not(monkeypatch, errno, status):
    def fail(*args, **kwargs):
        raise socket.gaierror(errno, "resolver says no")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert check("http://gone.example.cn/", CheckOptions(timeout=0.5))["status"] == status


def test_slow_times_out_within_the_bound(servers):
    started = time.monotonic()
    result = check(servers[0] + "/slow")
    assert time.monotonic() - started < 1.5
    assert result["status"] == "unknown" and "0.5" in result["detail"]


def test_a_server_dripping_bytes_is_cut_off_at_the_deadline():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def drip():
        conn, _ = listener.accept()
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not stop.is_set():
            try:
                conn.sendall(b"a")
            except OSError:
                break
            time.sleep(0.1)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    try:
        started = time.monotonic()
        result = check(f"http://127.0.0.1:{listener.getsockname()[1]}/",
                       CheckOptions(timeout=0.5, deadline=1.0, allow_private=True))
        assert time.monotonic() - started < 1.5
        assert result["status"] == "unknown" and "1 s" in result["detail"]
    finally:
        stop.set()
        listener.close()


def test_on_host_redirect_is_followed_and_recorded(servers):
    base, handler, _ = servers
    result = check(base + "/to-home")
    assert result["status"] == "online" and result["final_url"] == base + "/"
    assert result["redirects"] == [{"status": 302, "from": base + "/to-home", "to": base + "/", "followed": True}]
    assert handler.hits == ["/to-home", "/"]


def test_off_host_redirect_is_recorded_and_not_followed(servers):
    base, _, other = servers
    result = check(base + "/off-host")
    assert result["status"] == "unknown"
    [redirect] = result["redirects"]
    assert redirect["status"] == 301 and redirect["followed"] is False and "localhost" in redirect["to"]
    assert other.hits == []


def test_redirect_to_another_scheme_is_not_followed(servers):
    result = check(servers[0] + "/to-ftp")
    assert result["redirects"][0]["followed"] is False and result["status"] == "unknown"


def test_redirect_loops_stop(servers):
    result = check(servers[0] + "/loop", CheckOptions(timeout=0.5, max_redirects=3, allow_private=True))
    assert result["status"] == "unknown" and len(result["redirects"]) == 4


def test_private_addresses_are_not_checked_unless_allowed(servers):
    base, handler, _ = servers
    result = check(base + "/", CheckOptions(timeout=0.5))
    assert result["status"] == "unknown" and "private" in result["detail"]
    assert handler.hits == []


def test_checkers_are_pluggable():
    @register_checker("app")
    def store_check(target, options):
        return {"status": "offline", "method": "http", "detail": "removed from store"}

    try:
        assert CHECKERS["app"]({"url": None}, LOCAL)["status"] == "offline"
    finally:
        del CHECKERS["app"]


def test_check_targets_command_records_history_and_is_idempotent(app, servers, user, monkeypatch):
    base, handler, _ = servers
    monkeypatch.setitem(app.config, "TARGET_CHECK_ALLOW_PRIVATE", True)
    referral = make_referral(user("edu-44.intake_officer"), targets=[
        {"kind": "website", "name": "up", "url": base + "/"},
        {"kind": "website", "name": "gone", "url": base + "/gone"},
        {"kind": "website", "name": "slow", "url": base + "/slow"},
    ])
    args = ("check-targets", "--referral", str(referral.id), "--timeout", "0.5", "--concurrency", "3")
    result = run_cli(app, *args)
    assert result.exit_code == 0, result.output
    assert "checked 3 targets: 1 offline, 1 online, 1 unknown" in result.output
    statuses = {t.name: t.status for t in referral.targets}
    assert statuses == {"up": "online", "gone": "offline", "slow": "unknown"}
    again = run_cli(app, *args)
    assert "checked 0 targets" in again.output
    ids = [t.id for t in referral.targets]
    assert len(db.session.scalars(select(TargetStatusCheck).where(TargetStatusCheck.target_id.in_(ids))).all()) == 3
    assert run_cli(app, "check-targets", "--concurrency", "0").exit_code != 0


def test_a_target_checked_meanwhile_is_skipped(servers, user, monkeypatch):
    from datetime import timedelta

    from casework.targets import cli as targets_cli
    from casework.targets.status import record_status_check

    referral = make_referral(user("edu-44.intake_officer"), targets=[
        {"kind": "website", "name": "raced", "url": servers[0] + "/"}])
    target = referral.targets[0]
    due_before = targets_cli.due_targets(timedelta(minutes=60), referral.id)
    assert due_before == [target]
    monkeypatch.setattr(targets_cli, "due_targets", lambda *args: due_before)
    record_status_check(target, {"status": "offline", "method": "manual", "detail": "by hand"},
                        user("psb-44.case_officer"))
    counts = targets_cli.check_targets(LOCAL, timedelta(minutes=60), 2, referral.id)
    assert counts == {"skipped": 1}
    assert target.status == "offline" and len(target.checks) == 1
