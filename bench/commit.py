"""Sale commit: data.sales.commit_sale against raw sqlite3 doing the same writes.

500 sales of 3 lines each (distinct products, quantities 1-3, paid in cash or by card), built like
data/demo.py _seed_sales builds them: a Cart, price_cart, a PaymentState with one tender. The app side
calls commit_sale(engine, place, cashier, cart, payment) on its own copy of the 100,000-product demo
database; the baseline runs on another copy with the app's pragmas (WAL, synchronous=NORMAL,
foreign_keys=ON, busy_timeout, wal_autocheckpoint) and, per sale: BEGIN IMMEDIATE, UPDATE receipt_series … RETURNING,
INSERT sale, 3 × INSERT sale_line, 3 × UPDATE stock_level, 3 × INSERT stock_move, INSERT payment,
DELETE FROM cart_draft WHERE uid = ?, COMMIT. The baseline's values (scaled integers, timestamps) are
prepared before its clock starts; commit_sale prices the cart itself, which is part of what it costs.
Both databases are compared afterwards (sales, lines, money, stock) so the baseline does the same work.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt_ms, header, load, open_app, percentile, report, work_copy  # noqa: E402
from data.db import WAL_AUTOCHECKPOINT_PAGES  # noqa: E402

SALES = 500
LINES = 3
WARMUP = 10
BLOCK = 25


def money(v: Decimal) -> int:
    return int(Decimal(v).scaleb(4))


def qty(v: Decimal) -> int:
    return int(Decimal(v).scaleb(3))


def rate(v: Decimal) -> int:
    return int(Decimal(v).scaleb(2))


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def make_sales(engine, place, count: int, seed: int, prefix: str):
    """(cart, totals, payment) per sale, from the generated catalogue (ids 11..100,000)."""
    from sqlalchemy import select

    from data.cart import Cart
    from data.models import Barcode, Product
    from data.payments import CARD, CASH, PaymentState
    from data.pricing import price_cart

    rng = random.Random(seed)
    ids = sorted({rng.randint(11, 100_000) for _ in range(count * LINES * 2)})
    with engine.connect() as conn:
        rows = conn.execute(select(Product.id, Product.sku, Product.name, Product.price, Product.vat_rate, Barcode.code)
                            .join(Barcode, Barcode.product_id == Product.id).where(Product.id.in_(ids))).all()
    catalogue = {r[0]: r for r in rows}
    pool = sorted(catalogue)
    out = []
    for n in range(count):
        cart = Cart(uid=f"{prefix}-{seed}-{n:06d}")
        for pid in rng.sample(pool, LINES):
            _, sku, name, price, vat, code = catalogue[pid]
            cart.add(product_id=pid, sku=sku, name=name, price=price, vat_rate=vat,
                     quantity=Decimal(rng.randint(1, 3)), barcode=code)
        totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
        payment = PaymentState(totals.total, place.currency, place.cash_rounding)
        payment.apply(CASH if n % 3 else CARD)
        out.append((cart, totals, payment))
    return out


def raw_rows(place, cashier_id: int, sales: list) -> list[tuple]:
    """Everything the raw loop binds, prepared in advance."""
    out = []
    for cart, totals, payment in sales:
        now = stamp(datetime.now(UTC))
        sale = [cart.uid, "sale", place.store_id, place.terminal_id, cashier_id, cart.member_id, "", now,
                place.currency, int(place.prices_include_vat), money(totals.subtotal), money(totals.discount_total),
                money(totals.vat), money(totals.total), money(payment.rounding), money(payment.paid),
                money(payment.change)]
        lines = [(no, line.product_id, line.sku, line.barcode, line.name, qty(line.quantity), money(line.unit_price),
                  money(line.original_price), money(lt.line_discount), money(lt.basket_discount), rate(line.vat_rate),
                  money(lt.vat), money(lt.total))
                 for no, (line, lt) in enumerate(zip(cart.lines, totals.lines), start=1)]
        stock = [(qty(-line.quantity), line.product_id) for line in cart.lines]
        pays = [(t.tender, money(t.amount), money(t.tendered), money(t.change), t.reference) for t in payment.tenders]
        out.append((cart.uid, sale, lines, stock, pays, now))
    return out


SQL_SERIES = "UPDATE receipt_series SET next_number = next_number + 1 WHERE terminal_id = ? RETURNING next_number"
SQL_SALE = ("INSERT INTO sale (uid, kind, receipt_number, store_id, terminal_id, operator_id, member_id, reason, "
            "created_at, currency, prices_include_vat, subtotal, discount_total, vat_total, total, rounding, "
            "paid_total, change_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
SQL_LINE = ("INSERT INTO sale_line (sale_id, line_no, product_id, sku, barcode, name, quantity, unit_price, "
            "original_price, line_discount, basket_discount, vat_rate, vat_amount, total) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
SQL_STOCK = "UPDATE stock_level SET on_hand = on_hand + ? WHERE store_id = ? AND product_id = ?"
SQL_MOVE = ("INSERT INTO stock_move (store_id, product_id, quantity, reason, sale_id, created_at) "
            "VALUES (?, ?, ?, 'sale', ?, ?)")
SQL_PAY = "INSERT INTO payment (sale_id, tender, amount, tendered, change, reference) VALUES (?, ?, ?, ?, ?, ?)"
SQL_DRAFT = "DELETE FROM cart_draft WHERE uid = ?"


class RawTill:
    """The baseline: one sqlite3 connection with the app's pragmas, the statements listed above."""

    def __init__(self, home: Path, place, cashier_id: int) -> None:
        self.conn = sqlite3.connect(home / "till.db", isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=10000",
                       f"wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.place, self.cashier_id = place, cashier_id

    def commit(self, row) -> None:
        from data.sales import format_receipt_number

        uid, sale, lines, stock, pays, now = row
        store, place = self.place.store_id, self.place
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            number = cur.execute(SQL_SERIES, (place.terminal_id,)).fetchone()[0]
            receipt = format_receipt_number(store, place.terminal_code, number - 1)
            cur.execute(SQL_SALE, (sale[0], sale[1], receipt, *sale[2:]))
            sale_id = cur.lastrowid
            for line in lines:
                cur.execute(SQL_LINE, (sale_id, *line))
            for delta, product_id in stock:
                cur.execute(SQL_STOCK, (delta, store, product_id))
            for delta, product_id in stock:
                cur.execute(SQL_MOVE, (store, product_id, delta, sale_id, now))
            for pay in pays:
                cur.execute(SQL_PAY, (sale_id, *pay))
            cur.execute(SQL_DRAFT, (uid,))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()


def run(app_home: Path, raw_home: Path) -> tuple[list[float], list[float]]:
    """Both sides in alternating blocks of BLOCK sales, so machine load hits them alike."""
    from data.sales import commit_sale

    engine, place, cashier = open_app(app_home)
    raw_engine, raw_place, raw_cashier = open_app(raw_home)  # same place rows on the baseline's copy
    raw_engine.dispose()
    warm = make_sales(engine, place, WARMUP, seed=1, prefix="warm")
    sales = make_sales(engine, place, SALES, seed=2, prefix="bench")
    raw = RawTill(raw_home, raw_place, raw_cashier.id)
    warm_rows, rows = raw_rows(raw_place, raw_cashier.id, warm), raw_rows(raw_place, raw_cashier.id, sales)
    for (cart, _totals, payment), row in zip(warm, warm_rows):
        commit_sale(engine, place, cashier, cart, payment)
        raw.commit(row)
    app_times, raw_times = [], []
    for start in range(0, SALES, BLOCK):
        for cart, _totals, payment in sales[start:start + BLOCK]:
            t0 = time.perf_counter()
            commit_sale(engine, place, cashier, cart, payment)
            app_times.append(time.perf_counter() - t0)
        for row in rows[start:start + BLOCK]:
            t0 = time.perf_counter()
            raw.commit(row)
            raw_times.append(time.perf_counter() - t0)
    raw.close()
    engine.dispose()
    return app_times, raw_times


def summary(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("SELECT count(*), sum(total), sum(vat_total), sum(paid_total), sum(rounding), "
                         "max(receipt_number) FROM sale").fetchone(),
            conn.execute("SELECT count(*), sum(total), sum(quantity) FROM sale_line").fetchone(),
            conn.execute("SELECT count(*), sum(amount) FROM payment").fetchone(),
            conn.execute("SELECT count(*), sum(quantity) FROM stock_move").fetchone(),
            conn.execute("SELECT sum(on_hand) FROM stock_level").fetchone(),
        )
    finally:
        conn.close()


def main() -> int:
    header(f"commit: {SALES} sales × {LINES} lines, commit_sale vs raw sqlite3, 100,000-product demo db")
    load()
    app_home, raw_home = work_copy("commit-app"), work_copy("commit-raw")
    app_times, raw_times = run(app_home, raw_home)
    a, r = summary(app_home / "till.db"), summary(raw_home / "till.db")
    if a != r:
        raise SystemExit(f"the baseline did not write what commit_sale wrote:\n  app {a}\n  raw {r}")
    print(f"  both databases agree: {a[0][0]} sales, {a[1][0]} lines, {a[2][0]} payments, {a[3][0]} stock moves")
    am = sum(app_times) / len(app_times)
    rm = sum(raw_times) / len(raw_times)
    p = lambda xs, q: fmt_ms(percentile(xs, q))  # noqa: E731
    print(f"  commit_sale: mean {fmt_ms(am)}  p50 {p(app_times, 50)}  p99 {p(app_times, 99)}  "
          f"({len(app_times) / sum(app_times):.0f} sales/s)")
    print(f"  raw sqlite3: mean {fmt_ms(rm)}  p50 {p(raw_times, 50)}  p99 {p(raw_times, 99)}  "
          f"({len(raw_times) / sum(raw_times):.0f} sales/s)")
    report("sale commit (per sale, mean)", fmt_ms(am), fmt_ms(rm), am / rm, "≤ 3×", am / rm <= 3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
