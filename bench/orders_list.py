"""Orders list: data.orders.list_orders over 10,000 customer orders against raw sqlite3.

A copy of the 100,000-product demo database gets 10,000 demo orders (data.demo.seed_orders: mixed
statuses, 60 days). Figures: the first page (no filter, newest 200, as the orders dialog opens) p50
of 30 calls, and the filter keystroke p95: list_orders(OrderFilter.parse(text)) for every prefix of
a few typed searches (a customer name, a phone typed the local way, an order number, a status token
with a name), 10 rounds. The baseline, alternating with the app in the same run on the same file, is
a raw sqlite3 connection running the same SELECT (and the count when the page is full).
"""

from __future__ import annotations

import re
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt_ms, header, load, median, percentile, report, work_copy  # noqa: E402

ORDERS = 10_000
LIMIT = 200
TYPED = [("", "Wichai"), ("", "0812345679"), ("", "ORD-BKK01-0042"), ("status:open ", "Anong")]
OPEN_TARGET, KEY_TARGET = 0.300, 0.050
COLS = ("id, number, status, store_id, fulfil_store, customer_name, customer_phone, created_at, expected_date, "
        "total, paid, applied, source")


def raw_list(conn: sqlite3.Connection, query: str) -> tuple[list, int]:
    where, args = [], []
    words = []
    for w in query.split():
        if w.startswith("status:"):
            where.append("status = ?")
            args.append(w[7:])
        else:
            words.append(w)
    text = " ".join(words)
    if text:
        like = f"%{text}%"
        conds = ["lower(number) LIKE lower(?)", "lower(customer_name) LIKE lower(?)", "lower(external_id) LIKE lower(?)"]
        args += [like, like, like]
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 3:
            conds.append("customer_phone LIKE ?")
            args.append(f"%{digits[1:] if digits.startswith('0') else digits}%")
        where.append("(" + " OR ".join(conds) + ")")
    sql_where = (" WHERE " + " AND ".join(where)) if where else ""
    rows = conn.execute(f"SELECT {COLS} FROM customer_order{sql_where} ORDER BY id DESC LIMIT {LIMIT}", args).fetchall()
    count = len(rows) if len(rows) < LIMIT else conn.execute(f"SELECT count(*) FROM customer_order{sql_where}",
                                                             args).fetchone()[0]
    return rows, count


def main() -> int:
    header(f"orders_list: list_orders over {ORDERS:,} customer orders vs raw sqlite3, 100,000-product demo db")
    load()
    home = work_copy("orders_list")
    from app.cli import _engine_for
    from app.config import load_settings
    from app.tui import place_from_settings
    from data.demo import seed_orders
    from data.orders import OrderFilter, list_orders

    settings = load_settings(home)
    engine = _engine_for(settings)
    place = place_from_settings(settings, engine)
    t0 = time.perf_counter()
    seed_orders(engine, place, ORDERS)
    print(f"  seeded {ORDERS:,} orders in {time.perf_counter() - t0:.1f} s")
    raw = sqlite3.connect(home / "till.db")
    raw.execute("PRAGMA journal_mode=WAL")

    # The two sides agree (same rows, same counts) before anything is timed.
    queries = [""] + [fixed + t[:n] for fixed, t in TYPED for n in range(1, len(t) + 1)]
    for q in queries:
        rows, count = list_orders(engine, OrderFilter.parse(q), limit=LIMIT)
        raw_rows, raw_count = raw_list(raw, q)
        if [r.number for r in rows] != [r[1] for r in raw_rows] or count != raw_count:
            raise SystemExit(f"list_orders and the baseline disagree on {q!r}: {count} vs {raw_count}")
    first_rows, first_count = list_orders(engine, OrderFilter(), limit=LIMIT)
    print(f"  first page: {len(first_rows)} of {first_count:,}; {len(queries) - 1} keystroke queries checked")

    app_open, raw_open = [], []
    for _ in range(30):
        t = time.perf_counter()
        list_orders(engine, OrderFilter(), limit=LIMIT)
        app_open.append(time.perf_counter() - t)
        t = time.perf_counter()
        raw_list(raw, "")
        raw_open.append(time.perf_counter() - t)
    app_keys, raw_keys = [], []
    for _ in range(10):
        for q in queries[1:]:
            t = time.perf_counter()
            list_orders(engine, OrderFilter.parse(q), limit=LIMIT)
            app_keys.append(time.perf_counter() - t)
            t = time.perf_counter()
            raw_list(raw, q)
            raw_keys.append(time.perf_counter() - t)
    raw.close()
    engine.dispose()
    ao, ro = median(app_open), median(raw_open)
    ak, rk = percentile(app_keys, 95), percentile(raw_keys, 95)
    report(f"orders list first page ({ORDERS:,} orders, p50)", fmt_ms(ao), fmt_ms(ro), ao / ro,
           "p50 < 300 ms", ao < OPEN_TARGET)
    report(f"orders filter keystroke p95 ({len(app_keys)} queries)", f"{fmt_ms(ak)} (p50 {fmt_ms(median(app_keys))})",
           f"{fmt_ms(rk)} (p50 {fmt_ms(median(raw_keys))})", ak / rk, "p95 < 50 ms", ak < KEY_TARGET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
