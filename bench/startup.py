"""Start-up to the first usable screen, against a bare Textual app launched the same way.

Each run is a fresh `python bench/_startup_child.py` process. The figure is wall time from just before the
parent spawns it to the moment the child has its LoginScreen mounted, the operator Input focused, and that
state painted once (headless, 100×30). Peak RSS of each child comes from os.wait4 (ru_maxrss).
A third child, "bare-data", is the bare app that also loads pydantic-settings and opens the database
with SQLModel: not a target, it shows how much of Till's peak those fixed libraries are.
Median of N=7 runs each, after one unmeasured warm-up run of each (page caches warm; Till's own modules
byte-compiled first, as the baseline's Textual is: see compile_sources), runs interleaved so that
machine noise hits both alike.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, OUT, ROOT, fmt_ms, header, median, report, work_copy  # noqa: E402

RUNS = 7
TIMEOUT = 60.0
CHILD = BENCH / "_startup_child.py"


def run_once(mode: str, home: Path) -> dict:
    out = OUT / "work" / f"startup-{mode}.json"
    out.unlink(missing_ok=True)
    env = dict(os.environ)
    env.pop("TEXTUAL", None)
    env.pop("TEXTUAL_PRESS", None)
    t_spawn = time.clock_gettime(time.CLOCK_MONOTONIC)
    proc = subprocess.Popen([sys.executable, str(CHILD), mode, str(home), str(out)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = t_spawn + TIMEOUT
    status = rusage = None
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.clock_gettime(time.CLOCK_MONOTONIC) > deadline:
            os.kill(proc.pid, signal.SIGKILL)
            pid, status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    t_reaped = time.clock_gettime(time.CLOCK_MONOTONIC)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0 or not out.exists():
        raise SystemExit(f"startup child ({mode}) failed with {proc.returncode}: {err.strip()[-2000:]}")
    data = json.loads(out.read_text())
    if "ready" not in data:
        raise SystemExit(f"startup child ({mode}) never became ready: {data}")
    return {
        "ready": data["ready"] - t_spawn,
        "interpreter": data["start"] - t_spawn,
        "imports": data["imported"] - data["start"],
        "build": data["built"] - data["imported"],
        "mount": data["ready"] - data["built"],
        "exit": t_reaped - data["ready"],
        "rss_kb": rusage.ru_maxrss,
        "rss_ready_kb": data.get("hwm_ready_kb") or rusage.ru_maxrss,
    }


def compile_sources() -> None:
    """Byte-compile Till's own modules first, as an installed till has them (pip compiles a wheel's
    modules; Python writes __pycache__ on first import) and as the baseline's Textual already is. With
    PYTHONDONTWRITEBYTECODE=1, as on this machine, every start would otherwise compile them from source."""
    import compileall

    for package in ("app", "data", "widgets"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("  (PYTHONDONTWRITEBYTECODE is set: app/, data/ and widgets/ were byte-compiled first)")


def main() -> int:
    header(f"startup: spawn → LoginScreen focused and painted (median of {RUNS}, headless)")
    compile_sources()
    home = work_copy("startup")
    modes = ("till", "bare", "bare-data")
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    for mode in modes:  # warm-up, not counted
        run_once(mode, home)
    for _ in range(RUNS):
        for mode in modes:
            runs[mode].append(run_once(mode, home))

    def med(mode: str, key: str) -> float:
        return median([r[key] for r in runs[mode]])

    for mode in modes:
        phases = "  ".join(f"{k} {fmt_ms(med(mode, k))}" for k in ("interpreter", "imports", "build", "mount"))
        print(f"  {mode:9}: ready {fmt_ms(med(mode, 'ready'))}  [{phases}]  peak RSS {med(mode, 'rss_kb') / 1024:.1f} MiB"
              f"  runs: {', '.join(fmt_ms(r['ready']) for r in runs[mode])}")
    t_till, t_bare = med("till", "ready"), med("bare", "ready")
    m_till, m_bare = med("till", "rss_kb"), med("bare", "rss_kb")
    report("startup time (spawn → login usable)", fmt_ms(t_till), fmt_ms(t_bare), t_till / t_bare, "≤ 1.5×",
           t_till / t_bare <= 1.5)
    report("startup peak RSS", f"{m_till / 1024:.1f} MiB", f"{m_bare / 1024:.1f} MiB", m_till / m_bare, "≤ 1.5×",
           m_till / m_bare <= 1.5)
    # For information: the same high-water mark taken when the login screen is usable, before the data
    # layer (SQLAlchemy, SQLModel, the tables) has loaded behind it; the figure above includes it.
    r_till, r_bare = med("till", "rss_ready_kb"), med("bare", "rss_ready_kb")
    report("startup peak RSS at the login screen, before the data layer", f"{r_till / 1024:.1f} MiB",
           f"{r_bare / 1024:.1f} MiB", r_till / r_bare, "–", None)
    # For information: against the bare app that also reads its settings with pydantic-settings and
    # opens the same database with SQLModel (the libraries the design card fixes), what Till adds itself.
    m_data = med("bare-data", "rss_kb")
    report("startup peak RSS against the bare app with pydantic-settings and SQLModel loaded",
           f"{m_till / 1024:.1f} MiB", f"{m_data / 1024:.1f} MiB", m_till / m_data, "–", None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
