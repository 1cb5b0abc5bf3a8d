"""Serial scanner → cart line, end to end over a real pseudo-terminal.

The app is built through app.tui.make_app with [scanner] port set to the slave end of an os.openpty()
pair in raw mode and [printer] kind = "none", on a copy of the 100,000-product demo store, and run
headless with Pilot (100×30); the demo cashier logs in (1 / 1111). A writer thread then writes scans
"code\\r" to the master end, one os.write per scan, each timestamped with time.perf_counter just before
the write. They travel the whole way a real scanner's bytes do: the kernel tty, the app's ScannerReader
thread (pyserial, split_scans), a ScanArrived message posted to the app, TillApp._scan routing it to
SaleScreen.enter_code(code, from_scanner=True): lookup, cart, pricing, draft saved, table updated. The
screen's enter_code is wrapped to note perf_counter when it returns True (the line is in the cart, its
draft saved and its row in the CartTable), and the reader's on_scan callback to note when the code left
the reader thread; scans are matched to their write by barcode. Every 50th line the wrapper discards the
draft and calls SaleScreen._new_sale(), so carts stay short.

Phases, each of distinct existing products (with_check_digit(f"885{100_000 + i:09d}")), after 40
warm-up scans (i = 2001..2040, not counted):
  burst  i = 1..1000 written back to back, as fast as the writer thread can: the throughput, scans/s
         from the first write until the 1,000th line is added. Latency here is queueing (a scan waits
         for every scan written before it) and is shown for information only.
  paced  i = 1001..2000 written open-loop at one per 10 ms (100 scans/s, half the throughput target),
         on a fixed schedule that never waits for the app, so a stall delays the scans behind it and
         shows in their latency (no coordinated omission): p50 / p99 write → line added, the target.
  human  i = 2101..2200 at one per 100 ms (a very fast cashier), for information.
For each paced phase the latency is split into tty + reader thread, waiting in the event loop for
TillApp._scan to run, and enter_code itself; the screen's layout and paint passes (the outermost
Screen._refresh_layout / _compositor_refresh calls) are timed too, since scans wait behind them.

These phases run with the terminal reported unfocused (App.app_focus = False, Textual's switch that
stops the Footer from recomposing on a binding refresh). The footer recomposes whenever the allowed
actions change, here twice per 50-line sale (first line; the reset), 20-60 ms each plus the relayout
that follows; with a new sale every 50 scans that is 4 % of the scans, enough to own the p99, for a cost
a real sale pays once. A last phase of 100 scans at one per 10 ms with the terminal focused shows it.

Baseline: a bare pyserial read loop (serial.Serial on the slave path, timeout=0.2, read(in_waiting or
1), split on \\r, perf_counter per code) in a thread on a fresh pty pair, receiving the same writes from
the same writer, every phase. Ratios: baseline scans/s ÷ app scans/s, app p99 ÷ baseline p99 (both:
how many times slower the app is).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import tty
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt_ms, header, load, login, percentile, report, wait_until, work_copy  # noqa: E402

SCANS = 1000
RESET_EVERY = 50
PACE_MS = 10.0  # the latency phase: 100 scans/s, half the throughput target
HUMAN_MS = 100.0  # a fast cashier: 10 scans/s
HUMAN_SCANS = 100
FOCUSED_SCANS = 100
WARMUP = 40
PHASE_TIMEOUT = 40.0


def barcode(i: int) -> str:
    from data.barcodes import with_check_digit

    return with_check_digit(f"885{100_000 + i:09d}")


def phases() -> list[tuple[str, list[str], float | None]]:
    """(name, codes, seconds between writes or None for back to back); distinct products throughout."""
    codes = lambda first, n: [barcode(i) for i in range(first, first + n)]  # noqa: E731
    return [("warm", codes(2001, WARMUP), PACE_MS / 1000),
            ("burst", codes(1, SCANS), None),
            ("paced", codes(SCANS + 1, SCANS), PACE_MS / 1000),
            ("human", codes(2101, HUMAN_SCANS), HUMAN_MS / 1000)]


FOCUSED = ("focused", [barcode(i) for i in range(2201, 2201 + FOCUSED_SCANS)], PACE_MS / 1000)


class PtyPair:
    """os.openpty() with the slave in raw mode; both ends stay open in this process until close()."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class Writer(threading.Thread):
    """Writes each code + CR with one os.write, open loop: back to back (pace None) or on a fixed
    schedule of one every `pace` seconds that never waits for the reader. sent[code] = perf_counter
    taken just before its write."""

    def __init__(self, fd: int, codes: list[str], pace: float | None) -> None:
        super().__init__(name="bench-writer", daemon=True)
        self.fd, self.codes, self.pace = fd, codes, pace
        self.sent: dict[str, float] = {}
        self.first = 0.0

    def run(self) -> None:
        payloads = [(code, code.encode() + b"\r") for code in self.codes]
        start = time.perf_counter()
        self.first = start
        for n, (code, data) in enumerate(payloads):
            if self.pace is not None:
                due = start + n * self.pace
                while True:
                    left = due - time.perf_counter()
                    if left <= 0:
                        break
                    time.sleep(left if left > 0.0005 else 0)
            t = time.perf_counter()
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view):]
            self.sent[code] = t


