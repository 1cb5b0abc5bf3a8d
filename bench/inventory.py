"""Item inventory: data.orders.inventory for an item with 10,000 reservation journal rows against a
raw sqlite3 SUM over the same rows.

A copy of the 100,000-product demo database gets 5,000 one-line orders of one item (CF-001), written
with Core executemany: 2,500 still open (reserve 2, then "quantity down" release 1) and 2,500
delivered (reserve 1, consume 1): 10,000 journal rows, 2,500 open orders holding 2,500 units, and
stock_level.reserved set to that sum (checked against both sides). The figure is the median of 20
calls of inventory(engine, "CF-001") (on hand, reserved and available per store, the open orders
holding it, the latest 50 journal rows); the baseline, alternating in the same run, is the raw
`SELECT store_id, sum(±quantity) … WHERE sku = ? GROUP BY store_id` alone.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import fmt_ms, header, load, median, report, work_copy  # noqa: E402

ORDERS = 5_000
RUNS = 20
SKU = "CF-001"
TARGET = 0.100
RAW_SQL = ("SELECT store_id, sum(CASE WHEN kind = 'reserve' THEN quantity ELSE -quantity END) "
           "FROM reservation_entry WHERE sku = ? GROUP BY store_id")


def seed(engine, place) -> Decimal:
    from sqlalchemy import select, update

    from data.db import writer
    from data.models import (CustomerOrder, CustomerOrderLine, OrderSeries, Product, ReservationEntry,
                             StockLevel)
    from data.orders import format_order_number

    with engine.connect() as conn:
        pid, name, price, vat = conn.execute(select(Product.id, Product.name, Product.price, Product.vat_rate)
                                             .where(Product.sku == SKU)).one()
    start = datetime.now(UTC) - timedelta(days=30)
    o_rows, l_rows, j_rows = [], [], []
    held = Decimal(0)
    for n in range(ORDERS):
        oid, at = n + 1, start + timedelta(minutes=n)
        delivered = n % 2 == 1
        qty = Decimal(1)
        o_rows.append({"id": oid, "number": format_order_number(place.store_id, n + 1), "store_id": place.store_id,
                       "fulfil_store": place.store_id, "status": "delivered" if delivered else "open",
                       "source": "till", "external_id": None, "customer_name": f"Customer {n}",
                       "customer_phone": "", "member_phone": None, "delivery_method": "pickup",
                       "delivery_address": "", "expected_date": None, "comments": "", "currency": place.currency,
                       "prices_include_vat": True, "basket_discount": {}, "total": price, "paid": Decimal(0),
                       "applied": Decimal(0), "version": 2, "created_by": "9", "created_at": at, "updated_at": at,
                       "closed_at": at if delivered else None})
        l_rows.append({"id": oid, "order_id": oid, "line_no": 1, "sku": SKU, "barcode": None, "name": name,
                       "quantity": qty, "picked": qty if delivered else Decimal(0),
                       "status": "delivered" if delivered else "open", "unit_price": price, "original_price": price,
                       "vat_rate": vat, "discount": {}})
        first = {"order_id": oid, "line_id": oid, "store_id": place.store_id, "sku": SKU, "operator": "9", "at": at}
        if delivered:
            j_rows += [{**first, "kind": "reserve", "quantity": qty, "note": ""},
                       {**first, "kind": "consume", "quantity": qty, "note": "picked up"}]
        else:
            j_rows += [{**first, "kind": "reserve", "quantity": qty + 1, "note": ""},
                       {**first, "kind": "release", "quantity": Decimal(1), "note": "quantity down"}]
            held += qty
    with writer(engine).begin() as conn:
        conn.execute(CustomerOrder.__table__.insert(), o_rows)
        conn.execute(CustomerOrderLine.__table__.insert(), l_rows)
        conn.execute(ReservationEntry.__table__.insert(), j_rows)
        conn.execute(OrderSeries.__table__.insert().values(store_id=place.store_id, next_number=ORDERS + 1))
        conn.execute(update(StockLevel.__table__).where(StockLevel.store_id == place.store_id,
                                                        StockLevel.product_id == pid).values(reserved=held, on_hand=Decimal(10_000)))
    return held


def main() -> int:
    header(f"inventory: inventory() of an item with {2 * ORDERS:,} journal rows vs raw sqlite3 SUM, "
           "100,000-product demo db")
    load()
    home = work_copy("inventory")
    from app.cli import _engine_for
    from app.config import load_settings
    from app.tui import place_from_settings
    from data.orders import inventory

    settings = load_settings(home)
    engine = _engine_for(settings)
    place = place_from_settings(settings, engine)
    held = seed(engine, place)
    raw = sqlite3.connect(home / "till.db")
    raw.execute("PRAGMA journal_mode=WAL")
    inv = inventory(engine, SKU)
    raw_rows = raw.execute(RAW_SQL, (SKU,)).fetchall()
    rows = raw.execute("SELECT count(*) FROM reservation_entry WHERE sku = ?", (SKU,)).fetchone()[0]
    level = raw.execute("SELECT reserved FROM stock_level WHERE store_id = ? AND product_id = "
                        "(SELECT id FROM product WHERE sku = ?)", (place.store_id, SKU)).fetchone()[0]
    here = next(s for s in inv.stores if s.store_id == place.store_id)
    if not (here.reserved == held == Decimal(raw_rows[0][1]).scaleb(-3) == Decimal(level).scaleb(-3)
            and len(inv.holdings) == ORDERS // 2 and rows == 2 * ORDERS):
        raise SystemExit(f"inventory and the baseline disagree: {here}, {raw_rows}, {level}, {len(inv.holdings)}")
    print(f"  {rows:,} journal rows; reserved {here.reserved} (= Σ journal = stock_level.reserved), on hand "
          f"{here.on_hand}, available {here.available}; {len(inv.holdings):,} open orders hold it")
    app_times, raw_times = [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        inventory(engine, SKU)
        app_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        raw.execute(RAW_SQL, (SKU,)).fetchall()
        raw_times.append(time.perf_counter() - t)
    raw.close()
    engine.dispose()
    am, rm = median(app_times), median(raw_times)
    report(f"item inventory ({rows:,} journal rows, {len(inv.holdings):,} holding orders, median of {RUNS})",
           fmt_ms(am), fmt_ms(rm), am / rm, "< 100 ms", am < TARGET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
