"""Customer orders for tests: lines from catalogue codes, an order in one call, stock figures."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select

from data import orders
from data.catalog import lookup
from data.models import ReservationEntry, StockLevel
from data.orders import NewLine, OrderDetails
from tests.conftest import COFFEE, MILK

D = Decimal
ANONG = "+66812345670"  # a demo member


def new_line(engine, code: str, qty, line_id: int | None = None, price: Decimal | None = None) -> NewLine:
    info = lookup(engine, code)
    assert info is not None, code
    return NewLine(info.sku, info.name, D(qty), info.price if price is None else price, info.vat_rate,
                   original_price=info.price, barcode=info.barcode, line_id=line_id)


def details(**kw) -> OrderDetails:
    base = dict(customer_name="Anong", customer_phone=ANONG)
    base.update(kw)
    return OrderDetails(**base)


def make_order(engine, place, items=((COFFEE, 2), (MILK, 1)), *, operator: str = "9", at=None, external_id=None,
               online=(), **kw) -> orders.OrderView:
    return orders.create_order(engine, place.store_id, operator, [new_line(engine, c, q) for c, q in items],
                               details(**kw), currency=place.currency, prices_include_vat=place.prices_include_vat,
                               at=at, external_id=external_id, online_payments=list(online))


def keep_lines(order: orders.OrderView, changes: dict[str, Decimal] | None = None, engine=None,
               add=()) -> list[NewLine]:
    """The order's lines as NewLines (quantities changed by sku, None drops a line), plus new ones."""
    changes = changes or {}
    out = []
    for l in order.lines:
        if l.status == "voided":
            continue
        qty = changes.get(l.sku, l.quantity)
        if qty is None:
            continue
        out.append(NewLine(l.sku, l.name, D(qty), l.unit_price, l.vat_rate, l.original_price, l.barcode, l.discount,
                           l.id))
    out += [new_line(engine, c, q) for c, q in add]
    return out


def level(engine, store_id: str, product_id: int) -> tuple[Decimal, Decimal]:
    with Session(engine) as s:
        row = s.get(StockLevel, (store_id, product_id))
        return (row.on_hand, row.reserved) if row else (D(0), D(0))


def stock(engine, place, code: str) -> tuple[Decimal, Decimal]:
    """(on hand, stock_level.reserved) of a catalogue item at this store."""
    return level(engine, place.store_id, lookup(engine, code).id)


def journal_sums(engine) -> dict[tuple[str, str], Decimal]:
    with Session(engine) as s:
        rows = s.exec(select(ReservationEntry.store_id, ReservationEntry.sku, orders._signed_sum())
                      .group_by(ReservationEntry.store_id, ReservationEntry.sku)).all()
    return {(st, sku): orders._qty(q) for st, sku, q in rows}
