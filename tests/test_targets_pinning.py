"""The checker resolves once, refuses private addresses in every IPv6 disguise, connects to the
address it checked (DNS rebinding gets nowhere) and verifies TLS certificates.

The checker refuses 127.0.0.1 itself, so the local servers are reached through an injected
resolver with ``allow_private`` (the operator's switch), and the refusals are tested with the
default options."""
from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from casework.targets.checkers import CheckOptions, address_refusal, http_check


class HostRecorder(BaseHTTPRequestHandler):
    hosts: list = []

    def do_GET(self):  # noqa: N802 (http.server API)
        self.hosts.append(self.headers.get("Host"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def serve(context: ssl.SSLContext | None = None):
    handler = type("Recorder", (HostRecorder,), {"hosts": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server, handler


class SwitchingResolver:
    """Answers 127.0.0.1 the first time and another address afterwards, like a rebinding DNS."""

    def __init__(self, first: str = "127.0.0.1", later: str = "192.0.2.10"):
        self.first, self.later, self.calls = first, later, []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return [self.first if len(self.calls) == 1 else self.later]


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::808:808", "64:ff9b:1::1",
    "2002:7f00:1::1", "2002:a00:1::1", "::7f00:1", "fe80::1%eth0", "fc00::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "224.0.0.1", "ff02::1",
])
def test_private_and_disguised_addresses_are_refused(address):
    assert address_refusal(address) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "203.119.26.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_refusal(address) is None


def test_a_name_resolving_to_loopback_is_refused_and_never_contacted():
    server, handler = serve()
    port = server.server_address[1]
    result = http_check({"url": f"http://rebind.example.cn:{port}/"},
                        CheckOptions(timeout=0.5, resolver=lambda host, p: ["127.0.0.1"]))
    server.shutdown()
    assert result["status"] == "unknown" and "private" in result["detail"]
    assert handler.hosts == []


def test_one_private_answer_among_public_ones_is_enough_to_refuse():
    result = http_check({"url": "http://mixed.example.cn/"},
                        CheckOptions(timeout=0.5, resolver=lambda host, p: ["8.8.8.8", "64:ff9b::7f00:1"]))
    assert result["status"] == "unknown" and "NAT64" in result["detail"]


def test_the_connection_goes_to_the_address_that_was_checked():
    server, handler = serve()
    port = server.server_address[1]
    resolver = SwitchingResolver()
    result = http_check({"url": f"http://rebind.example.cn:{port}/"},
                        CheckOptions(timeout=0.5, deadline=2.0, allow_private=True, resolver=resolver))
    server.shutdown()
    assert result["status"] == "online" and result["http_status"] == 200
    assert resolver.calls == ["rebind.example.cn"]  # resolved once; the rebinding answer is never asked for
    assert handler.hosts == [f"rebind.example.cn:{port}"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    assert shutil.which("openssl"), "openssl makes the test certificate (scripts/setup installs it)"
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=checker.test",
                    "-addext", "subjectAltName=DNS:checker.test"], check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture
def tls_server(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server, handler = serve(context)
    yield server.server_address[1], handler
    server.shutdown()


def _local(**extra) -> CheckOptions:
    return CheckOptions(timeout=1.0, deadline=3.0, allow_private=True,
                        resolver=lambda host, port: ["127.0.0.1"], **extra)


def test_an_untrusted_certificate_is_recorded_as_a_certificate_failure(tls_server):
    port, handler = tls_server
    result = http_check({"url": f"https://checker.test:{port}/"}, _local())
    assert result["status"] == "unknown" and result["certificate_error"] is True
    assert result["detail"].startswith("TLS certificate not valid")
    assert handler.hosts == []


def test_a_trusted_certificate_is_checked_against_the_host_name_over_the_pinned_address(tls_server, certificate):
    port, handler = tls_server
    result = http_check({"url": f"https://checker.test:{port}/"}, _local(ca_file=certificate[0]))
    assert result["status"] == "online" and handler.hosts == [f"checker.test:{port}"]
    wrong_name = http_check({"url": f"https://other.test:{port}/"}, _local(ca_file=certificate[0]))
    assert wrong_name["certificate_error"] is True and "hostname" in wrong_name["detail"].lower()
