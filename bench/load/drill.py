"""Load and fault drill on the production shape: PostgreSQL, two gunicorn nodes, ``casework worker``,
50 officers (Locust, headless), and three faults while they work. Run as root from the project root:

    .venv/bin/python bench/load/drill.py --minutes 10      # the full drill
    .venv/bin/python bench/load/drill.py --minutes 1       # a short form for trying

A throw-away PostgreSQL cluster is made in /tmp/casework-drill-pg on 127.0.0.1:5444 (never the
shared server). The worker (periodic jobs and notification e-mail) sends its mail to a file sink
(``CASEWORK_SMTP_URL=file://…/mail``). Faults, at fixed fractions of the run: node A restarted
(SIGTERM, then started again), the worker killed with SIGKILL (and started again, as a supervisor
would), PostgreSQL restarted (``pg_ctl restart -m fast``). Afterwards it checks: no 500 outside the
database restart window, every acknowledged step present exactly once in the audit trail, notice
numbers gap-free, the audit chain intact, the desk counters equal to a recount, and no notification
mail delivered more than once to its recipient. It prints a Markdown report (``--report FILE``
too) and exits 1 if a check failed. All traffic stays on 127.0.0.1; every loop is bounded in time.
"""
from __future__ import annotations

import argparse
import email
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from email.policy import default as default_policy
from pathlib import Path

from sqlalchemy import func, select

from casework import create_app
from casework.accounts.services import create_user
from casework.agencies.models import Agency
from casework.assignments.models import Assignment
from casework.audit.models import AuditEvent
from casework.audit.services import verify_chain
from casework.extensions import db
from casework.notices.models import Notice, NoticeCounter
from casework.notifications.mail import build_message
from casework.notifications.models import MailDelivery
from casework.inbox.counts import count_mismatches
from casework.unit_of_work import unit_of_work

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_DATA, PG_PORT = "/tmp/casework-drill-pg", 5444
WORK = Path("/tmp/casework-drill")
DATABASE = "casework_drill"
PASSWORD = "Drill-passw0rd-2026"
FAULTS = {"node_restart": 0.25, "worker_kill": 0.45, "database_restart": 0.65}
WORKER_RESTART_SECONDS = 5  # a supervisor starts the killed worker again after this pause
# After PostgreSQL answers again, a pooled connection used within PING_AFTER_IDLE_SECONDS (10 s) is
# not pinged and is found dead by its next request: that request's 503 still belongs to the restart.
RESTART_GRACE_SECONDS = 15


