"""Import bombs: how fast each is refused and how much memory the worker grows meanwhile.

    .venv/bin/python bench/import_bombs.py

Each file (the bombs of issue 14 — two million cells in one row, one 300 MB cell, a shared-strings
bomb — and near-limit variants) is read and validated by ``casework.targets.bulk.validate_file`` in a
fresh process, as a worker would on upload. Printed per file: its size, the refusal, the time to
refuse, the ratio to validating the largest accepted file (2,000 rows, measured in the same run), the
peak of Python allocations (tracemalloc) and the growth of the process's peak RSS.
Targets: refused in under 5 s, memory growth under 200 MB.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
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


def measure(name: str) -> dict:
    """Run in a fresh process: validate one file, report time and memory."""
    filename, data = ("good.csv", largest_accepted_file()) if name == BASELINE else ("bomb.xlsx", bomb_builders()[name]())
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    report = validate_file(filename, data)
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    return {"name": name, "bytes": len(data), "seconds": seconds, "traced_mb": peak / 1048576,
            "rss_growth_mb": rss_growth / 1024, "rows": len(report.rows),
            "refusal": str(report.errors[0]) if report.errors else ""}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2]), ensure_ascii=False))
        return 0
    results = []
    for name in names():
        done = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    baseline = next(r for r in results if r["name"].startswith("baseline"))
    failed = False
    print(f"{'file':42} {'size':>9} {'time':>8} {'×base':>6} {'traced':>9} {'RSS+':>8}  refusal")
    for r in results:
        bomb = not r["name"].startswith("baseline")
        ok = not bomb or (r["refusal"] and r["seconds"] < TARGET_SECONDS and r["rss_growth_mb"] < TARGET_MB
                          and r["traced_mb"] < TARGET_MB)
        failed |= not ok
        print(f"{r['name']:42} {r['bytes'] / 1024:7.0f}KB {r['seconds']:7.3f}s {r['seconds'] / baseline['seconds']:6.2f}"
              f" {r['traced_mb']:7.1f}MB {r['rss_growth_mb']:6.1f}MB  {'' if ok else 'OVER TARGET '}"
              f"{r['refusal'][:90] or 'accepted %d rows' % r['rows']}")
    print(f"targets: each bomb refused in < {TARGET_SECONDS} s with < {TARGET_MB} MB growth: "
          f"{'met' if not failed else 'NOT met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
