"""The same data layer on PostgreSQL: migrations (with pg_trgm), demo seed, sales, search, refunds and
gapless receipt numbers under concurrent writers.

Skipped unless TILL_TEST_PG_URL names a server, e.g.
    TILL_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres
A fresh database with a unique name is created for the run and dropped at the end.
"""

from __future__ import annotations

import os
import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from data import catalog
from data.cart import Cart
from data.db import current_revision, head_revision, make_engine, upgrade, write_session
from data.demo import seed_demo
from data.models import (
    AuditLog,
    Payment,
    Product,
    ReceiptSeries,
    Sale,
    SaleLine,
    StockLevel,
    StockMove,
)
from data.operators import by_code
from data.payments import CARD, CASH, PaymentState
from data.places import ensure_place
from data.sales import commit_refund, commit_sale, receipt_doc, refundable
from tests import carts
from tests.pg import throwaway_database

PG_URL = os.environ.get("TILL_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="set TILL_TEST_PG_URL to run the PostgreSQL tests")

D = Decimal
COFFEE = "8850000000010"  # CF-001 กาแฟเย็น / Iced coffee, 45.00
HIGHLIGHTER = "4006381333931"  # HL-001, 35.00
MILK = "8850000000072"  # MK-001, 52.25
GREENS = "8850000000058"  # VG-001, 15.00, no VAT
STORE = dict(store_id="BKK01", store_name="Demo Store", currency="THB", locale="th_TH", timezone="Asia/Bangkok",
             prices_include_vat=True, cash_rounding=D("0.25"))


@pytest.fixture(scope="module")
def pg_url():
    with throwaway_database("till_test") as url:
        yield url


@pytest.fixture(scope="module")
def pg_engine(pg_url):
    engine = make_engine(pg_url)
    assert upgrade(engine) is True
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def place(pg_engine):
    p = ensure_place(pg_engine, terminal="T1", **STORE)
    seed_demo(pg_engine, p, products=200)
    return p


@pytest.fixture(scope="module")
def cashier(pg_engine, place):
    return by_code(pg_engine, "1")


@pytest.fixture(scope="module")
def manager(pg_engine, place):
    return by_code(pg_engine, "9")


def paid_cart(engine, place, items, tender=CASH, cash=None):
    return carts.paid_cart(engine, place, items, tender, cash)


def on_hand(engine, place, code) -> Decimal:
    pid = catalog.lookup(engine, code).id
    with Session(engine) as s:
        return s.get(StockLevel, (place.store_id, pid)).on_hand


def series_next(engine, place) -> int:
    with Session(engine) as s:
        return s.get(ReceiptSeries, place.terminal_id).next_number


def test_migrations_reach_head_with_pg_trgm(pg_engine, place):
    assert current_revision(pg_engine) == head_revision()
    assert upgrade(pg_engine) is False, "a second upgrade has nothing to do"
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
        assert conn.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_product_search_trgm'")).first()


def test_seeded_demo(pg_engine, place):
    with Session(pg_engine) as s:
        assert s.exec(select(func.count()).select_from(Product)).one() == 200
        hl = s.exec(select(Product).where(Product.sku == "HL-001")).one()
        assert hl.price == D("35.00") and hl.vat_rate == D(7)
        assert isinstance(hl.price, Decimal)


def test_sale_round_trip(pg_engine, place, cashier):
    before_coffee = on_hand(pg_engine, place, COFFEE)
    before_milk = on_hand(pg_engine, place, MILK)
    start = series_next(pg_engine, place)
    # 2 × 45.00 + 52.25 + 15.00 = 157.25; cash 200
    cart, pay = paid_cart(pg_engine, place, [(COFFEE, 2), (MILK, 1), (GREENS, 1)], cash=D("200"))
    number = commit_sale(pg_engine, place, cashier, cart, pay)
    assert number == f"BKK01-T1-{start:06d}"
    assert commit_sale(pg_engine, place, cashier, cart, pay) == number, "idempotent per cart"
    with Session(pg_engine) as s:
        sale = s.exec(select(Sale).where(Sale.receipt_number == number)).one()
        assert (sale.subtotal, sale.total, sale.vat_total) == (D("157.25"), D("157.25"), D("9.31"))
        assert isinstance(sale.total, Decimal) and str(sale.total) == "157.25"
        assert sale.paid_total == D("157.25") and sale.change_total == D("42.75") and sale.rounding == 0
        assert sale.created_at.tzinfo is not None
        lines = s.exec(select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.line_no)).all()
        assert [(l.sku, l.quantity, l.total, l.vat_amount) for l in lines] == [
            ("CF-001", D(2), D("90.00"), D("5.89")), ("MK-001", D(1), D("52.25"), D("3.42")),
            ("VG-001", D(1), D("15.00"), D("0.00"))]
        payments = s.exec(select(Payment).where(Payment.sale_id == sale.id)).all()
        assert [(p.tender, p.amount, p.tendered, p.change) for p in payments] == [
            ("cash", D("157.25"), D("200.00"), D("42.75"))]
        assert s.exec(select(func.count()).select_from(Sale).where(Sale.uid == cart.uid)).one() == 1
    assert on_hand(pg_engine, place, COFFEE) == before_coffee - 2
    assert on_hand(pg_engine, place, MILK) == before_milk - 1
    doc = receipt_doc(pg_engine, number)
    assert doc.total == D("157.25") and doc.store_name == "Demo Store" and len(doc.lines) == 3


