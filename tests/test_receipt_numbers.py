"""Receipt numbers on a real SQLite file: gapless per terminal, allocated inside the sale's transaction,
safe under concurrent writers (threads and processes), and idempotent per cart."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from data.cart import Cart
from data.catalog import lookup
from data.db import make_engine, write_session
from data.models import CartDraft, Payment, ReceiptSeries, Sale, SaleLine, StockLevel
from data.operators import by_code
from data.payments import CARD, CASH, PaymentState
from data.places import ensure_place
from data.pricing import price_cart
from data.sales import (
    SaleError,
    commit_refund,
    commit_sale,
    format_receipt_number,
    last_receipt_number,
    next_receipt_number,
    refundable,
)
from tests import carts
from tests.conftest import COFFEE, HIGHLIGHTER, WATER

D = Decimal


def paid_cart(engine, place, codes=(COFFEE,), qty: int = 1, tender: str = CASH, uid: str | None = None):
    return carts.paid_cart(engine, place, [(code, qty) for code in codes], tender, uid=uid)


def numbers_of(engine, terminal_id: int | None = None) -> list[str]:
    with Session(engine) as s:
        q = select(Sale.receipt_number).order_by(Sale.id)
        if terminal_id is not None:
            q = q.where(Sale.terminal_id == terminal_id)
        return list(s.exec(q))


def serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_format():
    assert format_receipt_number("BKK01", "T1", 1) == "BKK01-T1-000001"
    assert format_receipt_number("BKK01", "T2", 123456) == "BKK01-T2-123456"


def test_sequential_commits_are_gapless(engine, place, cashier):
    got = []
    for i in range(12):
        cart, pay = paid_cart(engine, place, codes=(COFFEE, WATER) if i % 2 else (HIGHLIGHTER,))
        got.append(commit_sale(engine, place, cashier, cart, pay))
    assert got == [f"BKK01-T1-{n:06d}" for n in range(1, 13)]
    assert numbers_of(engine) == got
    assert last_receipt_number(engine, place.terminal_id) == "BKK01-T1-000012"
    with Session(engine) as s:
        assert s.get(ReceiptSeries, place.terminal_id).next_number == 13


def test_rolled_back_transaction_gives_the_number_back(engine, place, cashier):
    with pytest.raises(RuntimeError, match="power cut"):
        with write_session(engine) as s:
            assert next_receipt_number(s, place) == "BKK01-T1-000001"
            assert next_receipt_number(s, place) == "BKK01-T1-000002"
            raise RuntimeError("power cut")
    cart, pay = paid_cart(engine, place)
    assert commit_sale(engine, place, cashier, cart, pay) == "BKK01-T1-000001"
    with pytest.raises(RuntimeError):
        with write_session(engine) as s:
            next_receipt_number(s, place)
            raise RuntimeError("again")
    cart, pay = paid_cart(engine, place)
    assert commit_sale(engine, place, cashier, cart, pay) == "BKK01-T1-000002"


def test_failed_commit_sale_does_not_consume_a_number(engine, place, cashier):
    cart, pay = paid_cart(engine, place)
    # A line for a product that does not exist: the stock row's foreign key fails after the number was drawn.
    bad = Cart()
    bad.add(product_id=999_999, sku="GONE", name="gone", price=D("10.00"), vat_rate=D(7), quantity=D(1))
    bad_pay = PaymentState(D("10.00"), place.currency, place.cash_rounding)
    bad_pay.apply(CASH)
    with pytest.raises(Exception):
        commit_sale(engine, place, cashier, bad, bad_pay)
    assert numbers_of(engine) == []
    assert commit_sale(engine, place, cashier, cart, pay) == "BKK01-T1-000001"
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(SaleLine)).one() == 1


def test_unpaid_or_changed_cart_is_refused_without_a_number(engine, place, cashier):
    cart, pay = paid_cart(engine, place)
    unpaid = PaymentState(pay.total, place.currency, place.cash_rounding)
    with pytest.raises(SaleError, match="still due"):
        commit_sale(engine, place, cashier, cart, unpaid)
    info = lookup(engine, WATER)
    cart.add(product_id=info.id, sku=info.sku, name=info.name, price=info.price, vat_rate=info.vat_rate,
             quantity=D(1))
    with pytest.raises(SaleError, match="changed"):
        commit_sale(engine, place, cashier, cart, pay)
    with pytest.raises(SaleError, match="empty"):
        commit_sale(engine, place, cashier, Cart(), pay)
    assert numbers_of(engine) == []
    cart2, pay2 = paid_cart(engine, place)
    assert commit_sale(engine, place, cashier, cart2, pay2) == "BKK01-T1-000001"


def test_same_cart_twice_is_one_sale(engine, place, cashier):
    cart, pay = paid_cart(engine, place, codes=(COFFEE, HIGHLIGHTER), qty=2, tender=CARD)
    with Session(engine) as s:
        before = s.get(StockLevel, (place.store_id, lookup(engine, COFFEE).id)).on_hand
    first = commit_sale(engine, place, cashier, cart, pay)
    second = commit_sale(engine, place, cashier, cart, pay)
    assert first == second == "BKK01-T1-000001"
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Sale)).one() == 1
        assert s.exec(select(func.count()).select_from(SaleLine)).one() == 2
        assert s.exec(select(func.count()).select_from(Payment)).one() == 1
        after = s.get(StockLevel, (place.store_id, lookup(engine, COFFEE).id)).on_hand
        assert after == before - 2, "stock moves once"
        assert s.get(ReceiptSeries, place.terminal_id).next_number == 2
    cart2, pay2 = paid_cart(engine, place)
    assert commit_sale(engine, place, cashier, cart2, pay2) == "BKK01-T1-000002"


def test_commit_removes_the_open_draft(engine, place, cashier):
    from data.drafts import open_draft, save_open

    cart, pay = paid_cart(engine, place)
    save_open(engine, place.terminal_id, cashier.id, cart)
    assert open_draft(engine, place.terminal_id).uid == cart.uid
    commit_sale(engine, place, cashier, cart, pay)
    assert open_draft(engine, place.terminal_id) is None
    with Session(engine) as s:
        assert s.exec(select(CartDraft)).all() == []


def test_stored_sale_is_decimal_exact(engine, place, cashier):
    cart, pay = paid_cart(engine, place, codes=(COFFEE, WATER, "MK-001"))  # 45 + 7 + 52.25 = 104.25
    number = commit_sale(engine, place, cashier, cart, pay)
    with Session(engine) as s:
        sale = s.exec(select(Sale).where(Sale.receipt_number == number)).one()
        assert sale.total == D("104.25") and isinstance(sale.total, Decimal)
        assert sale.paid_total == D("104.25")
        assert sale.rounding == 0
        assert sale.vat_total == D("6.82")  # 2.94 + 0.46 + 3.42
        lines = s.exec(select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.line_no)).all()
        assert [l.sku for l in lines] == ["CF-001", "WT-001", "MK-001"]
        assert [l.vat_amount for l in lines] == [D("2.94"), D("0.46"), D("3.42")]
        assert sum((l.total for l in lines), D(0)) == sale.total


def test_terminals_have_their_own_series(engine, place, cashier):
    t2 = ensure_place(engine, store_id=place.store_id, store_name=place.store_name, terminal="T2",
                      currency=place.currency, locale=place.locale, timezone=place.timezone,
                      prices_include_vat=place.prices_include_vat, cash_rounding=place.cash_rounding)
    assert t2.terminal_id != place.terminal_id
    got = []
    for p in (place, t2, t2, place, t2):
        cart, pay = paid_cart(engine, p)
        got.append(commit_sale(engine, p, cashier, cart, pay))
    assert got == ["BKK01-T1-000001", "BKK01-T2-000001", "BKK01-T2-000002", "BKK01-T1-000002",
                   "BKK01-T2-000003"]
    # ensure_place again keeps the series where it is
    again = ensure_place(engine, store_id=place.store_id, store_name=place.store_name, terminal="T2",
                         currency=place.currency, locale=place.locale, timezone=place.timezone,
                         prices_include_vat=place.prices_include_vat, cash_rounding=place.cash_rounding)
    assert again.terminal_id == t2.terminal_id
    cart, pay = paid_cart(engine, again)
    assert commit_sale(engine, again, cashier, cart, pay) == "BKK01-T2-000004"


def test_refunds_take_the_next_number_of_the_same_series(engine, place, cashier):
    manager = by_code(engine, "9")
    cart, pay = paid_cart(engine, place, codes=(COFFEE, HIGHLIGHTER), qty=2)
    sale_no = commit_sale(engine, place, cashier, cart, pay)
    original = refundable(engine, sale_no)
    coffee = next(l for l in original.lines if l.sku == "CF-001")
    refund_pay = PaymentState(D("45.00"), place.currency, place.cash_rounding)
    refund_pay.apply(CASH)
    refund_no = commit_refund(engine, place, cashier, manager, sale_no, {coffee.line_id: D(1)}, refund_pay,
                              uid="refund-1", reason="broken")
    assert refund_no == "BKK01-T1-000002"
    # the same refund again (a retry) is the same record
    assert commit_refund(engine, place, cashier, manager, sale_no, {coffee.line_id: D(1)}, refund_pay,
                         uid="refund-1", reason="broken") == refund_no
    cart2, pay2 = paid_cart(engine, place)
    assert commit_sale(engine, place, cashier, cart2, pay2) == "BKK01-T1-000003"
    # the second coffee: the last unit takes what is left of the line
    rest = refundable(engine, sale_no)
    coffee = next(l for l in rest.lines if l.sku == "CF-001")
    assert coffee.refundable_qty == 1
    pay3 = PaymentState(coffee.total - coffee.refunded_total, place.currency, place.cash_rounding)
    pay3.apply(CASH)
    assert commit_refund(engine, place, cashier, manager, sale_no, {coffee.line_id: D(1)}, pay3,
                         uid="refund-2") == "BKK01-T1-000004"
    with pytest.raises(SaleError):
        pay4 = PaymentState(D("45.00"), place.currency, place.cash_rounding)
        pay4.apply(CASH)
        commit_refund(engine, place, cashier, manager, sale_no, {coffee.line_id: D(1)}, pay4, uid="refund-3")
    assert [serial(n) for n in numbers_of(engine)] == [1, 2, 3, 4]


# -- concurrent writers ------------------------------------------------------------------------------

PER_WRITER = 50


def _sell_many(engine, place, operator, product, count: int, barrier) -> list[str]:
    """Commit `count` one-line sales; the barrier lines the writers up so they really overlap."""
    pid, sku, name, price, vat = product
    carts = []
    for _ in range(count):
        cart = Cart()
        cart.add(product_id=pid, sku=sku, name=name, price=price, vat_rate=vat, quantity=D(1))
        totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
        payment = PaymentState(totals.total, place.currency, place.cash_rounding)
        payment.apply(CASH)
        carts.append((cart, payment))
    barrier.wait(timeout=60)
    numbers = []
    for cart, payment in carts:
        numbers.append(commit_sale(engine, place, operator, cart, payment))
        time.sleep(0.002)  # a breath between sales lets the other writer in (SQLite's busy wait backs off)
    return numbers


def _assert_gapless(numbers: list[str], expected: int) -> None:
    assert len(numbers) == expected
    assert len(set(numbers)) == expected, "duplicate receipt numbers"
    assert sorted(serial(n) for n in numbers) == list(range(1, expected + 1))
    assert all(n.startswith("BKK01-T1-") for n in numbers)


def test_two_threads_share_the_series(engine, place, cashier):
    coffee = lookup(engine, COFFEE)
    product = (coffee.id, coffee.sku, coffee.name, coffee.price, coffee.vat_rate)
    barrier = threading.Barrier(2)
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []
    # One thread on the shared engine, one on an engine of its own (a second till process would be that).
    other_engine = make_engine(str(engine.url))

    def run(idx: int, eng) -> None:
        try:
            results[idx] = _sell_many(eng, place, cashier, product, PER_WRITER, barrier)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(0, engine)), threading.Thread(target=run, args=(1, other_engine))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    other_engine.dispose()
    assert not errors, errors
    # each writer sees its own numbers increasing
    for numbers in results.values():
        assert [serial(n) for n in numbers] == sorted(serial(n) for n in numbers)
    _assert_gapless(results[0] + results[1], 2 * PER_WRITER)
    _assert_gapless(numbers_of(engine), 2 * PER_WRITER)
    with Session(engine) as s:
        assert s.get(ReceiptSeries, place.terminal_id).next_number == 2 * PER_WRITER + 1
        level = s.get(StockLevel, (place.store_id, coffee.id))
        assert level.on_hand == D(100) - 2 * PER_WRITER


# A second till process: only the data layer, its own engine on the same SQLite file. It waits for the
# go file so that both processes write at the same time, and prints its receipt numbers as JSON.
_WRITER = """
import json, sys, time
from decimal import Decimal
from pathlib import Path
from data.cart import Cart
from data.catalog import lookup
from data.db import make_engine
from data.operators import by_code
from data.payments import CASH, PaymentState
from data.places import ensure_place
from data.pricing import price_cart
from data.sales import commit_sale

