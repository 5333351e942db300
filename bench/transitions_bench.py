"""Audited transitions per second on PostgreSQL against plain INSERT commits from the same writers.

    python bench/transitions_bench.py [--database-url URL] [--seconds 8] [--writers 1,4,8]

The database named by --database-url (default: CASEWORK_BENCH_DATABASE_URL, else
postgresql+psycopg://casework:casework@127.0.0.1:5433/casework_audit_bench) is WIPED, migrated and
given one education agency (with intake officer, assessor and approver) per writer. Writers are
processes (like gunicorn workers), each on its own agency's referral, looping
submitted → start_assessment → under_assessment → withdraw → withdrawn → reopen → submitted
through ``fire`` in one unit of work per step. In the same run and from the same processes the
baseline is a single-row INSERT and COMMIT per step into a table of its own. Then four writers run
while a fifth drives a browser-like cycle through the JSON API (test client, logged in) whose
``approve_assessment`` step renders an assessment opinion notice: it prints the four writers' rate
against four writers alone and against four writers next to the same cycle without the notice,
and the notice step's p50/p95. Last, the SQL statements per transition (BEGIN/COMMIT left out).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import g  # noqa: E402
from sqlalchemy import create_engine, event, select, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from casework import create_app  # noqa: E402
from casework.accounts.models import User, UserRole  # noqa: E402
from casework.accounts.passwords import hash_password  # noqa: E402
from casework.agencies.models import Agency  # noqa: E402
from casework.demo import create_agencies, wipe_database  # noqa: E402
from casework.extensions import db  # noqa: E402
from casework.migrate import upgrade  # noqa: E402
from casework.referrals.models import Referral  # noqa: E402
from casework.referrals.services import open_referral  # noqa: E402
from casework.unit_of_work import unit_of_work  # noqa: E402
from casework.workflow.engine import fire  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://casework:casework@127.0.0.1:5433/casework_audit_bench"
PASSWORD = "Bench-passw0rd!"
ROLES = ("intake_officer", "assessor", "approver")
# state -> (trigger, role, data): a loop of three audited transitions without a notice
CYCLE = {"submitted": ("start_assessment", "assessor", {}),
         "under_assessment": ("withdraw", "intake_officer", {"reason": "bench"}),
         "withdrawn": ("reopen", "intake_officer", {"material": "bench"})}
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def bench_config(url: str, tmp: Path, notices: bool = True) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, "TESTING": True,
            "AUDIT_KEYS": "bench-1:" + "b" * 64, "AUDIT_CHECKPOINT_DIR": str(tmp / "checkpoints"),
            "AUDIT_CHECKPOINT_SECONDS": 0, "EVIDENCE_DIR": str(tmp / "evidence"), "ISSUE_NOTICES": notices,
            "TWO_FACTOR_ENFORCED": False}  # the browser-like writer logs in with a password, as the tests do


# --- set-up ------------------------------------------------------------------------------------

def _bench_agency(i: int, moe: Agency) -> Agency:
    agency = Agency(code=f"edu-b{i}", kind="education", level="provincial", region_code=f"{90 + i:02d}0000",
                    name=f"第{i}测试省教育厅", name_en=f"Bench education {i}", number_prefix=f"测{i}教函",
                    parent=moe)
    db.session.add(agency)
    for role in ROLES:
        db.session.add(User(username=f"edu-b{i}.{role}", display_name=f"edu-b{i} {role}", agency=agency,
                            password_hash=hash_password(PASSWORD),
                            role_rows=[UserRole(role=role)]))
    db.session.flush()
    return agency


def user(agency_code: str, role: str) -> User:
    return db.session.scalar(select(User).where(User.username == f"{agency_code}.{role}"))


def set_up(app, writers: int) -> list[int]:
    """Wipe, migrate, and give every writer (and the notice writer, last) an agency and a referral."""
    with app.app_context():
        wipe_database()
    upgrade(app)
    ids = []
    with app.app_context():
        agencies = create_agencies()
        with unit_of_work():
            for i in range(writers + 1):
                _bench_agency(i, agencies["moe"])
        for i in range(writers + 1):
            with unit_of_work():
                intake = user(f"edu-b{i}", "intake_officer")
                referral = open_referral({"title": f"基准线索{i}", "source": "platform_report",
                                          "summary": "某网站提供代刷网课服务。",
                                          "targets": [{"kind": "website", "name": f"代刷网站{i}",
                                                       "url": f"https://bench{i}.example.cn/"}]}, intake)
                fire(referral, "submit", {}, intake)
                ids.append(referral.id)
        db.session.execute(text("CREATE TABLE bench_plain (id BIGSERIAL PRIMARY KEY, writer INT, "
                                "at TIMESTAMPTZ DEFAULT now(), note TEXT)"))
        db.session.commit()
        db.session.remove()
    return ids


# --- writers -----------------------------------------------------------------------------------

def _plain_step(app, index: int, _state) -> None:
    db.session.execute(text("INSERT INTO bench_plain (writer, note) VALUES (:w, 'bench')"), {"w": index})
    db.session.commit()


def _transition_step(app, index: int, state) -> None:
    with unit_of_work():
        referral = db.session.get(Referral, state["referral_id"])
        trigger, role, data = CYCLE[referral.state]
        fire(referral, trigger, data, user(f"edu-b{index}", role))
    db.session.remove()


def _browser_cycle(cac_id: int) -> dict[str, tuple[str, str, dict]]:
    """state -> step of a cycle of five through the JSON API; approving issues a notice."""
    assess = {"conclusion": "refer", "severity": "high", "opinion": "经研判，该服务提供有偿代刷网课。",
              "behaviours": ["brushing"], "agencies": [cac_id], f"reason_{cac_id}": "属于本部门职责"}
    return {"submitted": ("start_assessment", "assessor", {}), "under_assessment": ("assess", "assessor", assess),
            "assessed": ("approve_assessment", "approver", {}),
            "approved": ("withdraw", "intake_officer", {"reason": "bench"}),
            "withdrawn": ("reopen", "intake_officer", {"material": "bench"})}


def _browser_step(app, index: int, state) -> None:
    trigger, role, data = state["cycle"][state["current"]]
    for key in ("_login_user", "_flask_babel", "csrf_token"):  # a fresh request, as from a browser
        g.pop(key, None)
    started = time.perf_counter()
    response = state["clients"][role].post(f"/api/referrals/{state['referral_id']}/fire/{trigger}",
                                           json={"data": data})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{trigger}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    if trigger == "approve_assessment":
        state["latencies"].append(elapsed)
    state["current"] = response.get_json()["state"]


STEPS = {"plain": _plain_step, "transition": _transition_step, "browser": _browser_step}


def _browser_state(app, referral_id: int) -> dict:
    index = db.session.scalar(select(Referral.origin_agency_id).where(Referral.id == referral_id))
    code = db.session.scalar(select(Agency.code).where(Agency.id == index))
    clients = {}
    for role in ROLES:
        for key in ("_login_user", "_flask_babel", "csrf_token"):
            g.pop(key, None)
        client = app.test_client()
        answer = client.post("/login", data={"username": f"{code}.{role}", "password": PASSWORD})
        if answer.status_code != 302:
            raise RuntimeError(f"login of {code}.{role} failed: {answer.status_code}")
        clients[role] = client
    cac_id = db.session.scalar(select(Agency.id).where(Agency.code == "cac-44"))
    current = db.session.scalar(select(Referral.state).where(Referral.id == referral_id))
    return {"clients": clients, "cycle": _browser_cycle(cac_id), "latencies": [], "current": current}


def writer(url, tmp, kind, index, referral_id, notices, barrier, start_at, seconds, results) -> None:
    app = create_app(bench_config(url, Path(tmp), notices))
    step = STEPS[kind]
    with app.app_context():
        state = {"referral_id": referral_id, "latencies": []}
        if kind == "browser":
            state.update(_browser_state(app, referral_id))
        for _ in range(5 if kind == "browser" else 1):  # warm-up: connection, caches, a first notice
            step(app, index, state)
        state["latencies"].clear()
        db.session.remove()
        barrier.wait(timeout=300)
        while start_at.value == 0.0 or time.time() < start_at.value:
            time.sleep(0.001)
        end = start_at.value + seconds
        count = 0
        while time.time() < end:
            step(app, index, state)
            count += 1
        results.put((kind, index, count, state["latencies"]))
        db.session.remove()
        db.engine.dispose()


class LockSampler(threading.Thread):
    """Samples pg_stat_activity every 50 ms: sessions inside a transaction, and those waiting on a lock."""

    QUERY = text("SELECT count(*) FILTER (WHERE state IN ('active', 'idle in transaction')), "
                 "count(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity "
                 "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'")

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = create_engine(url, poolclass=NullPool)
        self.samples: list[tuple[int, int]] = []
        self.running = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.done.is_set():
                if self.running.is_set():
                    self.samples.append(tuple(conn.execute(self.QUERY).one()))
                    conn.rollback()
                time.sleep(0.05)
        self.engine.dispose()

    def summary(self) -> str:
        if not self.samples:
            return "no samples"
        busy = sum(b for b, _ in self.samples) / len(self.samples)
        waiting = sum(w for _, w in self.samples) / len(self.samples)
        return f"{busy:.1f} sessions in a transaction, {waiting:.1f} waiting on a lock"


def run_phase(url, tmp, ids, plan, seconds, notices=True) -> dict:
    """Run writers of ``plan`` [(kind, index)] at once for ``seconds``; steps/s per kind, latencies and
    the average lock waits sampled meanwhile."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(plan) + 1)
    start_at = ctx.Value("d", 0.0)
    results = ctx.Queue()
    processes = [ctx.Process(target=writer, args=(url, tmp, kind, index, ids[index], notices, barrier, start_at,
                                                  seconds, results)) for kind, index in plan]
    for process in processes:
        process.start()
    sampler = LockSampler(url)
    sampler.start()
    barrier.wait(timeout=300)
    start_at.value = time.time() + 0.2
    time.sleep(0.2)
    sampler.running.set()
    collected = [results.get(timeout=seconds + 300) for _ in processes]
    sampler.done.set()
    sampler.join()
    for process in processes:
        process.join()
    rates: dict[str, float] = {}
    latencies: list[float] = []
    for kind, _index, count, lat in collected:
        rates[kind] = rates.get(kind, 0.0) + count / seconds
        latencies.extend(lat)
    return {"rates": rates, "latencies": latencies, "locks": sampler.summary()}


