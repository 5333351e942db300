"""Start-up time: ``create_app()`` and ``casework --help`` in fresh processes, against a baseline commit
and against the bare frameworks, in the same run.

    python bench/startup_bench.py [--runs 7] [--baseline 12aaac9] [--top 12]

Each measure is a new Python process (the venv's interpreter), run ``--runs`` times in alternating
order with the baseline's, and its median wall-clock and CPU time (user + system, from
``getrusage``) is printed; CPU time is the steadier figure on a shared machine. The baseline is the
source of ``--baseline`` unpacked with ``git archive`` into a temporary folder (nothing in the
repository changes); a process started in a folder imports that folder's ``casework`` first. The
floor is a process importing only the frameworks every start needs (Flask, Flask-SQLAlchemy,
SQLAlchemy's ORM, Flask-Babel, Flask-WTF, Flask-Login). Both trees use one SQLite database
migrated by this tree (the schema is the same) and one audit key given in the environment.
Last, ``python -X importtime`` of ``create_app()`` for each tree: modules imported, their total
own time, and the third-party packages that cost most, with the module that imported them.
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
CREATE_APP = "from casework import create_app; create_app()"
HELP = "import sys; sys.argv = ['casework', '--help']; from casework.console import main; main()"
FLOOR = "import flask, flask_sqlalchemy, sqlalchemy.orm, flask_babel, flask_wtf, flask_login"


def unpack(revision: str, into: Path) -> Path:
    """The tree of ``revision`` (``git archive``), with this tree's compiled translations."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True).stdout
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    for mo in (ROOT / "translations").rglob("*.mo"):
        target = into / mo.relative_to(ROOT)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(mo.read_bytes())
    return into


def environment(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_")}
    env.update({"CASEWORK_DATABASE_URL": f"sqlite:///{tmp / 'startup.sqlite'}", "CASEWORK_SECRET_KEY": "bench",
                "CASEWORK_AUDIT_KEY": "bench-1:" + "b" * 64,
                "CASEWORK_AUDIT_CHECKPOINT_DIR": str(tmp / "checkpoints"), "PYTHONDONTWRITEBYTECODE": ""})
    return env


def run_once(code: str, cwd: Path, env: dict) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one fresh process running ``code`` in ``cwd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([PYTHON, "-c", code], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(plan: dict[str, tuple[str, Path]], env: dict, runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) of each entry of ``plan``, the entries alternating run by run."""
    for code, cwd in plan.values():  # warm the bytecode caches first
        run_once(code, cwd, env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in plan}
    for _ in range(runs):
        for name, (code, cwd) in plan.items():
            samples[name].append(run_once(code, cwd, env))
    return {name: (statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
            for name, s in samples.items()}


def importtime(cwd: Path, env: dict) -> list[tuple[int, int, int, str]]:
    """(self µs, cumulative µs, depth, module) of every import of ``create_app()``, in import order."""
    err = subprocess.run([PYTHON, "-X", "importtime", "-c", CREATE_APP], cwd=cwd, env=env, check=True,
                         capture_output=True, text=True).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.split(":", 1)[1].split("|")
        rows.append((int(own), int(cumulative), (len(name) - len(name.lstrip())) // 2, name.strip()))
    return rows


def heaviest_packages(rows, top: int) -> list[tuple[float, str, str]]:
    """Third-party top-level packages by cumulative import time, with the module that imported them."""
    found = []
    for i, (_own, cumulative, depth, name) in enumerate(rows):
        if "." in name or name.startswith(("casework", "workflows")):
            continue
        parent = next((r[3] for r in rows[i + 1:] if r[2] < depth), "-")
        if parent.startswith(("casework", "workflows")) or parent == "-":
            found.append((cumulative / 1000, name, parent))
    return sorted(found, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", default="12aaac9")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="casework-startup-"))
    env = environment(tmp)
    subprocess.run([PYTHON, "-c", "from casework import create_app; from casework.migrate import upgrade; "
                    "upgrade(create_app())"], cwd=ROOT, env=env, check=True)
    base = unpack(args.baseline, tmp / "baseline")
    print(f"{PYTHON}; load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"median of {args.runs} fresh processes each")
    plan = {"floor": (FLOOR, ROOT),
            "create_app (this tree)": (CREATE_APP, ROOT), f"create_app ({args.baseline})": (CREATE_APP, base),
            "casework --help (this tree)": (HELP, ROOT), f"casework --help ({args.baseline})": (HELP, base)}
    results = measure(plan, env, args.runs)
    floor_cpu = results["floor"][1]
    print(f"{'':32} {'wall s':>7} {'CPU s':>7} {'CPU / floor':>12}")
    for name, (wall, cpu) in results.items():
        print(f"{name:32} {wall:7.2f} {cpu:7.2f} {cpu / floor_cpu:12.2f}")
    for label, cwd in (("this tree", ROOT), (args.baseline, base)):
        rows = importtime(cwd, env)
        print(f"\npython -X importtime, create_app() of {label}: {len(rows)} modules, "
              f"{sum(r[0] for r in rows) / 1000:.0f} ms of their own import time; heaviest third-party packages:")
        for ms, name, parent in heaviest_packages(rows, args.top):
            print(f"  {ms:7.1f} ms  {name:22} imported by {parent}")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