def log(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def database_url() -> str:
    return f"postgresql+psycopg://casework:casework@127.0.0.1:{PG_PORT}/{DATABASE}"


def app_env(**extra: str) -> dict:
    return {**os.environ, "CASEWORK_DATABASE_URL": database_url(), "CASEWORK_SECRET_KEY": "drill-secret-key",
            "CASEWORK_INSECURE_COOKIES": "1", "CASEWORK_EVIDENCE_DIR": str(WORK / "evidence"),
            "CASEWORK_PUBLIC_URL": "https://casework.drill.example", "CASEWORK_SMTP_URL": f"file://{WORK / 'mail'}",
            # the drill database starts a new audit chain: its own key and checkpoints
            "CASEWORK_AUDIT_KEY": "drill:drill-audit-key-0123456789abcdef",
            "CASEWORK_AUDIT_CHECKPOINT_DIR": str(WORK / "audit-checkpoints"), **extra}


def pg(*args: str) -> None:
    subprocess.run(["su", "postgres", "-c", " ".join([str(PG_BIN / "pg_ctl"), "-D", PG_DATA, *args])],
                   check=True, capture_output=True)


def prepare_database(referrals: int) -> None:
    subprocess.run(["bash", str(ROOT / ".ci" / "pg.sh"), PG_DATA, str(PG_PORT)], check=True, capture_output=True)
    psql = ["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-qtA", "-c"]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"], check=True)
    subprocess.run([*psql, f"CREATE DATABASE {DATABASE} OWNER casework"], check=True)
    log(f"demo data: {referrals} referrals")
    subprocess.run([str(VENV / "casework"), "demo", "--password", PASSWORD, "--referrals", str(referrals)],
                   env=app_env(), check=True, capture_output=True)


def create_officers(count: int, path: Path) -> None:
    """``count`` case officers spread over the agencies that have work, written to ``path``."""
    os.environ.update(app_env())
    app = create_app()
    with app.app_context():
        agencies = [code for code, _n in db.session.execute(
            select(Agency.code, func.count()).join(Assignment, Assignment.agency_id == Agency.id)
            .group_by(Agency.code).order_by(func.count().desc()))]
        accounts = []
        with unit_of_work():
            for n in range(count):
                code = agencies[n % len(agencies)]
                username = f"drill-{code}-{n:02d}"
                create_user({"username": username, "display_name": f"演练承办人{n:02d}", "agency_code": code,
                             "roles": ["case_officer"], "password": PASSWORD}, actor=None)
                accounts.append({"username": username, "password": PASSWORD})
    path.write_text(json.dumps(accounts), encoding="utf-8")
    log(f"{count} officer accounts in {len(agencies)} agencies")


class Node:
    """One gunicorn instance (``gunicorn.conf.py``) on its own port."""

    def __init__(self, name: str, port: int, workers: int):
        self.name, self.port, self.workers = name, port, workers
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = app_env(CASEWORK_BIND=f"127.0.0.1:{self.port}", CASEWORK_WORKERS=str(self.workers),
                      CASEWORK_ACCESS_LOG=str(WORK / f"access-{self.name}.log"))
        errors = open(WORK / f"gunicorn-{self.name}.log", "a")
        self.process = subprocess.Popen([str(VENV / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
                                        cwd=ROOT, env=env, stdout=errors, stderr=errors)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=5).read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"node {self.name} did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Worker:
    """``casework worker`` (periodic jobs and mail), started again after it is killed."""

    def __init__(self, poll: float):
        self.poll = poll
        self.process: subprocess.Popen | None = None
        self.exits: Counter = Counter()

    def start(self) -> None:
        out = open(WORK / "worker.log", "a")
        self.process = subprocess.Popen([str(VENV / "casework"), "worker", "--poll", str(self.poll)],
                                        env=app_env(), stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> int:
        """SIGKILL, wherever the worker is in its round."""
        pid = self.process.pid
        self.process.send_signal(signal.SIGKILL)
        self.exits[self.process.wait()] += 1
        return pid

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.exits[self.process.wait(timeout=120)] += 1
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.exits[self.process.wait()] += 1


def run_faults(duration: float, started: float, nodes: list[Node], worker: Worker, moments: dict) -> None:
    def at(fraction: float) -> None:
        time.sleep(max(0.0, started + duration * fraction - time.time()))

    at(FAULTS["node_restart"])
    moments["node_restart"] = [time.time()]
    nodes[0].stop()
    nodes[0].start()
    moments["node_restart"].append(time.time())
    log("node A restarted")
    at(FAULTS["worker_kill"])
    pid = worker.kill()
    moments["worker_kill"] = [time.time()]
    log(f"worker {pid} killed with SIGKILL")
    time.sleep(WORKER_RESTART_SECONDS)
    worker.start()
    moments["worker_kill"].append(time.time())
    at(FAULTS["database_restart"])
    moments["database_restart"] = [time.time()]
    pg("restart", "-m", "fast", "-w", "-l", f"{PG_DATA}/server.log")  # the options it was started with
    moments["database_restart"].append(time.time())
    log("PostgreSQL restarted")


def run_locust(users: int, minutes: float, nodes: list[Node], accounts: Path) -> int:
    env = {**os.environ, "DRILL_HOSTS": ",".join(n.url for n in nodes), "DRILL_ACCOUNTS": str(accounts),
           "DRILL_LOG": str(WORK / "requests.jsonl"), "DRILL_ACKS": str(WORK / "acks.jsonl")}
    command = [str(VENV / "locust"), "-f", str(ROOT / "bench" / "load" / "locustfile.py"), "--headless",
               "--users", str(users), "--spawn-rate", "5", "--run-time", f"{int(minutes * 60)}s",
               "--host", nodes[0].url, "--only-summary", "--stop-timeout", "30"]
    with open(WORK / "locust.log", "w") as out:
        return subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                              timeout=minutes * 60 + 300).returncode


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def overlaps(record: dict, window: tuple[float, float]) -> bool:
    """The request ran (from its start to its answer) at some time inside ``window``."""
    return record["t"] - record["ms"] / 1000 <= window[1] and record["t"] >= window[0]


def analyse_requests(moments: dict) -> dict:
    records = [json.loads(line) for line in open(WORK / "requests.jsonl", encoding="utf-8")]
    window = (moments["database_restart"][0], moments["database_restart"][1] + RESTART_GRACE_SECONDS)
    pages: dict[str, list] = defaultdict(list)
    kinds: Counter = Counter()
    outside = []
    for record in records:
        pages[record["page"]].append(record)
        status = record["status"]
        if record["error"] == "refused":
            kinds["connection refused (node down; the officer moved to the other node)"] += 1
        elif status and status >= 400:
            kinds[f"HTTP {status}"] += 1
            inside = overlaps(record, window)
            if status >= 500 and status != 503 and not inside:
                outside.append(record)
            if status == 503 and not inside:
                kinds["of which 503 outside the database restart window"] += 1
        elif record["error"] or not status:
            kinds[f"no answer ({record['error'] or 'closed'})"] += 1
    table = {page: {"requests": len(rows), "p50": percentile([r["ms"] for r in rows], 0.5),
                    "p95": percentile([r["ms"] for r in rows], 0.95),
                    "errors": sum(1 for r in rows if r["error"] or (r["status"] or 0) >= 400)}
             for page, rows in sorted(pages.items())}
    in_window = Counter(r["status"] for r in records if overlaps(r, window) and (r["status"] or 0) >= 500)
    return {"total": len(records), "pages": table, "kinds": kinds, "server_errors_outside": outside,
            "started": min(r["t"] for r in records), "in_window": in_window}


def worker_timeouts() -> int:
    return sum(path.read_text(errors="replace").count("WORKER TIMEOUT") for path in WORK.glob("gunicorn-*.log"))


def post_checks() -> dict:
    """The checks on the database after the drill (the app's own code, run against the drill database)."""
    os.environ.update(app_env())
    app = create_app()
    acks = [json.loads(line) for line in open(WORK / "acks.jsonl", encoding="utf-8")]
    with app.app_context():
        events = db.session.execute(select(AuditEvent.object_id, AuditEvent.trigger, AuditEvent.payload)
                                    .where(AuditEvent.object_type == "assignment", AuditEvent.outcome == "ok")).all()
        by_object: dict[tuple, list] = defaultdict(list)
        for object_id, trigger, payload in events:
            by_object[(object_id, trigger)].append(json.dumps(payload, ensure_ascii=False))
        wrong = []
        for ack in acks:
            found = by_object.get((ack["object_id"], ack["trigger"]), [])
            times = sum(ack["token"] in p for p in found) if ack["token"] else len(found)
            if times != 1:
                wrong.append((ack, times))
        series: dict[tuple, list] = defaultdict(list)
        for issuer, name, year, serial in db.session.execute(
                select(Notice.issuer_agency_id, Notice.series, Notice.year, Notice.serial)):
            series[(issuer, name, year)].append(serial)
        counters = {(c.agency_id, c.series, c.year): c.last_serial for c in db.session.scalars(select(NoticeCounter))}
        gaps = [key for key, serials in series.items()
                if sorted(serials) != list(range(1, len(serials) + 1)) or counters.get(key) != len(serials)]
        chain = verify_chain()
        mismatches = count_mismatches()
        mail = mail_checks()
    return {"mail": mail, "acks": len(acks), "acks_wrong": wrong, "notices": sum(map(len, series.values())),
            "notice_series": len(series), "notice_gaps": gaps, "chain_ok": chain.ok, "chain_events": chain.checked,
            "desk_mismatches": mismatches}


def mail_key(message: email.message.Message) -> tuple:
    """What a recipient reads (address, subject, text): the same notification sent twice gives the same key."""
    parsed = email.message_from_bytes(bytes(message), policy=default_policy)
    return parsed["To"], " ".join(str(parsed["Subject"]).split()), parsed.get_content().strip()  # unfolded


def mail_checks() -> dict:
    """Mail delivered at most once per recipient and notification: for every key, the messages in the
    sink are no more than the deliveries recorded sent with that key (two notifications may read alike)."""
    states = Counter(db.session.scalars(select(MailDelivery.state)))
    sent = db.session.scalars(select(MailDelivery).where(MailDelivery.state == "sent")).all()
    expected = Counter(mail_key(build_message(d.notification, d.address, d.notification.recipient.locale or "zh")) for d in sent)
    received = Counter(mail_key(email.message_from_bytes(path.read_bytes()))
                       for path in (WORK / "mail").glob("*.eml"))
    return {"states": dict(states), "received": sum(received.values()),
            "duplicates": [(key[0], key[1], n - expected[key]) for key, n in received.items() if n > expected[key]],
            "missing": sum(max(0, n - received[key]) for key, n in expected.items())}


def report(args, stats: dict, checks: dict, moments: dict, worker: Worker) -> tuple[str, bool]:
    start = stats["started"]
    rel = {name: [round(t - start) for t in times] for name, times in moments.items()}
    lines = [f"## Drill {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(start))}: {args.users} officers, "
             f"{args.minutes} min, 2 nodes × {args.workers} sync workers, PostgreSQL 15", "",
             f"{stats['total']} requests. Faults (seconds after the start): node A restarted "
             f"{rel['node_restart'][0]}–{rel['node_restart'][1]}, worker killed at {rel['worker_kill'][0]} "
             f"(started again at {rel['worker_kill'][1]}), "
             f"PostgreSQL restarted {rel['database_restart'][0]}–{rel['database_restart'][1]}.", "",
             "| page | requests | p50 ms | p95 ms | errors |", "|---|---:|---:|---:|---:|"]
    for page, row in stats["pages"].items():
        lines.append(f"| {page} | {row['requests']} | {row['p50']:.0f} | {row['p95']:.0f} | {row['errors']} |")
    lines += ["", "Errors by kind: " + (", ".join(f"{k} {v}" for k, v in stats["kinds"].most_common()) or "none"),
              "5xx of requests running inside the database restart window (+15 s): "
              + (", ".join(f"{k} × {v}" for k, v in sorted(stats["in_window"].items())) or "none"),
              f"Workers stopped by the gunicorn timeout: {worker_timeouts()}.",
              f"Worker exits: {dict(worker.exits)} (−9: the SIGKILL; 0: stopped with SIGTERM at the end).",
              f"Mail deliveries by state after the drill: {checks['mail']['states']}; "
              f"{checks['mail']['received']} messages in the sink.", "", "Checks:"]
    results = {
        "no 500 outside the database restart window": not stats["server_errors_outside"],
        f"every acknowledged step ({checks['acks']}) in the audit trail exactly once": not checks["acks_wrong"],
        f"notice numbers gap-free ({checks['notices']} notices in {checks['notice_series']} series)":
            not checks["notice_gaps"],
        f"audit chain intact ({checks['chain_events']} events)": checks["chain_ok"],
        "desk counters equal to a recount": not checks["desk_mismatches"],
        "no notification mail delivered twice to its recipient": not checks["mail"]["duplicates"],
        "every delivery recorded sent is in the sink": not checks["mail"]["missing"],
    }
    lines += [f"- {'ok' if ok else 'FAILED'}: {name}" for name, ok in results.items()]
    if checks["acks_wrong"]:
        lines.append(f"  first wrong acknowledgement: {checks['acks_wrong'][0]}")
    if checks["mail"]["duplicates"]:
        lines.append(f"  mail delivered more than once (address, subject, extra copies): {checks['mail']['duplicates'][:5]}")
    if stats["server_errors_outside"]:
        lines.append(f"  first 5xx outside the window: {stats['server_errors_outside'][0]}")
    return "\n".join(lines), all(results.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--referrals", type=int, default=150)
    parser.add_argument("--workers", type=int, default=3, help="sync workers per node")
    parser.add_argument("--ports", default="27311,27312", help="the two nodes' ports on 127.0.0.1")
    parser.add_argument("--report", type=Path, default=None)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    for name in ("requests.jsonl", "acks.jsonl", "gunicorn-A.log", "gunicorn-B.log", "access-A.log", "access-B.log",
                 "worker.log"):
        (WORK / name).unlink(missing_ok=True)
    for old in ("mail", "audit-checkpoints"):
        shutil.rmtree(WORK / old, ignore_errors=True)
    prepare_database(args.referrals)
    create_officers(args.users, WORK / "accounts.json")
    nodes = [Node(name, int(port), args.workers) for name, port in zip("AB", args.ports.split(","))]
    worker = Worker(poll=5)
    moments: dict[str, list] = {}
    try:
        for node in nodes:
            node.start()
        log(f"nodes at {', '.join(n.url for n in nodes)}; locust for {args.minutes} min")
        worker.start()
        started = time.time()
        faults = threading.Thread(target=run_faults, args=(args.minutes * 60, started, nodes, worker, moments))
        faults.start()
        run_locust(args.users, args.minutes, nodes, WORK / "accounts.json")
        faults.join(timeout=300)
    finally:
        worker.stop()
        for node in nodes:
            node.stop()
    text, ok = report(args, analyse_requests(moments), post_checks(), moments, worker)
    print(text)
    if args.report:
        args.report.write_text(text + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
