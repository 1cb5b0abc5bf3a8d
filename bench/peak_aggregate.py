"""PEAK daily "POS Customer" entry: data.peak.daily_document over 50,000 sales of one business day
against a raw sqlite3 SELECT of the same sale lines.

A copy of the 100,000-product demo database gets 50,000 sales of one business day (two days ago, from
00:00:30 to 23:59 Bangkok time) written in one transaction with Core executemany: 1-4 lines of the first
500 products (which get PEAK codes P-<sku>), quantities 1-3, a 1.00 line discount on every seventh
line, cash or card. The figure is the median of 5 builds of the day's entry (after one warm-up): the
SQL aggregate by (product, VAT rate, unit price), the product codes, the lines combined by (code, VAT,
price), the totals assert, VAT per receipt against VAT on the lines, tenders. The baseline, measured in
the same run on the same file, is a raw sqlite3 connection SELECTing the same sale lines (the rows the
entry is made of) without doing anything with them. Both are checked against the sums written.
Target (issue 5): under 2 s.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt_ms, header, load, median, open_app, report, work_copy  # noqa: E402

SALES = 50_000
RUNS = 5
TARGET_SECONDS = 2.0
BKK = ZoneInfo("Asia/Bangkok")


def seed(engine, place, cashier, day, count: int, seed: int = 13) -> dict:
    from sqlalchemy import func, insert, select, text, update

    from data.db import writer
    from data.models import Payment, Product, ReceiptSeries, Sale, SaleLine
    from data.money import ZERO, round_money
    from data.pricing import cash_due, line_vat
    from data.sales import format_receipt_number

    currency, unit, inclusive = place.currency, place.cash_rounding, place.prices_include_vat
    start = datetime(day.year, day.month, day.day, 0, 0, 30, tzinfo=BKK).astimezone(UTC)
    step = (timedelta(hours=24) - timedelta(minutes=2)) / count
    with engine.connect() as conn:
        catalogue = conn.execute(select(Product.id, Product.sku, Product.name, Product.price, Product.vat_rate)
                                 .where(Product.id <= 500).order_by(Product.id)).all()
        first_id = (conn.execute(select(func.max(Sale.id))).scalar() or 0) + 1
        first_number = conn.execute(select(ReceiptSeries.next_number)
                                    .where(ReceiptSeries.terminal_id == place.terminal_id)).scalar_one()
    rng = random.Random(seed)
    sales, lines, payments = [], [], []
    sums = {"total": ZERO, "lines": 0, "discount": ZERO}
    for n in range(count):
        sale_id, at = first_id + n, start + step * n
        total = vat_total = discount = round_money(ZERO, currency)
        for no, (pid, sku, name, price, rate) in enumerate(rng.sample(catalogue, rng.randint(1, 4)), start=1):
            qty = Decimal(rng.randint(1, 3))
            gross = round_money(qty * price, currency)
            ld = Decimal("1.00") if (sums["lines"] % 7 == 0 and gross > 1) else ZERO
            line_total = gross - ld
            vat = line_vat(line_total, rate, inclusive, currency)
            total += line_total
            vat_total += vat
            discount += ld
            sums["lines"] += 1
            lines.append({"sale_id": sale_id, "line_no": no, "product_id": pid, "sku": sku, "barcode": None,
                          "name": name, "quantity": qty, "unit_price": price, "original_price": price,
                          "line_discount": ld, "basket_discount": ZERO, "vat_rate": rate, "vat_amount": vat,
                          "total": line_total, "refund_of_line_id": None})
        tender = "cash" if n % 3 else "card"
        paid = cash_due(total, unit, currency) if tender == "cash" else total
        sales.append({"id": sale_id, "uid": f"bench-peak-{n:06d}", "kind": "sale",
                      "receipt_number": format_receipt_number(place.store_id, place.terminal_code, first_number + n),
                      "store_id": place.store_id, "terminal_id": place.terminal_id, "operator_id": cashier.id,
                      "member_id": None, "refund_of_id": None, "authorised_by_id": None, "reason": "",
                      "created_at": at, "currency": currency, "prices_include_vat": inclusive, "subtotal": total,
                      "discount_total": discount, "vat_total": vat_total, "total": total, "rounding": paid - total,
                      "paid_total": paid, "change_total": ZERO})
        payments.append({"sale_id": sale_id, "tender": tender, "amount": paid, "tendered": paid, "change": ZERO,
                         "reference": ""})
        sums["total"] += total
        sums["discount"] += discount
    with writer(engine).begin() as conn:
        conn.execute(insert(Sale.__table__), sales)
        conn.execute(insert(SaleLine.__table__), lines)
        conn.execute(insert(Payment.__table__), payments)
        conn.execute(update(ReceiptSeries.__table__).where(ReceiptSeries.terminal_id == place.terminal_id)
                     .values(next_number=first_number + count))
        conn.execute(text("UPDATE product SET external_ids = json_object('peak', 'P-' || sku) WHERE id <= 500"))
    sums["through"] = first_id + count - 1
    return sums


SQL_LINES = ("SELECT l.product_id, l.vat_rate, l.unit_price, l.quantity, l.line_discount, l.basket_discount, "
             "l.total FROM sale_line l JOIN sale s ON s.id = l.sale_id WHERE s.store_id = ? AND s.kind = 'sale' "
             "AND s.member_id IS NULL AND s.total != 0 AND s.created_at >= ? AND s.created_at < ? "
             "AND s.id > ? AND s.id <= ?")


def raw_lines(conn: sqlite3.Connection, store: str, start: datetime, end: datetime, through: int) -> list:
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    return conn.execute(SQL_LINES, (store, start.astimezone(UTC).strftime(fmt), end.astimezone(UTC).strftime(fmt),
                                    0, through)).fetchall()


def main() -> int:
    from data import peak

    header(f"peak_aggregate: the daily POS Customer entry over {SALES:,} sales vs a raw sqlite3 SELECT of the "
           "same lines, 100,000-product demo db")
    load()
    home = work_copy("peak-aggregate")
    engine, place, cashier = open_app(home)
    day = (datetime.now(BKK) - timedelta(days=2)).date()
    t0 = time.perf_counter()
    sums = seed(engine, place, cashier, day, SALES)
    print(f"  seeded {SALES:,} sales, {sums['lines']:,} lines of {day} in {time.perf_counter() - t0:.1f} s")
    cfg = peak.PeakConfig(connector="peak", branch=place.store_id, timezone=place.timezone,
                          pos_customer_code="POS-CUST")
    payload = {"business_date": day.isoformat(), "supplement": 0, "after_sale_id": 0,
               "through_sale_id": sums["through"]}
    start, end = peak.day_bounds(day, place.timezone)
    raw = sqlite3.connect(home / "till.db")
    doc = peak.daily_document(engine, cfg, payload, "bench")  # warm-up, both sides
    rows = raw_lines(raw, place.store_id, start, end, sums["through"])
    raw_total = sum((Decimal(r[6]).scaleb(-4) for r in rows), Decimal(0))
    problems = []
    if doc.info["sales"] != SALES:
        problems.append(f"sales {doc.info['sales']} != {SALES}")
    if peak.document_total(doc.body["products"]) != sums["total"] or Decimal(doc.info["total"]) != sums["total"]:
        problems.append(f"entry total {doc.info['total']} != {sums['total']}")
    if len(rows) != sums["lines"] or raw_total != sums["total"]:
        problems.append(f"baseline {len(rows)} lines / {raw_total} != {sums['lines']} / {sums['total']}")
    if problems:
        raise SystemExit("the entry and the baseline disagree: " + "; ".join(problems))
    print(f"  entry, baseline and seeding agree: {SALES:,} sales, {len(doc.body['products'])} combined lines, "
          f"total {doc.info['total']} THB, discounts {sums['discount']}, VATΔ {doc.info['vat_delta']}")
    app_times, raw_times = [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        peak.daily_document(engine, cfg, payload, "bench")
        app_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        raw_lines(raw, place.store_id, start, end, sums["through"])
        raw_times.append(time.perf_counter() - t)
    raw.close()
    engine.dispose()
    am, rm = median(app_times), median(raw_times)
    print("  daily_document: " + "  ".join(fmt_ms(t) for t in app_times) + f"  → median {fmt_ms(am)}")
    print("  raw SELECT:     " + "  ".join(fmt_ms(t) for t in raw_times) + f"  → median {fmt_ms(rm)}")
    report(f"PEAK daily entry ({SALES:,} sales, median of {RUNS})", fmt_ms(am), fmt_ms(rm), am / rm, "< 2 s",
           am < TARGET_SECONDS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