# --- statement count ---------------------------------------------------------------------------

def statements_per_transition(app, referral_id: int, index: int, rounds: int = 3) -> float:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    with app.app_context():
        state = {"referral_id": referral_id}
        _transition_step(app, index, state)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            for _ in range(rounds * len(CYCLE)):
                _transition_step(app, index, state)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    return len(statements) / (rounds * len(CYCLE))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("CASEWORK_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--writers", default="1,4,8")
    parser.add_argument("--notice-seconds", type=float, default=20.0,
                        help="length of the two phases with the browser-like cycle")
    args = parser.parse_args()
    counts = [int(n) for n in args.writers.split(",")]
    most = max(max(counts), 4)
    tmp = tempfile.mkdtemp(prefix="casework-bench-")
    app = create_app(bench_config(args.database_url, Path(tmp)))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        sys.exit("transitions_bench: give a PostgreSQL --database-url")
    ids = set_up(app, most)
    print(f"database {args.database_url.split('@')[-1]}, {args.seconds:g} s per phase, writers are processes; "
          f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    per_writer: dict[int, float] = {}
    print(f"{'writers':>7} {'plain INSERT commits/s':>23} {'audited transitions/s':>22} {'ratio':>7}")
    for n in counts:
        plain = run_phase(args.database_url, tmp, ids, [("plain", i) for i in range(n)], args.seconds)
        steps = run_phase(args.database_url, tmp, ids, [("transition", i) for i in range(n)], args.seconds)
        p, t = plain["rates"]["plain"], steps["rates"]["transition"]
        per_writer[n] = t
        print(f"{n:>7} {p:>23.0f} {t:>22.1f} {t / p:>7.3f}   transitions: {steps['locks']}")
    four = [("transition", i) for i in range(4)]
    alone = per_writer.get(4) or run_phase(args.database_url, tmp, ids, four, args.seconds)["rates"]["transition"]
    browser = [("browser", most)]
    quiet = run_phase(args.database_url, tmp, ids, four + browser, args.notice_seconds, notices=False)
    noisy = run_phase(args.database_url, tmp, ids, four + browser, args.notice_seconds, notices=True)
    lat = noisy["latencies"]
    print(f"with the notice cycle: {noisy['locks']}")
    print(f"four writers alone: {alone:.1f}/s; next to a browser cycle without notices: "
          f"{quiet['rates']['transition']:.1f}/s; next to one issuing notices: {noisy['rates']['transition']:.1f}/s "
          f"({noisy['rates']['transition'] / alone:.2f}x alone, "
          f"{noisy['rates']['transition'] / quiet['rates']['transition']:.2f}x next to the same cycle without notices)")
    print(f"browser-like notice step (approve_assessment + assessment opinion PDF) while four writers work: "
          f"n={len(lat)} p50 {percentile(lat, 0.5) * 1000:.0f} ms, p95 {percentile(lat, 0.95) * 1000:.0f} ms")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"SQL statements per transition (BEGIN/COMMIT left out): "
          f"{statements_per_transition(app, ids[0], 0):.1f}")


if __name__ == "__main__":
    main()