def figures(writer: Writer, arrived: dict[str, float]) -> dict:
    """scans/s from the first write to the last line added, and the latencies write → line added."""
    missing = [c for c in writer.codes if c not in arrived]
    if missing:
        raise SystemExit(f"{len(missing)} scans never arrived, e.g. {missing[:3]}")
    lat = [arrived[c] - writer.sent[c] for c in writer.codes]
    span = max(arrived[c] for c in writer.codes) - writer.first
    return {"rate": len(writer.codes) / span, "lat": lat}


# -- the app -------------------------------------------------------------------------------------------------

async def run_app(home: Path) -> dict:
    from app.cli import _engine_for, setup_logging
    from app.config import load_settings
    from app.screens.sale import SaleScreen
    from app.tui import make_app
    from data import drafts

    pty = PtyPair()
    setup_logging(home)
    settings = load_settings(home)
    settings.scanner.port = pty.path
    settings.printer.kind = "none"
    engine = _engine_for(settings)
    app = make_app(settings, engine=engine)
    out: dict = {}
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await login(pilot)
            assert isinstance(screen, SaleScreen), type(screen)
            await wait_until(pilot, lambda: app.scanner_state == "connected", timeout=10, what="the scanner")
            read_at: dict[str, float] = {}  # the reader thread split the code out (then posts ScanArrived)
            called_at: dict[str, float] = {}  # TillApp._scan called enter_code
            arrived: dict[str, float] = {}  # enter_code returned True: the line is in the cart and table
            failed: list[tuple[str, str]] = []
            lines = [0]
            target = [0]
            done = asyncio.Event()
            original = screen.enter_code

            def enter_code(raw: str, *, from_scanner: bool = False) -> bool:
                t0 = time.perf_counter()
                added = original(raw, from_scanner=from_scanner)
                t = time.perf_counter()
                if not added:
                    failed.append((raw, screen.status.text))
                    done.set()
                    return added
                called_at[raw], arrived[raw] = t0, t
                lines[0] += 1
                if lines[0] % RESET_EVERY == 0:
                    drafts.discard(engine, screen.cart.uid)
                    screen._new_sale()
                if len(arrived) >= target[0]:
                    done.set()
                return added

            screen.enter_code = enter_code  # what TillApp._scan calls for a serial scan
            post = app.scanner.on_scan

            def on_scan(code: str) -> None:
                read_at[code] = time.perf_counter()
                post(code)

            app.scanner.on_scan = on_scan  # ScannerReader._read calls self.on_scan(code)

            # Frames: the screen's layout refresh and compositor refresh (the paint), outermost calls
            # only, to show how long each holds the event loop.
            frames: list[tuple[float, float]] = []
            depth = [0]

            def timed(fn):
                def wrapper(*args, **kw):
                    depth[0] += 1
                    t0 = time.perf_counter()
                    try:
                        return fn(*args, **kw)
                    finally:
                        depth[0] -= 1
                        if not depth[0]:
                            frames.append((t0, time.perf_counter() - t0))
                return wrapper

            from widgets.key_footer import KeyFooter

            footer = screen.query_one(KeyFooter)
            recomposed: list[float] = []
            footer_recompose = footer.recompose

            async def recompose() -> None:  # the Footer runs call_next(self.recompose) on a binding refresh
                t0 = time.perf_counter()
                await footer_recompose()
                recomposed.append(time.perf_counter() - t0)

            footer.recompose = recompose
            screen._refresh_layout = timed(screen._refresh_layout)
            screen._compositor_refresh = timed(screen._compositor_refresh)

            async def phase(name: str, codes: list[str], pace: float | None) -> None:
                for d in (read_at, called_at, arrived):
                    d.clear()
                lines[0] = 0
                target[0] = len(codes)
                done.clear()
                writer = Writer(pty.master, codes, pace)
                writer.start()
                # An Event set by the wrapper, not a polling pilot.pause(): that walks every widget of
                # the screen each time and would compete with the scans for the event loop.
                try:
                    await asyncio.wait_for(done.wait(), PHASE_TIMEOUT)
                except TimeoutError:
                    raise SystemExit(f"{name}: timed out after {PHASE_TIMEOUT:.0f} s, {len(arrived)} of "
                                     f"{len(codes)} scans reached the cart") from None
                writer.join(5)
                if failed:
                    raise SystemExit(f"scan {failed[0][0]} added no line: {failed[0][1]!r}")
                if len(screen.cart.lines) != len(codes) % RESET_EVERY:
                    raise SystemExit(f"cart has {len(screen.cart.lines)} lines, expected {len(codes) % RESET_EVERY}")
                res = figures(writer, arrived)
                res["split"] = [(read_at[c] - writer.sent[c], called_at[c] - read_at[c], arrived[c] - called_at[c])
                                for c in codes]
                end = max(arrived.values())
                res["frames"] = [d for t, d in frames if writer.first <= t <= end]
                res["recomposed"] = list(recomposed)
                recomposed.clear()
                out[name] = res
                if screen.cart.lines:
                    drafts.discard(engine, screen.cart.uid)
                    screen._new_sale()
                await pilot.pause()

            app.app_focus = False  # see the module docstring
            for name, codes, pace in phases():
                await phase(name, codes, pace)
            # For information: terminal focused, footer live (it recomposes on the first line of each
            # sale and on each reset).
            app.app_focus = True
            await pilot.pause()
            await phase(*FOCUSED)
    finally:
        pty.close()
        engine.dispose()
    return out


