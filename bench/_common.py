"""Shared helpers for the benchmarks in bench/.

* demo_home(): a 100,000-product demo store made with `till seed-demo`, cached in bench/out/ (git-ignored)
  and reused while the demo generator and the migrations are unchanged.
* work_copy(): a private copy of that store for a benchmark that writes (sales, drafts, the place row).
* percentile(), fmt_ms(), report(): figures printed the same way by every script; report() also prints one
  machine-readable line that run_all.py collects.

Every script is standalone: `python bench/<name>.py` from anywhere, with the venv's python.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PRODUCTS = 100_000
RESULT_TAG = "BENCH-RESULT "

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tests use these; so do the benchmarks (login as the demo cashier).
CASHIER_CODE, CASHIER_PIN = "1", "1111"


def _till_command() -> list[str]:
    exe = Path(sys.executable).with_name("till")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "app"]


def _cache_key() -> str:
    """The demo store depends on the generator and the schema; a change to either reseeds."""
    h = hashlib.sha256()
    files = [ROOT / "data" / "demo.py", *sorted((ROOT / "data" / "migrations" / "versions").glob("*.py"))]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    h.update(str(PRODUCTS).encode())
    return h.hexdigest()[:16]


def demo_home(products: int = PRODUCTS, *, quiet: bool = False) -> Path:
    """bench/out/demo-<products>/ with till.toml and till.db, seeded once (about 15 s) and then reused."""
    home = OUT / f"demo-{products}"
    stamp = home / "bench-stamp.txt"
    key = _cache_key() if products == PRODUCTS else f"{_cache_key()}-{products}"
    if stamp.exists() and stamp.read_text().strip() == key and (home / "till.db").exists():
        return home
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = OUT / f"demo-{products}.seeding-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    if not quiet:
        print(f"[bench] seeding demo store with {products:,} products in {home} (once) ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run([*_till_command(), "seed-demo", "--home", str(tmp), "--products", str(products)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300, cwd=ROOT)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SystemExit(f"till seed-demo failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    checkpoint(tmp / "till.db")
    shutil.rmtree(tmp / "logs", ignore_errors=True)
    (tmp / "bench-stamp.txt").write_text(key)
    shutil.rmtree(home, ignore_errors=True)
    tmp.rename(home)
    if not quiet:
        print(f"[bench] seeded in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return home


def checkpoint(db: Path) -> None:
    """Fold the WAL into the main file so that a plain file copy is the whole database."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def work_copy(name: str, products: int = PRODUCTS) -> Path:
    """A fresh copy of the demo home in bench/out/work/<name>/ (replaced on every call)."""
    src = demo_home(products)
    dst = OUT / "work" / name
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    shutil.copy2(src / "till.toml", dst / "till.toml")
    shutil.copy2(src / "till.db", dst / "till.db")
    return dst


def build_app(home: Path):
    """The app exactly as `till run --home HOME` builds it (cli._run), without running it."""
    from app.cli import _engine_for, setup_logging
    from app.config import load_settings
    from app.tui import make_app

    setup_logging(home)
    settings = load_settings(home)
    engine = _engine_for(settings)
    return make_app(settings, engine=engine), engine


def demo_barcodes(count: int, *, seed: int = 7, products: int = PRODUCTS) -> list[str]:
    """`count` barcodes of generated demo products (ids 11..products), computed like data.demo does."""
    import random

    from data.demo import FIXED_PRODUCTS, demo_product

    rng = random.Random(seed)
    generated = products - len(FIXED_PRODUCTS)
    dummy = random.Random(0)  # demo_product only uses its rng for the price
    return [demo_product(rng.randint(1, generated), dummy)[5] for _ in range(count)]


# -- figures ------------------------------------------------------------------------------------------------

def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 values is the 990th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * pct // 100)))
    return ordered[int(rank) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms * 1000:.0f} µs" if ms < 0.1 else f"{ms:.3f} ms"


def fmt_ratio(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    return f"{ratio:.1f}×" if ratio >= 10 else f"{ratio:.2f}×"


def report(name: str, figure: str, baseline: str, ratio: float | None, target: str, ok: bool | None,
           note: str = "") -> None:
    """One result row: printed for people, and as a JSON line (prefix BENCH-RESULT) for run_all.py.
    ok=None marks a figure shown for information, with no target of its own."""
    ratio_text = fmt_ratio(ratio) if ratio is not None else "–"
    verdict = "info" if ok is None else "ok" if ok else "MISSED"
    print(f"  {name}: {figure}  | baseline {baseline}  | ratio {ratio_text}  | target {target}: {verdict}"
          + (f"  ({note})" if note else ""), flush=True)
    print(RESULT_TAG + json.dumps({"name": name, "figure": figure, "baseline": baseline, "ratio": ratio_text,
                                   "target": target, "ok": ok, "note": note}, ensure_ascii=False), flush=True)


def header(title: str) -> None:
    print(f"== {title}", flush=True)


# -- Pilot helpers ------------------------------------------------------------------------------------------

async def wait_until(pilot, condition, *, timeout: float = 30.0, what: str = "condition") -> None:
    """Let the app run until condition() holds; bounded, so a broken flow fails instead of hanging."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.001)


async def painted(app) -> None:
    """Return once the screen has refreshed after everything queued so far (the change is on screen)."""
    import asyncio

    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await asyncio.wait_for(done.wait(), 10)


async def login(pilot, code: str = CASHIER_CODE, pin: str = CASHIER_PIN):
    """Log in on the LoginScreen like a cashier (code ⏎ PIN ⏎) and return the SaleScreen."""
    from app.screens.login import LoginScreen
    from app.screens.sale import SaleScreen

    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.focused is not None
                     and app.focused.id == "login-operator", what="the login screen")
    app.focused.value = code
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.focused is not None and app.focused.id == "login-pin", what="the PIN field")
    app.focused.value = pin
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, SaleScreen) and app.focused is not None
                     and app.focused.id == "scan", what="the sale screen")
    await pilot.pause()
    return app.screen


def load() -> None:
    """Print the machine's load: figures taken on a busy machine are noisy (ratios less so)."""
    try:
        one, five, _ = os.getloadavg()
        print(f"  (load average {one:.2f} / {five:.2f} on {os.cpu_count()} CPUs)", flush=True)
    except OSError:
        pass


def open_app(home: Path):
    """The demo home's engine (migrated), place and cashier "1", as the CLI opens them."""
    from app.cli import _engine_for
    from app.config import load_settings
    from app.tui import place_from_settings
    from data.operators import by_code

    settings = load_settings(home)
    engine = _engine_for(settings)
    return engine, place_from_settings(settings, engine), by_code(engine, "1")
