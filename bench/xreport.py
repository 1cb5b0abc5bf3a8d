"""X report: data.reports.x_report over 50,000 sales in one shift against raw sqlite3 aggregates.

A copy of the 100,000-product demo database gets a float (which opens the shift), then 50,000 sales
written in one transaction with Core executemany (sale, sale_line and payment rows; 1-4 lines of the
first 500 products, quantities 1-3, priced like data.pricing prices them with VAT included, paid in
cash (rounded to the store's 0.25 coin) or by card, like data/demo.py's past sales), receipt numbers
BKK01-T1-000001 .. 050000 without a gap and receipt_series.next_number set after them; then a cash in,
a cash out and a safe drop. Writing them through commit_sale one by one would take minutes.

The figure is the median of 5 calls of x_report(engine, place) after one warm-up call. The baseline,
measured in the same run on the same file (alternating with the app), is a raw sqlite3 connection
running the aggregate SQL the report needs: the last Z, sale counts and sums by kind, payments summed by
tender, sale lines summed by VAT rate, cash movements by kind. Its results are checked against the
report's figures and against the sums written while seeding. What the report does beyond the baseline:
SQLAlchemy building and typing the statements, decimals, and reading every receipt number of the period
to look for gaps.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt_ms, header, load, median, open_app, report, work_copy  # noqa: E402

SALES = 50_000
RUNS = 5
TARGET_SECONDS = 1.0
FLOAT = Decimal("2000")


def seed(engine, place, cashier, count: int, seed: int = 11) -> dict:
    """`count` sales of one shift in one transaction; returns the sums written, to check the report by."""
    from sqlalchemy import func, insert, select, update

    from data.cash import record_movement
    from data.models import Payment, Product, ReceiptSeries, Sale, SaleLine
    from data.money import ZERO, round_money
    from data.pricing import cash_due, line_vat
    from data.sales import format_receipt_number

    currency, unit, inclusive = place.currency, place.cash_rounding, place.prices_include_vat
    start = datetime.now(UTC) - timedelta(hours=12)
    record_movement(engine, place, cashier, "float", FLOAT, at=start - timedelta(minutes=5))
    with engine.connect() as conn:
        catalogue = conn.execute(select(Product.id, Product.sku, Product.name, Product.price, Product.vat_rate)
                                 .where(Product.id <= 500).order_by(Product.id)).all()
        first_id = (conn.execute(select(func.max(Sale.id))).scalar() or 0) + 1
        first_number = conn.execute(select(ReceiptSeries.next_number)
                                    .where(ReceiptSeries.terminal_id == place.terminal_id)).scalar_one()
    rng = random.Random(seed)
    sales, lines, payments = [], [], []
    sums = {"sale": ZERO, "cash": ZERO, "card": ZERO, "rounding": ZERO, "vat": ZERO, "lines": 0}
    step = timedelta(hours=12) / count
    for n in range(count):
        sale_id, at = first_id + n, start + step * n
        picked = rng.sample(catalogue, rng.randint(1, 4))
        total = vat_total = round_money(ZERO, currency)
        for no, (pid, sku, name, price, rate) in enumerate(picked, start=1):
            qty = Decimal(rng.randint(1, 3))
            line_total = round_money(qty * price, currency)
            vat = line_vat(line_total, rate, inclusive, currency)
            total += line_total
            vat_total += vat
            lines.append({"sale_id": sale_id, "line_no": no, "product_id": pid, "sku": sku, "barcode": None,
                          "name": name, "quantity": qty, "unit_price": price, "original_price": price,
                          "line_discount": ZERO, "basket_discount": ZERO, "vat_rate": rate, "vat_amount": vat,
                          "total": line_total, "refund_of_line_id": None})
        if not inclusive:
            total += vat_total
        tender = "cash" if n % 3 else "card"
        paid = cash_due(total, unit, currency) if tender == "cash" else total
        rounding = paid - total
        sales.append({"id": sale_id, "uid": f"bench-xreport-{n:06d}", "kind": "sale",
                      "receipt_number": format_receipt_number(place.store_id, place.terminal_code, first_number + n),
                      "store_id": place.store_id, "terminal_id": place.terminal_id, "operator_id": cashier.id,
                      "member_id": None, "refund_of_id": None, "authorised_by_id": None, "reason": "",
                      "created_at": at, "currency": currency, "prices_include_vat": inclusive, "subtotal": total,
                      "discount_total": ZERO, "vat_total": vat_total, "total": total, "rounding": rounding,
                      "paid_total": paid, "change_total": ZERO})
        payments.append({"sale_id": sale_id, "tender": tender, "amount": paid, "tendered": paid, "change": ZERO,
                         "reference": ""})
        sums["sale"] += total
        sums[tender] += paid
        sums["rounding"] += rounding
        sums["vat"] += vat_total
        sums["lines"] += len(picked)
    from data.db import writer

    with writer(engine).begin() as conn:
        conn.execute(insert(Sale.__table__), sales)
        conn.execute(insert(SaleLine.__table__), lines)
        conn.execute(insert(Payment.__table__), payments)
        conn.execute(update(ReceiptSeries.__table__).where(ReceiptSeries.terminal_id == place.terminal_id)
                     .values(next_number=first_number + count))
    end = start + timedelta(hours=12)
    record_movement(engine, place, cashier, "cash_in", Decimal("500"), reason="change from the bank", at=end)
    record_movement(engine, place, cashier, "cash_out", Decimal("120"), reason="ice delivery", at=end)
    record_movement(engine, place, cashier, "safe_drop", Decimal("10000"), at=end)
    sums["moves"] = FLOAT + 500 - 120 - 10000
    sums["first"] = format_receipt_number(place.store_id, place.terminal_code, first_number)
    sums["last"] = format_receipt_number(place.store_id, place.terminal_code, first_number + count - 1)
    return sums


SQL_LAST_Z = ("SELECT z_number, last_sale_id, last_movement_id, business_date, closed_at, report FROM day_close "
              "WHERE terminal_id = ? ORDER BY z_number DESC LIMIT 1")
SQL_SALES = ("SELECT count(CASE WHEN kind = 'sale' THEN 1 END), "
             "coalesce(sum(CASE WHEN kind = 'sale' THEN total END), 0), "
             "count(CASE WHEN kind = 'refund' THEN 1 END), coalesce(sum(CASE WHEN kind = 'refund' THEN total END), 0), "
             "coalesce(sum(CASE WHEN kind = 'sale' THEN discount_total END), 0), "
             "coalesce(sum(CASE WHEN kind = 'sale' THEN rounding ELSE -rounding END), 0), "
             "max(id), min(receipt_number), max(receipt_number), min(created_at) "
             "FROM sale WHERE terminal_id = ? AND id > ?")
SQL_TENDERS = ("SELECT p.tender, sum(CASE WHEN s.kind = 'refund' THEN -p.amount ELSE p.amount END) "
               "FROM payment p JOIN sale s ON s.id = p.sale_id WHERE s.terminal_id = ? AND s.id > ? "
               "GROUP BY p.tender ORDER BY p.tender")
SQL_VAT = ("SELECT l.vat_rate, sum((l.total - CASE WHEN s.prices_include_vat THEN l.vat_amount ELSE 0 END) "
           "* CASE WHEN s.kind = 'refund' THEN -1 ELSE 1 END), "
           "sum(l.vat_amount * CASE WHEN s.kind = 'refund' THEN -1 ELSE 1 END) "
           "FROM sale_line l JOIN sale s ON s.id = l.sale_id WHERE s.terminal_id = ? AND s.id > ? "
           "GROUP BY l.vat_rate ORDER BY l.vat_rate")
SQL_MOVES = ("SELECT kind, sum(amount) FROM cash_movement WHERE terminal_id = ? AND id > ? "
             "GROUP BY kind ORDER BY kind")


def raw_report(conn: sqlite3.Connection, terminal_id: int) -> dict:
    last = conn.execute(SQL_LAST_Z, (terminal_id,)).fetchone()
    after_sale, after_move = (last[1], last[2]) if last else (0, 0)
    sales = conn.execute(SQL_SALES, (terminal_id, after_sale)).fetchone()
    tenders = conn.execute(SQL_TENDERS, (terminal_id, after_sale)).fetchall()
    vat = conn.execute(SQL_VAT, (terminal_id, after_sale)).fetchall()
    moves = conn.execute(SQL_MOVES, (terminal_id, after_move)).fetchall()
    return {"sales": sales, "tenders": tenders, "vat": vat, "moves": moves}


def money(scaled: int) -> Decimal:
    return Decimal(scaled).scaleb(-4)


def check(doc, raw: dict, sums: dict) -> None:
    """The report, the raw SQL and the seeding agree, so both sides did the same work."""
    problems = []

    def same(what, a, b):
        if a != b:
            problems.append(f"{what}: {a!r} != {b!r}")

    s = raw["sales"]
    same("sales count", doc.sales_count, SALES)
    same("sales count (raw)", s[0], SALES)
    same("sales total", doc.sales_total, sums["sale"])
    same("sales total (raw)", money(s[1]), sums["sale"])
    same("rounding", doc.rounding_total, sums["rounding"])
    same("rounding (raw)", money(s[5]), sums["rounding"])
    same("tenders", dict(doc.tenders), {"card": sums["card"], "cash": sums["cash"]})
    same("tenders (raw)", {t: money(v) for t, v in raw["tenders"]}, dict(doc.tenders))
    same("vat", [(r, b, v) for r, b, v in doc.vat],
         [(Decimal(r).scaleb(-2), money(b), money(v)) for r, b, v in raw["vat"]])
    same("vat total", sum((v for _, _, v in doc.vat), Decimal(0)), sums["vat"])
    same("moves", dict(doc.cash_movements), {k: money(v) for k, v in raw["moves"]})
    same("expected cash", doc.expected_cash, sums["cash"] + sums["moves"])
    same("receipts", (doc.first_receipt, doc.last_receipt), (sums["first"], sums["last"]))
    same("receipts (raw)", (s[7], s[8]), (sums["first"], sums["last"]))
    same("gaps", doc.receipt_gaps, ())
    if problems:
        raise SystemExit("the X report and the baseline disagree:\n  " + "\n  ".join(problems))


def main() -> int:
    header(f"xreport: x_report over {SALES:,} sales in one shift vs raw sqlite3 aggregates, 100,000-product demo db")
    load()
    home = work_copy("xreport")
    engine, place, cashier = open_app(home)
    t0 = time.perf_counter()
    sums = seed(engine, place, cashier, SALES)
    seeded = time.perf_counter() - t0
    with sqlite3.connect(home / "till.db") as probe:
        next_number = probe.execute("SELECT next_number FROM receipt_series WHERE terminal_id = ?",
                                    (place.terminal_id,)).fetchone()[0]
    if next_number != SALES + 1:
        raise SystemExit(f"receipt_series.next_number is {next_number}, not {SALES + 1}")
    print(f"  seeded {SALES:,} sales, {sums['lines']:,} lines, {SALES:,} payments in {seeded:.1f} s "
          f"({sums['first']} .. {sums['last']}, next number {next_number})")

    from data.reports import x_report

    raw = sqlite3.connect(home / "till.db")
    raw.execute("PRAGMA journal_mode=WAL")
    doc = x_report(engine, place)  # warm-up, both sides
    raw_result = raw_report(raw, place.terminal_id)
    check(doc, raw_result, sums)
    print(f"  report, baseline and seeding agree: sales {doc.sales_total} THB, cash {dict(doc.tenders)['cash']}, "
          f"card {dict(doc.tenders)['card']}, expected cash {doc.expected_cash}, no receipt gaps")
    app_times, raw_times = [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        x_report(engine, place)
        app_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        raw_report(raw, place.terminal_id)
        raw_times.append(time.perf_counter() - t)
    raw.close()
    engine.dispose()
    am, rm = median(app_times), median(raw_times)
    print("  x_report:    " + "  ".join(fmt_ms(t) for t in app_times) + f"  → median {fmt_ms(am)}")
    print("  raw sqlite3: " + "  ".join(fmt_ms(t) for t in raw_times) + f"  → median {fmt_ms(rm)}")
    report(f"X report ({SALES:,} sales, median of {RUNS})", fmt_ms(am), fmt_ms(rm), am / rm, "< 1 s",
           am < TARGET_SECONDS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
