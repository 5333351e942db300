"""Inbox and search under load at 100,000 referrals, against a bare Flask endpoint of the same server.

    python bench/inbox_bench.py                      # SQLite in a temporary directory
    CASEWORK_BENCH_PG_URL=postgresql+psycopg://... python bench/inbox_bench.py   # also PostgreSQL

Seeds the demo agencies and users, bulk-inserts N referrals (with targets and assignments), serves
the app with gunicorn (gthread) on 127.0.0.1, logs in as real users and drives each endpoint with a
bounded local load generator (threads + http.client keep-alive, fixed request count and time limit).
Each endpoint is measured in blocks of 50 requests alternating with blocks on the bare endpoint, and
compared with those interleaved bare blocks. Prints requests/s, p50 and p95 per endpoint, the bare
endpoint's figures beside it, and the ratio.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "Bench-passw0rd-7q"
# Three years of work at about 110 referrals a working day: a referral is open for one to two
# months, so about one in sixteen is still open; open assignments are mostly with the agencies.
REFERRAL_STATES = [("closed", 86), ("not_referred", 5), ("withdrawn", 3), ("awaiting_feedback", 3.5), ("routed", 0.5),
                   ("draft", 0.5), ("submitted", 0.5), ("under_assessment", 0.4), ("assessed", 0.3), ("approved", 0.3)]
OPEN_ASSIGNMENT_STATES = [("sent", 8), ("received", 8), ("accepted", 10), ("investigating", 30),
                          ("disposition_proposed", 8), ("disposition_approved", 6), ("executed", 8),
                          ("feedback_sent", 10), ("declined", 4), ("returned", 4), ("reconsideration_requested", 2),
                          ("closed", 2)]
KIND_PREFIX = {"cyberspace": "cac", "telecom": "ca", "police": "psb", "market": "amr"}
NATIONAL = {"cyberspace": "cac", "telecom": "miit", "police": "mps", "market": "samr"}


def bench_app():
    """WSGI factory for gunicorn: the real app plus one bare endpoint, on the bench database."""
    from casework import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["CASEWORK_BENCH_DB"],
                      "SECRET_KEY": "bench-secret-key", "SESSION_COOKIE_SECURE": False,
                      "REMEMBER_COOKIE_SECURE": False})

    cache_mb = int(os.environ.get("CASEWORK_BENCH_SQLITE_CACHE_MB") or 0)
    if cache_mb and app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "connect")
        def bigger_cache(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
            cursor.execute(f"PRAGMA mmap_size={cache_mb * 4 * 1024 * 1024}")
            cursor.close()

    @app.get("/bench/bare")
    def bare():
        return "ok"

    return app


# --- seeding -----------------------------------------------------------------------------------

def seed(url: str, count: int, rng: random.Random) -> None:
    from sqlalchemy import insert, select, text

    from casework import create_app
    from casework.accounts.models import User
    from casework.agencies.models import Agency
    from casework.assignments.models import Assignment
    from casework.db_types import utcnow
    from casework.demo import build_demo, wipe_database
    from casework.extensions import db
    from casework.inbox.counts import recount_desks
    from casework.referrals.models import Referral
    from casework.targets.models import ReferralTarget, Target

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key"})
    with app.app_context():
        wipe_database()
        build_demo(app, password=PASSWORD, referral_count=0)
        agencies = {a.code: a for a in db.session.scalars(select(Agency))}
        users = {u.username: u.id for u in db.session.scalars(select(User))}
        origins = [("edu-44", 45), ("edu-11", 45), ("moe", 10)]
        now = utcnow()
        states, weights = zip(*REFERRAL_STATES)
        batch = 5000
        for start in range(0, count, batch):
            referrals, targets, links, assignments = [], [], [], []
            for n in range(start, min(start + batch, count)):
                origin = rng.choices([o for o, _ in origins], [w for _, w in origins])[0]
                state = rng.choices(states, weights)[0]
                created = now - timedelta(minutes=rng.randint(60, 2 * 365 * 24 * 60))
                final = state in ("closed", "not_referred", "withdrawn")
                due = None if final or state == "draft" else now + timedelta(hours=rng.randint(-240, 720))
                referrals.append(dict(
                    id=n + 1, number=f"XS{created.year}-B{n + 1:07d}", title=f"代刷网课线索 {n + 1}",
                    source="platform_report", summary="学生反映该服务代刷网课学时。",
                    region_code=agencies[origin].region_code or "110000", origin_agency_id=agencies[origin].id,
                    created_by_id=users[f"{origin}-intake"], state=state, due_at=due,
                    overdue=bool(due and due < now), created_at=created, updated_at=created, version=1))
                kind = ("website", "app", "shop")[n % 3]
                key = {"website": f"shuake-{n}.example.cn", "app": f"com.shuake{n}.app",
                       "shop": f"taobao:shop{n}"}[kind]
                targets.append(dict(id=n + 1, kind=kind, key=key, name=f"代刷对象{n}", status="unknown",
                                    url=f"https://{key}/" if kind == "website" else None,
                                    domain=key if kind == "website" else None,
                                    package_name=key if kind == "app" else None,
                                    platform="taobao" if kind == "shop" else None,
                                    account_id=f"shop{n}" if kind == "shop" else None,
                                    ip_addresses=[], created_at=created, version=1))
                links.append(dict(referral_id=n + 1, target_id=n + 1, note="", added_at=created))
                if state in ("routed", "awaiting_feedback", "closed"):
                    kinds = rng.sample(list(KIND_PREFIX), rng.randint(1, 3))
                    for agency_kind in kinds:
                        province = agencies[origin].region_code
                        code = (NATIONAL[agency_kind] if origin == "moe"
                                else f"{KIND_PREFIX[agency_kind]}-{province[:2]}")
                        a_state = "closed" if state == "closed" else rng.choices(
                            [s for s, _ in OPEN_ASSIGNMENT_STATES], [w for _, w in OPEN_ASSIGNMENT_STATES])[0]
                        a_due = None if a_state == "closed" else now + timedelta(hours=rng.randint(-240, 720))
                        assignments.append(dict(
                            referral_id=n + 1, agency_id=agencies[code].id, state=a_state, due_at=a_due,
                            overdue=bool(a_due and a_due < now), routed_at=created, updated_at=created,
                            routing_reason="", decision_reason="", version=1))
            db.session.execute(insert(Referral.__table__), referrals)
            db.session.execute(insert(Target.__table__), targets)
            db.session.execute(insert(ReferralTarget.__table__), links)
            if assignments:
                db.session.execute(insert(Assignment.__table__), assignments)
            db.session.commit()
        recount_desks()  # the bulk inserts bypassed the ORM that keeps the desk counters
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"SELECT setval('referrals_id_seq', {count})"))
            db.session.execute(text(f"SELECT setval('targets_id_seq', {count})"))
            db.session.commit()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


# --- serving and load ----------------------------------------------------------------------------

def free_port() -> int:
    """A free port in 20000-29999 (outside the ephemeral range other work on the machine draws from)."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(20000, 29999)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 20000-29999")


