"""Customer orders dialog (F8) over 10,000 orders: how long it takes to open, and each keystroke in
its search, on the real app (Pilot, headless, 120×40). Keys go in as the terminal delivers them and
the figure stops when the result is painted.

A copy of the 100,000-product demo database gets 10,000 demo orders (data.demo.seed_orders). The
cashier logs in; then, 15 times: F8 is pressed and the time until the list shows its first page and
the highlighted order's detail is measured (open), the search gets letters typed one at a time
(each key event posted to the search field as the terminal would deliver it, timed until the list
shows the new result and the frame is painted), and Escape closes it. A keystroke's figure covers
the query in a worker, the list rebuilt and the frame painted.

Baselines, measured in the same run: a bare Textual app pushing a screen with an empty DataTable
(open), and raw sqlite3 running the same page query for the same search texts (keystroke).
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (build_app, fmt_ms, header, load, login, median, painted, percentile, report,  # noqa: E402
                     wait_until, work_copy)

ORDERS = 10_000
OPENS = 15
SEARCHES = ["Som", "Ana", "0812", "ORD-BKK01-0001", "Kit"]
RAW_PAGE = ("SELECT id, number, status, store_id, fulfil_store, customer_name, customer_phone, created_at, "
            "expected_date, total, paid, applied, source FROM customer_order WHERE status IN ('open','ready','partial') "
            "AND (number LIKE ? OR customer_name LIKE ? OR customer_phone LIKE ?) ORDER BY id DESC LIMIT 100")


def seed(home: Path) -> None:
    from app.cli import _engine_for
    from app.config import load_settings
    from data.demo import seed_orders
    from app.tui import place_from_settings

    settings = load_settings(home)
    engine = _engine_for(settings)
    seed_orders(engine, place_from_settings(settings, engine), ORDERS)
    engine.dispose()


async def run_app(home: Path) -> tuple[list[float], list[float]]:
    from textual import events

    from app.screens.orders import OrdersScreen

    app, _ = build_app(home)
    opens, keys = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        sale = await login(pilot)
        for i in range(OPENS):
            start = time.perf_counter()
            # F8 as the terminal delivers it (the driver's queue). Pilot's press() would also wait until
            # the whole process is idle, workers included, which no cashier waits for.
            key = events.Key("f8", None)
            key.set_sender(app)
            app._driver.send_message(key)
            await wait_until(pilot, lambda: isinstance(app.screen, OrdersScreen) and app.screen.count > 0
                             and app.screen.detail is not None, what="the orders list")
            await painted(app)
            opens.append(time.perf_counter() - start)
            screen = app.screen
            await pilot.press("slash")
            search = screen.query_one("#orders-search")
            text = SEARCHES[i % len(SEARCHES)]
            for ch in text:
                seq = screen._seq
                start = time.perf_counter()
                # The key event as the terminal delivers it to the focused search field (Pilot's own
                # press() adds tens of milliseconds of waiting of its own).
                search.post_message(events.Key(ch, ch))
                await wait_until(pilot, lambda: screen._seq > seq and not _loading(screen), what="the filtered list")
                await painted(app)
                keys.append(time.perf_counter() - start)
            await pilot.press("enter", "escape")
            await wait_until(pilot, lambda: app.screen is sale, what="back to the sale")
    return opens, keys


def _loading(screen) -> bool:
    return any(w.group == "orders-load" and not w.is_finished for w in screen.app.workers)


async def run_bare() -> list[float]:
    from textual.app import App
    from textual.screen import Screen
    from textual.widgets import DataTable

    class Empty(Screen):
        def compose(self):
            yield DataTable()

    class Bare(App):
        pass

    times = []
    app = Bare()
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(OPENS):
            start = time.perf_counter()
            app.push_screen(Empty())
            await painted(app)
            times.append(time.perf_counter() - start)
            app.pop_screen()
            await pilot.pause()
    return times


def raw_keys(db: Path) -> list[float]:
    conn = sqlite3.connect(db)
    times = []
    for i in range(OPENS):
        text = SEARCHES[i % len(SEARCHES)]
        for n in range(1, len(text) + 1):
            like = f"%{text[:n]}%"
            start = time.perf_counter()
            conn.execute(RAW_PAGE, (like, like, like)).fetchall()
            times.append(time.perf_counter() - start)
    conn.close()
    return times


def main() -> None:
    header(f"Customer orders dialog over {ORDERS:,} orders (F8, 120x40)")
    load()
    home = work_copy("orders_dialog")
    seed(home)
    bare = asyncio.run(run_bare())
    opens, keys = asyncio.run(run_app(home))
    raw = raw_keys(home / "till.db")
    report("orders dialog open p50", fmt_ms(median(opens)), f"bare screen push {fmt_ms(median(bare))}",
           median(opens) / median(bare), "< 300 ms", median(opens) < 0.3)
    report("orders filter keystroke p95", fmt_ms(percentile(keys, 95)), f"raw sqlite3 {fmt_ms(percentile(raw, 95))}",
           percentile(keys, 95) / percentile(raw, 95), "< 50 ms", percentile(keys, 95) < 0.05)


if __name__ == "__main__":
    main()