# -- the baseline --------------------------------------------------------------------------------------------

def run_bare() -> dict:
    import serial

    pty = PtyPair()
    port = serial.Serial(pty.path, timeout=0.2)
    arrived: dict[str, float] = {}
    halt = threading.Event()

    def reader() -> None:
        buffer = b""
        while not halt.is_set():
            data = port.read(port.in_waiting or 1)
            if not data:
                continue
            buffer += data
            *parts, buffer = buffer.split(b"\r")
            t = time.perf_counter()
            for raw in parts:
                arrived[raw.decode()] = t

    thread = threading.Thread(target=reader, name="bare-reader", daemon=True)
    thread.start()
    out = {}
    try:
        for name, codes, pace in phases():
            arrived.clear()
            writer = Writer(pty.master, codes, pace)
            writer.start()
            deadline = time.perf_counter() + PHASE_TIMEOUT
            while len(arrived) < len(codes) and time.perf_counter() < deadline:
                time.sleep(0.005)
            writer.join(5)
            out[name] = figures(writer, dict(arrived))
    finally:
        halt.set()
        port.cancel_read()
        thread.join(2)
        port.close()
        pty.close()
    return out


def main() -> int:
    header(f"serial_scan: scans over a pty → cart lines (a new sale every {RESET_EVERY}), 100,000 products")
    load()
    home = work_copy("serial-scan")
    t = time.perf_counter()
    bare = run_bare()
    t_bare = time.perf_counter() - t
    t = time.perf_counter()
    app = asyncio.run(run_app(home))
    t_app = time.perf_counter() - t

    p = lambda xs, q: fmt_ms(percentile(xs, q))  # noqa: E731
    lat = lambda r: f"p50 {p(r['lat'], 50)}  p90 {p(r['lat'], 90)}  p99 {p(r['lat'], 99)}  max {p(r['lat'], 100)}"  # noqa: E731
    b, a = bare["burst"], app["burst"]
    print(f"  burst, {SCANS} back to back   app  {a['rate']:,.0f} scans/s   latency {lat(a)}  (queueing)")
    print(f"                             bare {b['rate']:,.0f} scans/s   latency {lat(b)}")
    for name, what in (("paced", f"{SCANS} at one per {PACE_MS:g} ms"), ("human", f"{HUMAN_SCANS} at one per {HUMAN_MS:g} ms")):
        print(f"  {what:<27} app  latency {lat(app[name])}")
        print(f"  {'':<27} bare latency {lat(bare[name])}")
        split = app[name]["split"]
        parts = [f"{label} p50 {p([s[k] for s in split], 50)} p99 {p([s[k] for s in split], 99)}"
                 for k, label in enumerate(("tty+reader thread", "waiting in the event loop", "enter_code"))]
        print(f"  {'':<27}      app split: {'; '.join(parts)}")
        fr = app[name]["frames"]
        if fr:
            busy = sum(fr) * app[name]["rate"] / len(app[name]["lat"])
            print(f"  {'':<27}      frames (layout+paint): {len(fr)}, each p50 {p(fr, 50)}  p90 {p(fr, 90)}  "
                  f"max {p(fr, 100)}; {busy:.0%} of the phase's wall time")
    f = app["focused"]
    print(f"  terminal focused, footer live ({FOCUSED_SCANS} at one per {PACE_MS:g} ms): latency {lat(f)}")
    rc = f["recomposed"]
    if rc:
        print(f"  {'':<27}      footer recomposed {len(rc)}× (first line of a sale, new sale), each p50 "
              f"{p(rc, 50)}  max {p(rc, 100)}; unfocused phases: "
              f"{sum(len(app[n]['recomposed']) for n in ('burst', 'paced', 'human'))}×")
    print(f"  (app part took {t_app:.1f} s, baseline {t_bare:.1f} s)")
    report("serial scans/s (pty, 1,000 back to back)", f"{a['rate']:,.0f} scans/s", f"{b['rate']:,.0f} scans/s",
           b["rate"] / a["rate"], "≥ 200 scans/s", a["rate"] >= 200, note="ratio = baseline ÷ app")
    pa, pb = app["paced"]["lat"], bare["paced"]["lat"]
    report(f"serial scan → cart line p99 (pty, one per {PACE_MS:g} ms)",
           f"{p(pa, 99)} (p50 {p(pa, 50)})", f"{p(pb, 99)} (p50 {p(pb, 50)})",
           percentile(pa, 99) / percentile(pb, 99), "p99 < 20 ms", percentile(pa, 99) < 0.020)
    ha, hb = app["human"]["lat"], bare["human"]["lat"]
    report(f"serial scan → cart line p99 (pty, one per {HUMAN_MS:g} ms)",
           f"{p(ha, 99)} (p50 {p(ha, 50)})", f"{p(hb, 99)} (p50 {p(hb, 50)})",
           percentile(ha, 99) / percentile(hb, 99), "–", None, note=f"n={len(ha)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