def serve(url: str, port: int, workers: int, threads: int, cache_mb: int = 0,
          desk_cache: bool = True) -> subprocess.Popen:
    env = {**os.environ, "CASEWORK_BENCH_DB": url, "PYTHONPATH": str(ROOT),
           "CASEWORK_BENCH_SQLITE_CACHE_MB": str(cache_mb)}
    if not desk_cache:
        env["CASEWORK_DESK_CACHE_SIZE"] = "0"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT / "bench"), "--worker-class", "gthread",
         "--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "inbox_bench:bench_app()"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/bare")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("the server did not start")


def login(port: int, username: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    body = urlencode({"username": username, "password": PASSWORD, "csrf_token": token.group(1) if token else ""})
    conn.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                        "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"login as {username} failed: {response.status}")
    return response.getheader("Set-Cookie").split(";")[0]


@dataclass
class Result:
    name: str
    done: int
    errors: int
    seconds: float
    latencies: list[float]
    bare: Result | None = None  # the bare endpoint, measured in blocks interleaved with this one

    @property
    def rps(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.rps / self.bare.rps if self.bare and self.bare.rps else 1.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    def add(self, other: Result) -> None:
        self.done += other.done
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies += other.latencies


def burst(port: int, name: str, path: str, cookie: str | None, total: int, concurrency: int) -> Result:
    """``total`` requests from ``concurrency`` keep-alive clients; the session cookie is kept
    current as a browser keeps it."""
    latencies: list[float] = []
    errors = [0]
    remaining = [total]
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": cookie} if cookie else {}
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            renewed = response.getheader("Set-Cookie")
            if cookie and renewed:
                headers = {"Cookie": renewed.split(";")[0]}
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
                    errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(name, len(latencies), errors[0], time.perf_counter() - started, latencies)


def drive(port: int, name: str, path: str, cookie: str | None, total: int, concurrency: int,
          time_limit: float, block: int = 50) -> Result:
    """Measure ``path`` in blocks of ``block`` requests, each followed by a block on the bare
    endpoint, so that both see the same machine (its speed drifts while other work runs)."""
    burst(port, name, path, cookie, 20, 1)  # warm-up
    result = Result(name, 0, 0, 0.0, [], bare=Result("bare endpoint", 0, 0, 0.0, []))
    stop_at = time.monotonic() + time_limit
    while result.done < total and time.monotonic() < stop_at:
        result.add(burst(port, name, path, cookie, min(block, total - result.done), concurrency))
        result.bare.add(burst(port, "bare endpoint", "/bench/bare", None, block, concurrency))
    return result


def run(label: str, url: str, args) -> list[tuple[str, list[Result]]]:
    print(f"\n== {label}: seeding {args.referrals:,} referrals …", flush=True)
    started = time.perf_counter()
    seed(url, args.referrals, random.Random(2026))
    print(f"   seeded in {time.perf_counter() - started:.1f} s", flush=True)
    # The desk cache serves repeated requests for an unchanged desk; without it every request counts
    # and renders (what the first request after each change, or each minute, costs).
    variants = [("as configured (desk cache on)", 0, True)]
    if not args.only_configured:
        variants.append(("desk cache off: every request renders", 0, False))
    if url.startswith("sqlite") and args.sqlite_cache_mb:
        variants.append((f"SQLite page cache {args.sqlite_cache_mb} MB + mmap", args.sqlite_cache_mb, True))
    runs = []
    for variant, cache_mb, desk_cache in variants:
        port = free_port()
        server = serve(url, port, args.workers, args.threads, cache_mb, desk_cache)
        try:
            education = login(port, "edu-44-assessor")
            police = login(port, "psb-44-officer")
            ministry = login(port, "moe-assessor")
            plan = [
                ("inbox edu-44 (default tab)", "/", education),
                ("inbox edu-44 all", "/?tab=all", education),
                ("inbox psb-44 (default tab)", "/", police),
                ("inbox psb-44 all", "/?tab=all", police),
                ("inbox moe overdue", "/?tab=overdue", ministry),
                ("search target edu-44", "/search?target=shuake-4242", education),
                ("search state+overdue moe", "/search?state=investigating&overdue=1", ministry),
            ]
            for concurrency in args.concurrency:
                results = [drive(port, name, path, cookie, args.requests, concurrency, args.time_limit)
                           for name, path, cookie in plan]
                report(f"{variant}, {concurrency} client threads", results)
                runs.append((variant, results))
        finally:
            server.terminate()
            server.wait(timeout=20)
    return runs


def report(title: str, results: list[Result]) -> None:
    print(f"   -- {title}")
    print(f"   {'endpoint':30} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'bare req/s':>10} {'bare p50':>8} "
          f"{'vs bare':>7} {'errors':>6}")
    for r in results:
        print(f"   {r.name:30} {r.rps:7.1f} {r.pct(0.5):7.1f} {r.pct(0.95):7.1f} {r.bare.rps:10.1f} "
              f"{r.bare.pct(0.5):8.1f} {r.ratio:7.0%} {r.errors:6d}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=600, help="requests per endpoint")
    parser.add_argument("--concurrency", type=lambda v: [int(x) for x in v.split(",")], default=[1, 4],
                        help="client threads, comma-separated for several runs")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per endpoint at most")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL (CASEWORK_BENCH_PG_URL)")
    parser.add_argument("--only-configured", action="store_true",
                        help="only the app as configured (skip the run with the desk cache off)")
    parser.add_argument("--sqlite-cache-mb", type=int, default=0,
                        help="also measure SQLite with this page cache (0: only as the app configures it)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"gunicorn gthread {args.workers}x{args.threads}, client threads {args.concurrency}")
    failed = False
    with tempfile.TemporaryDirectory(prefix="casework-bench-") as tmp:
        targets = [] if args.skip_sqlite else [("SQLite", f"sqlite:///{tmp}/bench.sqlite")]
        if os.environ.get("CASEWORK_BENCH_PG_URL"):
            targets.append(("PostgreSQL", os.environ["CASEWORK_BENCH_PG_URL"]))
        for label, url in targets:
            for variant, results in run(label, url, args):
                for r in results:
                    if r.name.startswith("inbox") and (r.ratio < 0.25 or r.pct(0.95) >= 50 or r.errors):
                        failed = failed or variant.startswith("as configured")
                        print(f"   target missed ({label}, {variant}): {r.name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