def test_fractional_quantity_and_rounding(pg_engine, place, cashier):
    # 1.5 × 52.25 = 78.375 -> 78.38; cash due 78.50 (rounding +0.12)
    cart, pay = paid_cart(pg_engine, place, [(MILK, "1.5")])
    number = commit_sale(pg_engine, place, cashier, cart, pay)
    with Session(pg_engine) as s:
        sale = s.exec(select(Sale).where(Sale.receipt_number == number)).one()
        assert sale.total == D("78.38") and sale.rounding == D("0.12") and sale.paid_total == D("78.50")
        line = s.exec(select(SaleLine).where(SaleLine.sale_id == sale.id)).one()
        assert line.quantity == D("1.5")


@pytest.mark.parametrize("query, sku", [("กาแฟ", "CF-001"), ("coff", "CF-001"), ("COFFEE", "CF-001"),
                                        ("กาแฟเย็น", "CF-001"), ("HL-0", "HL-001"), ("0000000010", "CF-001"),
                                        ("highlighter", "HL-001")])
def test_search(pg_engine, place, query, sku):
    found = catalog.search(pg_engine, query)
    assert sku in [p.sku for p in found]
    assert len(found) <= catalog.SEARCH_LIMIT


def test_search_odd_input(pg_engine, place):
    assert catalog.search(pg_engine, "") == []
    assert catalog.search(pg_engine, "%") == []
    assert catalog.search(pg_engine, "_") == []
    assert catalog.search(pg_engine, "no such thing at all") == []
    thai = catalog.search(pg_engine, "กาแฟ")
    assert all("กาแฟ" in (p.name + p.name_en) for p in thai)


def test_lookup(pg_engine, place):
    assert catalog.lookup(pg_engine, COFFEE).sku == "CF-001"
    assert catalog.lookup(pg_engine, "hl-001").barcode == HIGHLIGHTER
    assert catalog.lookup(pg_engine, "nothing") is None


def test_new_product_after_seed(pg_engine, place):
    with write_session(pg_engine) as s:
        catalog.upsert_product(s, sku="NEW-PG-1", name="ใหม่", name_en="Brand new", price=D("12.00"),
                               vat_rate=D(7), barcodes=[])
    assert catalog.lookup(pg_engine, "NEW-PG-1").name == "ใหม่"


