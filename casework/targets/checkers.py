"""Pluggable takedown checkers: each answers online / offline / unknown for one target.

A checker is a function ``(target_snapshot: dict, options: CheckOptions) -> dict`` taking plain
data (no database access, so checks can run in threads) and returning a result for
``casework.targets.status.record_status_check``. Register one per target kind with
``@register_checker(kind)``. The HTTP(S) checker follows redirects only within the same site
(same registrable domain, or the same IP host), records every redirect, and never waits
longer than its timeouts. It resolves each host once, refuses private and reserved addresses
(also when hidden in IPv6 forms: IPv4-mapped, NAT64, 6to4, Teredo), connects to exactly the
address it checked, and verifies TLS certificates; a certificate failure is recorded as such.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin, urlsplit

from casework.targets.normalize import normalize_host

CHECKERS: dict[str, Callable[[dict, "CheckOptions"], dict]] = {}
REDIRECT_CODES = {301, 302, 303, 307, 308}
OFFLINE_CODES = {404, 410, 451}
USER_AGENT = "Casework-takedown-check/1.0"
NAME_GONE = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


@dataclass(frozen=True)
class CheckOptions:
    timeout: float = 5.0
    deadline: float = 15.0
    max_redirects: int = 5
    allow_private: bool = False
    # ``(host, port) -> [address, ...]``; the system's resolver when None.
    resolver: Callable[[str, int], list[str]] | None = None
    # An extra trusted CA certificate (PEM), for a private PKI.
    ca_file: str | None = None


def register_checker(kind: str):
    def decorate(func):
        CHECKERS[kind] = func
        return func
    return decorate


def checker_for(kind: str):
    return CHECKERS.get(kind)


def target_snapshot(target) -> dict:
    return {"id": target.id, "kind": target.kind, "key": target.key, "url": target.url}


def _site(url: str) -> str:
    host = urlsplit(url).hostname or ""
    try:
        info = normalize_host(host)
    except ValueError:
        return host.lower()
    return info["registrable_domain"] or info["domain"]


def same_site(a: str, b: str) -> bool:
    return _site(a) == _site(b)


NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def address_refusal(address: str) -> str | None:
    """Why the checker must not connect to ``address``, or None for a public address.

    IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are refused
    outright or judged by the address they carry, so loopback and private hosts cannot hide in them.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return address_refusal(str(ip.ipv4_mapped))
        if any(ip in prefix for prefix in NAT64_PREFIXES):
            return "a NAT64 address (64:ff9b::/96); not checked"
        if ip in SIX_TO_FOUR:
            return "a 6to4 address (2002::/16); not checked"
        if ip in IPV4_COMPATIBLE:
            return "an IPv4-compatible IPv6 address; not checked"
        if ip.teredo is not None:
            return "a Teredo address; not checked"
    if not ip.is_global or ip.is_multicast:
        return "the address is private or reserved; not checked"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


def pinned_address(host: str, port: int, options: CheckOptions) -> str:
    """Resolve ``host`` once and return the address to connect to; every address it resolves to
    must be public (unless ``allow_private``). The connection then goes to this address, so a
    second, different DNS answer (rebinding) is never used."""
    addresses = (options.resolver or system_resolver)(host, port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    if not options.allow_private:
        for address in addresses:
            if refusal := address_refusal(address):
                raise PermissionError(refusal)
    return addresses[0]


class PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a fixed address; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address; SNI and the certificate check use the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def tls_context(options: CheckOptions) -> ssl.SSLContext:
    """Certificates verified against the system's trust store (and ``ca_file`` when given)."""
    context = ssl.create_default_context()
    if options.ca_file:
        context.load_verify_locations(options.ca_file)
    return context


def _result(status: str, detail: str, **extra) -> dict:
    return {"status": status, "method": "http", "detail": detail, **extra}


def _request(url: str, timeout: float, remaining: float, options: CheckOptions) -> int | tuple[int, str]:
    """One GET: status (and Location of a redirect). Each socket wait is bounded by ``timeout``;
    the whole exchange by ``remaining`` (a server dripping bytes slowly is cut off)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = pinned_address(parts.hostname, port, options)
    if parts.scheme == "https":
        conn = PinnedHTTPSConnection(parts.hostname, port, address, timeout, tls_context(options))
    else:
        conn = PinnedHTTPConnection(parts.hostname, port, address, timeout)
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        if conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(remaining, cut_off)
    watchdog.start()
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"})
        response = conn.getresponse()
        if expired.is_set():
            raise DeadlinePassed()
        location = response.getheader("Location")
        return (response.status, location) if response.status in REDIRECT_CODES and location else response.status
    except (OSError, http.client.HTTPException):
        if expired.is_set():
            raise DeadlinePassed() from None
        raise
    finally:
        watchdog.cancel()
        conn.close()


class DeadlinePassed(Exception):
    pass


@register_checker("website")
def http_check(target: dict, options: CheckOptions = CheckOptions()) -> dict:
    """Reachability of a website over HTTP(S)."""
    url = target.get("url")
    if not url:
        return _result("unknown", "no URL to check")
    started = time.monotonic()
    redirects: list[dict] = []
    current = url
    for _hop in range(options.max_redirects + 1):
        remaining = options.deadline - (time.monotonic() - started)
        if remaining <= 0:
            return _result("unknown", "overall deadline passed", redirects=redirects, final_url=current)
        try:
            answer = _request(current, min(options.timeout, remaining), remaining, options)
        except DeadlinePassed:
            return _result("unknown", f"no complete answer within {options.deadline:g} s", redirects=redirects,
                           final_url=current)
        except PermissionError as exc:
            return _result("unknown", str(exc), redirects=redirects, final_url=current)
        except (socket.timeout, TimeoutError):
            return _result("unknown", f"no answer within {options.timeout:g} s", redirects=redirects,
                           final_url=current)
        except socket.gaierror as exc:
            status = "offline" if exc.errno in NAME_GONE else "unknown"
            return _result(status, f"host name does not resolve: {exc}", redirects=redirects, final_url=current)
        except ConnectionRefusedError:
            return _result("offline", "connection refused", redirects=redirects, final_url=current)
        except ssl.SSLCertVerificationError as exc:
            return _result("unknown", f"TLS certificate not valid: {exc.verify_message or exc}",
                           certificate_error=True, redirects=redirects, final_url=current)
        except ssl.SSLError as exc:
            return _result("unknown", f"TLS error: {exc}", redirects=redirects, final_url=current)
        except (OSError, http.client.HTTPException) as exc:
            return _result("offline", f"no HTTP service: {type(exc).__name__}: {exc}", redirects=redirects,
                           final_url=current)
        if isinstance(answer, tuple):
            code, location = answer
            following = urljoin(current, location)
            on_site = urlsplit(following).scheme in ("http", "https") and same_site(current, following)
            redirects.append({"status": code, "from": current, "to": following, "followed": on_site})
            if not on_site:
                return _result("unknown", f"redirects off-site to {following}; not followed",
                               http_status=code, redirects=redirects, final_url=current)
            current = following
            continue
        status = "offline" if answer in OFFLINE_CODES else "online" if answer < 500 else "unknown"
        return _result(status, f"HTTP {answer}", http_status=answer, redirects=redirects, final_url=current)
    return _result("unknown", f"more than {options.max_redirects} redirects", redirects=redirects,
                   final_url=current)
