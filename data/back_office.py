"""What the back-office console reads from the site database: stores, sales per store and business
day, kept Z reports, stock per store with reservations. Read-only; the site's rows arrive from the
tills through the site connector (data/site_sync.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from data.models import DayClose, Product, Sale, StockLevel, Store, Terminal, TillStatus
from data.money import ZERO
from data.reports import business_date
from data.types import utcnow

_S = Sale.__table__


@dataclass(frozen=True)
class StoreRow:
    id: str
    name: str


def stores(engine: Engine) -> list[StoreRow]:
    with engine.connect() as conn:
        return [StoreRow(r.id, r.name) for r in conn.execute(select(Store.id, Store.name).order_by(Store.id))]


@dataclass(frozen=True)
class DaySales:
    business_date: str
    store_id: str
    receipts: int
    sales: Decimal
    refunds: Decimal
    deposits: Decimal
    vat: Decimal

    @property
    def net(self) -> Decimal:
        return self.sales - self.refunds


_summed = _S.c.total.type.of_aggregate  # SUM() of a money column


def day_bounds(day: date, timezone: str, cutoff: time = time(0, 0)) -> tuple[datetime, datetime]:
    """The UTC span of a business day in the store's timezone."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, cutoff, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), cutoff, tzinfo=zone)
    return start, end


def sales_by_day(engine: Engine, store_id: str | None, *, timezone: str, cutoff: time = time(0, 0), days: int = 14,
                 today: date | None = None) -> list[DaySales]:
    """Newest day first; one row per store and day that had receipts (every store when store_id is None).
    Each store's days follow its own time zone (the site's store row; `timezone` for a store it lacks),
    so a store in another zone is not dated by the head office's clock. One indexed range query per
    day and zone: exact at any timezone offset."""
    with engine.connect() as conn:
        q = select(Store.id, Store.timezone)
        if store_id:
            q = q.where(Store.id == store_id)
        zones: dict[str, list[str]] = {}
        for sid, zone in conn.execute(q):
            zones.setdefault(zone or timezone, []).append(sid)
        if store_id and not zones:
            zones[timezone] = [store_id]
        out: list[DaySales] = []
        for zone, ids in sorted(zones.items()):
            out += _sales_by_day_in(conn, ids, timezone=zone, cutoff=cutoff, days=days,
                                    today=today or business_date(utcnow(), zone, cutoff))
    out.sort(key=lambda d: (d.business_date, d.store_id))
    out.sort(key=lambda d: d.business_date, reverse=True)
    return out


def _sales_by_day_in(conn, store_ids: list[str], *, timezone: str, cutoff: time, days: int,
                     today: date) -> list[DaySales]:
    out: list[DaySales] = []
    for n in range(days):
        day = today - timedelta(days=n)
        start, end = day_bounds(day, timezone, cutoff)
        q = (select(_S.c.store_id, _S.c.kind, func.count(), func.sum(_S.c.total), func.sum(_S.c.vat_total))
             .where(_S.c.created_at >= start, _S.c.created_at < end, _S.c.store_id.in_(store_ids))
             .group_by(_S.c.store_id, _S.c.kind))
        per_store: dict[str, dict] = {}
        for sid, kind, count, total, vat in conn.execute(q):
            row = per_store.setdefault(sid, {"receipts": 0, "sale": ZERO, "refund": ZERO, "deposit": ZERO,
                                             "vat": ZERO})
            row["receipts"] += count
            row[kind if kind in ("sale", "refund", "deposit") else "sale"] += _summed(total)
            row["vat"] += _summed(vat) * (-1 if kind == "refund" else 1)
        for sid in sorted(per_store):
            r = per_store[sid]
            out.append(DaySales(day.isoformat(), sid, r["receipts"], r["sale"], r["refund"], r["deposit"],
                                r["vat"]))
    return out


@dataclass(frozen=True)
class ZRow:
    id: int
    store_id: str
    terminal: str
    z_number: int
    business_date: str
    closed_at: datetime
    expected_cash: Decimal
    counted_cash: Decimal
    variance: Decimal
    report: dict

    @property
    def reference(self) -> str:
        return f"{self.store_id}-{self.terminal}-Z{self.z_number:06d}"

    @property
    def sales_total(self) -> Decimal:
        value = self.report.get("sales_total")  # the kept Z's JSON: a decimal string
        return Decimal(value) if value is not None else ZERO


def z_reports(engine: Engine, store_id: str | None, *, limit: int = 200) -> list[ZRow]:
    dc, t = DayClose.__table__, Terminal.__table__
    q = (select(dc.c.id, t.c.store_id, t.c.code, dc.c.z_number, dc.c.business_date, dc.c.closed_at,
                dc.c.expected_cash, dc.c.counted_cash, dc.c.variance, dc.c.report)
         .join(t, dc.c.terminal_id == t.c.id).order_by(dc.c.business_date.desc(), t.c.store_id, t.c.code)
         .limit(limit))
    if store_id:
        q = q.where(t.c.store_id == store_id)
    with engine.connect() as conn:
        return [ZRow(*r) for r in conn.execute(q)]


@dataclass(frozen=True)
class StockRow:
    sku: str
    name: str
    store_id: str
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


def stock(engine: Engine, store_id: str | None, *, query: str = "", limit: int = 200) -> list[StockRow]:
    """Stock levels (on hand, reserved by customer orders, available) of a store or of every store;
    `query` narrows by name, sku or barcode through the product search; else the most reserved first."""
    from data.catalog import search

    p, sl = Product.__table__, StockLevel.__table__
    q = (select(p.c.sku, p.c.name, sl.c.store_id, sl.c.on_hand, sl.c.reserved)
         .join(p, sl.c.product_id == p.c.id).limit(limit))
    if store_id:
        q = q.where(sl.c.store_id == store_id)
    if query.strip():
        ids = [info.id for info in search(engine, query, limit=limit, include_inactive=True)]
        if not ids:
            return []
        q = q.where(p.c.id.in_(ids)).order_by(p.c.sku, sl.c.store_id)
    else:
        q = q.order_by(sl.c.reserved.desc(), p.c.sku, sl.c.store_id)
    with engine.connect() as conn:
        return [StockRow(*r) for r in conn.execute(q)]


def till_statuses(engine: Engine, store_id: str | None) -> list[TillStatus]:
    """What each till last reported of its outbox, per connector (stores, then tills, then connectors)."""
    from sqlmodel import select as model_select

    from data.db import read_session

    q = model_select(TillStatus).order_by(TillStatus.store_id, TillStatus.terminal, TillStatus.connector)
    if store_id:
        q = q.where(TillStatus.store_id == store_id)
    with read_session(engine) as s:
        return list(s.exec(q))
