"""Import bombs: how fast each is refused and how much memory the worker grows meanwhile.

    .venv/bin/python bench/import_bombs.py

Each file (the bombs of issue 14 — two million cells in one row, one 300 MB cell, a shared-strings
bomb — and near-limit variants) is read and validated by ``casework.targets.bulk.validate_file`` in a
fresh process, as a worker would on upload. Printed per file: its size, the refusal, the time to
refuse (wall-clock and CPU), the ratio to validating the largest accepted file (2,000 rows, measured in the same run), the
peak of Python allocations (tracemalloc) and the growth of the process's peak RSS.
Targets: refused in under 5 s, memory growth under 200 MB.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casework.targets.bulk import validate_file  # noqa: E402
from tests.test_targets_bounds import bomb_builders  # noqa: E402

TARGET_SECONDS = 5
TARGET_MB = 200


def largest_accepted_file() -> bytes:
    lines = ["kind,name,url"] + [f"website,刷课平台{n},https://shuake{n}.example.cn/" for n in range(2000)]
    return "\r\n".join(lines).encode()


BASELINE = "baseline: 2,000 good rows (CSV)"


def names() -> list[str]:
    return [*bomb_builders(), BASELINE]


def build(name: str) -> bytes:
    return largest_accepted_file() if name == BASELINE else bomb_builders()[name]()


def measure(name: str, path: Path) -> dict:
    """Run in a fresh process that has only read the (small) file: validate it, report time and memory."""
    filename, data = ("good.csv" if name == BASELINE else "bomb.xlsx"), path.read_bytes()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.thread_time()
    report = validate_file(filename, data)
    seconds, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    return {"name": name, "bytes": len(data), "seconds": seconds, "cpu": cpu, "traced_mb": peak / 1048576,
            "rss_growth_mb": rss_growth / 1024, "rows": len(report.rows),
            "refusal": str(report.errors[0]) if report.errors else ""}


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], Path(sys.argv[3])), ensure_ascii=False))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="casework-bombs-") as directory:
        for number, name in enumerate(names()):
            path = Path(directory) / str(number)
            path.write_bytes(build(name))
            done = subprocess.run([sys.executable, __file__, "--one", name, str(path)], capture_output=True,
                                  text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    baseline = next(r for r in results if r["name"].startswith("baseline"))
    failed = False
    print(f"{'file':42} {'size':>9} {'time':>8} {'CPU':>8} {'×base':>6} {'traced':>9} {'RSS+':>8}  refusal")
    for r in results:
        bomb = not r["name"].startswith("baseline")
        ok = not bomb or (r["refusal"] and r["seconds"] < TARGET_SECONDS and r["rss_growth_mb"] < TARGET_MB
                          and r["traced_mb"] < TARGET_MB)
        failed |= not ok
        ratio = r["seconds"] / baseline["seconds"]
        print(f"{r['name']:42} {r['bytes'] / 1024:7.0f}KB {r['seconds']:7.3f}s {r['cpu']:7.3f}s {ratio:6.2f}"
              f" {r['traced_mb']:7.1f}MB {r['rss_growth_mb']:6.1f}MB  {'' if ok else 'OVER TARGET '}"
              f"{r['refusal'][:90] or 'accepted %d rows' % r['rows']}")
    print(f"targets: each bomb refused in < {TARGET_SECONDS} s with < {TARGET_MB} MB growth: "
          f"{'met' if not failed else 'NOT met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