def test_refund(pg_engine, place, cashier, manager):
    cart, pay = paid_cart(pg_engine, place, [(HIGHLIGHTER, 3)], tender=CARD)
    number = commit_sale(pg_engine, place, cashier, cart, pay)
    stock = on_hand(pg_engine, place, HIGHLIGHTER)
    original = refundable(pg_engine, number)
    line = original.lines[0]
    assert line.sold_qty == 3 and line.total == D("105.00")
    refund_pay = PaymentState(D("35.00"), place.currency, place.cash_rounding)
    refund_pay.apply(CARD)
    uid = str(uuid.uuid4())
    refund_no = commit_refund(pg_engine, place, cashier, manager, number, {line.line_id: D(1)}, refund_pay,
                              uid=uid, reason="damaged")
    assert serial(refund_no) == serial(number) + 1
    assert commit_refund(pg_engine, place, cashier, manager, number, {line.line_id: D(1)}, refund_pay,
                         uid=uid, reason="damaged") == refund_no
    assert on_hand(pg_engine, place, HIGHLIGHTER) == stock + 1
    again = refundable(pg_engine, number)
    assert again.lines[0].refunded_qty == 1 and again.lines[0].refundable_qty == 2
    # the rest: the last units take exactly what is left of the line
    rest_pay = PaymentState(D("70.00"), place.currency, place.cash_rounding)
    rest_pay.apply(CARD)
    commit_refund(pg_engine, place, cashier, manager, number, {line.line_id: D(2)}, rest_pay,
                  uid=str(uuid.uuid4()))
    assert refundable(pg_engine, number).lines[0].refundable_qty == 0
    with Session(pg_engine) as s:
        refund = s.exec(select(Sale).where(Sale.receipt_number == refund_no)).one()
        assert refund.kind == "refund" and refund.total == D("35.00") and refund.vat_total == D("2.29")
        assert refund.authorised_by_id == manager.id
        total_refunded = s.exec(select(func.sum(Sale.total)).where(Sale.refund_of_id == refund.refund_of_id)).one()
        assert total_refunded == D("105.00")
        moves = s.exec(select(StockMove).where(StockMove.sale_id == refund.id)).all()
        assert [m.quantity for m in moves] == [D(1)]
        assert s.exec(select(AuditLog).where(AuditLog.action == "refund", AuditLog.subject == refund_no)).first()
    doc = receipt_doc(pg_engine, refund_no)
    assert doc.kind == "refund" and doc.refund_of == number


def serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_concurrent_writers_are_gapless(pg_url, pg_engine, place, cashier):
    # A terminal of its own so the numbers start at 1 whatever other tests did.
    t9 = ensure_place(pg_engine, terminal="T9", **STORE)
    info = catalog.lookup(pg_engine, COFFEE)
    per_writer = 25
    barrier = threading.Barrier(2)
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def run(idx: int) -> None:
        engine = make_engine(pg_url)
        try:
            carts = []
            for _ in range(per_writer):
                cart = Cart()
                cart.add(product_id=info.id, sku=info.sku, name=info.name, price=info.price,
                         vat_rate=info.vat_rate, quantity=D(1))
                payment = PaymentState(info.price, t9.currency, t9.cash_rounding)
                payment.apply(CASH)
                carts.append((cart, payment))
            barrier.wait(timeout=60)
            results[idx] = [commit_sale(engine, t9, cashier, c, p) for c, p in carts]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            barrier.abort()
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    numbers = results[0] + results[1]
    assert len(set(numbers)) == 2 * per_writer
    assert sorted(serial(n) for n in numbers) == list(range(1, 2 * per_writer + 1))
    assert all(n.startswith("BKK01-T9-") for n in numbers)
    with Session(pg_engine) as s:
        stored = s.exec(select(Sale.receipt_number).where(Sale.terminal_id == t9.terminal_id)).all()
        assert sorted(stored) == sorted(numbers)
        assert s.get(ReceiptSeries, t9.terminal_id).next_number == 2 * per_writer + 1