url, store, count, ready, go = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
store["cash_rounding"] = Decimal(store["cash_rounding"])
engine = make_engine(url)
place = ensure_place(engine, **store)
operator = by_code(engine, "1")
info = lookup(engine, sys.argv[6])
carts = []
for _ in range(count):
    cart = Cart()
    cart.add(product_id=info.id, sku=info.sku, name=info.name, price=info.price, vat_rate=info.vat_rate,
             quantity=Decimal(1))
    totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
    payment = PaymentState(totals.total, place.currency, place.cash_rounding)
    payment.apply(CASH)
    carts.append((cart, payment))
ready.touch()
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.005)
out = []
for c, p in carts:
    out.append(commit_sale(engine, place, operator, c, p))
    time.sleep(0.002)  # a breath between sales lets the other writer in (SQLite's busy wait backs off)
print(json.dumps(out))
"""


def test_two_processes_share_the_series(engine, place, settings, tmp_path):
    s = settings.store
    store = json.dumps(dict(store_id=s.id, store_name=s.name, terminal=s.terminal, currency=s.currency,
                            locale=s.locale, timezone=s.timezone, prices_include_vat=s.prices_include_vat,
                            cash_rounding=str(s.cash_rounding)))
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, settings.database_url, store, str(PER_WRITER),
                               str(ready[i]), str(go), COFFEE],
                              cwd=Path(__file__).parents[1], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for i in range(2)]
    try:
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready):
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            assert time.monotonic() < deadline, "writers did not start"
            time.sleep(0.01)
        go.touch()
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    numbers = json.loads(outs[0][0]) + json.loads(outs[1][0])
    _assert_gapless(numbers, 2 * PER_WRITER)
    _assert_gapless(numbers_of(engine, place.terminal_id), 2 * PER_WRITER)
