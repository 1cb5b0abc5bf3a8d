"""Run every benchmark and print a markdown table for the README.

    python bench/run_all.py            # all of them, each one's own output, then the table
    python bench/run_all.py -q         # only the table
    python bench/run_all.py scan commit

The output of every benchmark and the table are also written to bench/out/last-run.txt.

Each benchmark runs as its own process (python bench/<name>.py) with a time limit; its BENCH-RESULT
lines become the table's rows. The demo store is seeded first, once, so no benchmark pays for it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, OUT, RESULT_TAG, demo_home  # noqa: E402

BENCHMARKS = ["startup", "scan", "search", "commit", "commit_exports", "xreport", "serial_scan", "receipt",
              "peak_aggregate", "delivery", "catchup", "inventory", "orders_list", "orders_dialog"]
TIME_LIMIT = 180


LAST_RUN = OUT / "last-run.txt"


def run(name: str, quiet: bool, log: list[str]) -> tuple[list[dict], str | None]:
    """Run bench/<name>.py; its output (without the BENCH-RESULT lines) is printed unless quiet, and
    always appended to `log`, which ends up in bench/out/last-run.txt."""
    cmd = [sys.executable, str(BENCH / f"{name}.py")]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        log += [line for line in out.splitlines() if not line.startswith(RESULT_TAG)]
        log += [f"  ({name}.py timed out after {TIME_LIMIT} s)", ""]
        return _rows(out), f"timed out after {TIME_LIMIT} s"
    rows = _rows(proc.stdout)
    lines = [line for line in proc.stdout.splitlines() if not line.startswith(RESULT_TAG)]
    lines += [f"  ({name}.py took {time.perf_counter() - t0:.0f} s)", ""]
    log += lines
    if not quiet:
        print("\n".join(lines), flush=True)
    if proc.returncode != 0 and not rows:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return rows, f"exit {proc.returncode}: {' / '.join(tail)}"
    return rows, None


def _rows(stdout: str) -> list[dict]:
    return [json.loads(line[len(RESULT_TAG):]) for line in stdout.splitlines() if line.startswith(RESULT_TAG)]


def table(rows: list[tuple[str, dict]]) -> str:
    out = ["| benchmark | figure | baseline | ratio | target |", "|---|---|---|---|---|"]
    for script, r in rows:
        verdict = "" if r.get("ok") is None else (" ✓" if r["ok"] else " ✗ missed")
        target = (r["target"] if r["target"] != "–" else "(info)") + verdict
        name = f"{r['name']} (`bench/{script}.py`)"
        cells = [name, r["figure"], r["baseline"], r["ratio"], target]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the table")
    args = parser.parse_args()
    names = args.names or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    demo_home()
    results: list[tuple[str, dict]] = []
    log: list[str] = []
    failures = []
    for name in names:
        rows, error = run(name, args.quiet, log)
        results += [(name, r) for r in rows]
        if error:
            failures.append(f"{name}: {error}")
            results.append((name, {"name": name, "figure": "failed", "baseline": "–", "ratio": "–",
                                   "target": error[:60], "ok": False}))
    print(table(results))
    LAST_RUN.write_text("\n".join([*log, table(results), ""]), encoding="utf-8")
    for f in failures:
        print(f"\nFAILED {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
