"""Per-fire cost of the workflow engine: today's engine against the engine of a baseline commit,
in the same process, on the same throw-away SQLite database.

    python bench/fire_bench.py [--fires 300] [--rounds 5] [--baseline dccabbe]

The baseline is ``casework/workflow/engine.py`` as it was at ``--baseline`` (read with ``git show``;
by default the commit before the engine ran on one ``transitions`` machine per lifecycle, when it
built a one-transition machine for every fire). Both fire ``add_note`` (an internal transition:
service, audit event, no state change) on the same accepted assignment, one commit per fire as a
request would, then in one rolled-back transaction (the engine without the commits' fsyncs), in
alternating blocks; then both answer ``available_triggers`` for the case officer
(whose guards query the clocks) and for the intake officer of a draft (no query: the engine alone).
Prints the best block's fires/s and questions/s of each (the best of several alternating blocks is
the least disturbed by other work on the machine) and the ratio (current / baseline: at least 1 =
no slower).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casework import create_app  # noqa: E402  (after the path is set)
from casework.accounts.models import User, UserRole  # noqa: E402
from casework.demo import create_agencies  # noqa: E402
from casework.extensions import db  # noqa: E402
from casework.migrate import upgrade  # noqa: E402
from casework.referrals.services import open_referral  # noqa: E402
from casework.unit_of_work import unit_of_work  # noqa: E402
from casework.workflow import engine as current  # noqa: E402


def baseline_engine(revision: str) -> types.ModuleType:
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:casework/workflow/engine.py"],
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType("baseline_engine")
    module.__file__ = f"{revision}:casework/workflow/engine.py"
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def seed() -> tuple[dict[str, User], int]:
    """The four users the journey needs; returns them by role, and the receiving agency's id."""
    agencies = create_agencies()
    users = {}
    for code, role in (("edu-44", "intake_officer"), ("edu-44", "assessor"), ("edu-44", "approver"),
                       ("cac-44", "case_officer")):
        users[role] = User(username=f"{code}.{role}", display_name=role, agency=agencies[code],
                           password_hash="x", role_rows=[UserRole(role=role)])
        db.session.add(users[role])
    db.session.flush()
    return users, agencies["cac-44"].id


def draft_referral(users: dict[str, User]):
    return open_referral({"title": "基准线索", "source": "platform_report", "summary": "代刷网课",
                          "targets": [{"kind": "website", "name": "代刷网站", "url": "https://shuake.example.cn/"}]},
                         users["intake_officer"])


def accepted_assignment(users: dict[str, User], agency_id: int):
    with unit_of_work():
        referral = draft_referral(users)
        steps = [("submit", {}, "intake_officer"), ("start_assessment", {}, "assessor"),
                 ("assess", {"conclusion": "refer", "severity": "high", "opinion": "构成",
                             "agencies": [agency_id], f"reason_{agency_id}": "主管"}, "assessor"),
                 ("approve_assessment", {}, "approver"),
                 ("route", {"agencies": [agency_id], f"reason_{agency_id}": "主管"}, "assessor")]
        for trigger, data, role in steps:
            current.fire(referral, trigger, data, users[role])
        assignment = referral.assignments[0]
        current.fire(assignment, "receive", {}, users["case_officer"])
        current.fire(assignment, "accept", {}, users["case_officer"])
    return assignment


def fires_per_second(engine, assignment, officer, fires: int) -> float:
    started = time.perf_counter()
    for n in range(fires):
        with unit_of_work():
            engine.fire(assignment, "add_note", {"body": f"调查情况 {n}"}, officer)
    return fires / (time.perf_counter() - started)


def fires_per_second_uncommitted(engine, assignment, officer, fires: int) -> float:
    """The same fires in one transaction, rolled back: the engine and its flushes without the commits."""
    started = time.perf_counter()
    for n in range(fires):
        engine.fire(assignment, "add_note", {"body": f"调查情况 {n}"}, officer)
    rate = fires / (time.perf_counter() - started)
    db.session.rollback()
    return rate


def questions_per_second(engine, assignment, officer, questions: int) -> float:
    assignment.state  # loaded once, as a page would
    started = time.perf_counter()
    for _ in range(questions):
        engine.available_triggers(assignment, officer)
    return questions / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fires", type=int, default=300, help="fires per block")
    parser.add_argument("--rounds", type=int, default=7, help="blocks per engine, alternating")
    parser.add_argument("--baseline", default="dccabbe", help="commit whose engine is the baseline")
    args = parser.parse_args()
    baseline = baseline_engine(args.baseline)
    with tempfile.TemporaryDirectory(prefix="fire-bench-") as folder:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
                          "SECRET_KEY": "bench-secret-key", "ISSUE_NOTICES": False})
        upgrade(app)
        with app.app_context():
            with unit_of_work():
                users, agency_id = seed()
            assignment = accepted_assignment(users, agency_id)
            with unit_of_work():
                draft = draft_referral(users)
            officer, intake = users["case_officer"], users["intake_officer"]
            results: dict[str, dict[str, list[float]]] = {name: {"fire": [], "flush": [], "ask": [], "draft": []}
                                                          for name in ("current", "baseline")}
            for name, engine in (("current", current), ("baseline", baseline)):  # warm-up
                fires_per_second(engine, assignment, officer, 20)
                questions_per_second(engine, assignment, officer, 20)
                questions_per_second(engine, draft, intake, 20)
            for _ in range(args.rounds):
                for name, engine in (("current", current), ("baseline", baseline)):
                    results[name]["fire"].append(fires_per_second(engine, assignment, officer, args.fires))
                    results[name]["flush"].append(fires_per_second_uncommitted(engine, assignment, officer, args.fires))
                    results[name]["ask"].append(questions_per_second(engine, assignment, officer, args.fires))
                    results[name]["draft"].append(questions_per_second(engine, draft, intake, 20 * args.fires))
    print(f"engine fire bench: best of {args.rounds} alternating blocks of {args.fires} per engine, SQLite, "
          "one commit per fire")
    for measure, what in (("fire", "add_note fires/s"), ("flush", "  without the commits"),
                          ("ask", "available_triggers/s"),
                          ("draft", "  on a draft (no query)")):
        now, before = (max(results[n][measure]) for n in ("current", "baseline"))
        print(f"  {what:24} current {now:8.0f}   baseline ({args.baseline}) {before:8.0f}   ratio {now / before:.2f}")


if __name__ == "__main__":
    main()
