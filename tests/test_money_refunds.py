"""Refunds by receipt number pay back exactly what was paid for the units, in both VAT bases."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from data.models import Sale, SaleLine
from data.payments import CASH, PaymentState
from data.sales import SaleError, commit_refund, commit_sale, refund_amounts, refundable
from tests import carts
from tests.conftest import COFFEE, HIGHLIGHTER

D = Decimal


@pytest.fixture
def exclusive(place):
    return dataclasses.replace(place, prices_include_vat=False, cash_rounding=D("0.01"))


def _refund(engine, place, cashier, manager, receipt, quantities, uid):
    original = refundable(engine, receipt)
    by_id = {l.line_id: l for l in original.lines}
    total = sum((refund_amounts(by_id[lid], q, place.currency)[0] for lid, q in quantities.items()), D("0.00"))
    pay = PaymentState(total, place.currency, place.cash_rounding)
    pay.apply(CASH)
    return commit_refund(engine, place, cashier, manager, receipt, quantities, pay, uid=uid), total


def test_exclusive_vat_refund_gives_back_what_was_paid(engine, exclusive, cashier, manager):
    cart, pay = carts.paid_cart(engine, exclusive, [(COFFEE, 2), (HIGHLIGHTER, 1)])
    paid = pay.paid
    receipt = commit_sale(engine, exclusive, cashier, cart, pay)
    lines = refundable(engine, receipt).lines
    number, total = _refund(engine, exclusive, cashier, manager, receipt, {l.line_id: l.sold_qty for l in lines}, "r1")
    assert total == paid  # the customer gets back what they paid, VAT included
    with Session(engine) as s:
        sale = s.exec(select(Sale).where(Sale.receipt_number == receipt)).one()
        refund = s.exec(select(Sale).where(Sale.receipt_number == number)).one()
        assert refund.total == sale.total and refund.vat_total == sale.vat_total
        assert refund.subtotal == sale.subtotal - sale.discount_total
        rlines = s.exec(select(SaleLine).where(SaleLine.sale_id == refund.id)).all()
        slines = s.exec(select(SaleLine).where(SaleLine.sale_id == sale.id)).all()
        # lines are kept in the sale's price basis (ex-VAT here), as the sale's own lines are
        assert sorted(l.total for l in rlines) == sorted(l.total for l in slines)


def test_exclusive_vat_refund_in_parts_adds_up(engine, exclusive, cashier, manager):
    cart, pay = carts.paid_cart(engine, exclusive, [(HIGHLIGHTER, 3)])
    paid = pay.paid
    receipt = commit_sale(engine, exclusive, cashier, cart, pay)
    line = refundable(engine, receipt).lines[0]
    _, first = _refund(engine, exclusive, cashier, manager, receipt, {line.line_id: D(1)}, "r1")
    _, second = _refund(engine, exclusive, cashier, manager, receipt, {line.line_id: D(2)}, "r2")
    assert first + second == paid
    with pytest.raises(SaleError):
        _refund(engine, exclusive, cashier, manager, receipt, {line.line_id: D(1)}, "r3")


def test_two_tills_refunding_the_same_line_at_once_give_one_refund(engine, place, cashier, manager):
    import threading

    from data.models import StockLevel

    cart, pay = carts.paid_cart(engine, place, [(COFFEE, 2)])
    receipt = commit_sale(engine, place, cashier, cart, pay)
    line = refundable(engine, receipt).lines[0]
    with Session(engine) as s:
        before = s.exec(select(StockLevel).where(StockLevel.product_id == line.product_id)).one().on_hand
    barrier = threading.Barrier(2)
    results: list[object] = []

    def refund(uid: str) -> None:
        barrier.wait(timeout=30)
        try:
            results.append(_refund(engine, place, cashier, manager, receipt, {line.line_id: D(2)}, uid)[0])
        except SaleError as exc:
            results.append(exc)

    threads = [threading.Thread(target=refund, args=(f"r{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    numbers = [r for r in results if isinstance(r, str)]
    assert len(numbers) == 1 and len(results) == 2, results
    left = refundable(engine, receipt).lines[0]
    assert left.refunded_qty == 2 and left.refunded_total == line.total
    with Session(engine) as s:
        assert s.exec(select(StockLevel).where(StockLevel.product_id == line.product_id)).one().on_hand == before + 2
        assert len(s.exec(select(Sale).where(Sale.kind == "refund")).all()) == 1


def test_a_refund_in_parts_pays_back_what_was_paid_after_a_basket_discount(engine, place, cashier, manager):
    from data.cart import parse_discount
    from data.pricing import price_cart

    cart, _ = carts.paid_cart(engine, place, [(COFFEE, 3), (HIGHLIGHTER, 1)])
    cart.basket_discount = parse_discount("10%")
    totals = price_cart(cart, currency=place.currency, prices_include_vat=True)
    pay = PaymentState(totals.total, place.currency, D("0.01"))
    pay.apply(CASH)
    receipt = commit_sale(engine, place, cashier, cart, pay)
    coffee = next(l for l in refundable(engine, receipt).lines if l.sku == "CF-001")
    paid_for_coffee = totals.lines[0].total
    backs = [_refund(engine, place, cashier, manager, receipt, {coffee.line_id: D(1)}, f"r{i}")[1] for i in range(3)]
    assert sum(backs) == paid_for_coffee
    with pytest.raises(SaleError, match="only 0"):
        _refund(engine, place, cashier, manager, receipt, {coffee.line_id: D(1)}, "r4")


def test_sales_refunds_and_deposits_share_one_gapless_series(engine, place, cashier, manager):
    from data.sales import commit_deposit, refund_deposit

    def paid(amount: str) -> PaymentState:
        p = PaymentState(D(amount), place.currency, place.cash_rounding)
        p.apply(CASH)
        return p

    cart, pay = carts.paid_cart(engine, place, [(COFFEE, 1)])
    sale = commit_sale(engine, place, cashier, cart, pay)
    deposit = commit_deposit(engine, place, cashier, "ORD-BKK01-000001", paid("20.00"), uid="d1")
    line = refundable(engine, sale).lines[0]
    refund, _ = _refund(engine, place, cashier, manager, sale, {line.line_id: D(1)}, "r1")
    with pytest.raises(SaleError, match="left to give back"):
        refund_deposit(engine, place, cashier, manager, deposit, paid("25.00"), uid="rd0", reason="cancelled")
    back = refund_deposit(engine, place, cashier, manager, deposit, paid("20.00"), uid="rd1", reason="cancelled")
    with pytest.raises(SaleError):
        _refund(engine, place, cashier, manager, sale, {line.line_id: D(1)}, "r2")
    cart2, pay2 = carts.paid_cart(engine, place, [(COFFEE, 1)])
    last = commit_sale(engine, place, cashier, cart2, pay2)
    assert [sale, deposit, refund, back, last] == [f"BKK01-T1-{n:06d}" for n in range(1, 6)]


def test_the_credit_note_of_a_vat_exclusive_refund_adds_up(engine, exclusive, cashier, manager):
    """PEAK checks a credit note's lines against the refund's total less its VAT (exclusive prices):
    the refund's total must hold the VAT given back."""
    from sqlalchemy import update

    from app.exports import target_of
    from data import peak
    from data.models import ExportJob
    from tests.peak_helpers import bkk, days_ago, map_products, peak_connector, sell

    cfg = peak.PeakConfig(connector="peak", branch=exclusive.store_id, timezone=exclusive.timezone,
                          pos_customer_code="POS-CUST")
    target = target_of(peak_connector("http://127.0.0.1:9/api/v1"))
    map_products(engine)
    day = days_ago(3)
    receipt = sell(engine, exclusive, [(COFFEE, 2), (HIGHLIGHTER, 1)], at=bkk(day, 9))
    peak.plan_daily(engine, cfg, target)
    with engine.begin() as conn:
        conn.execute(update(ExportJob).where(ExportJob.event == peak.DAILY_EVENT).values(state="succeeded"))
    line = refundable(engine, receipt).lines[0]
    number, back = _refund(engine, exclusive, cashier, manager, receipt, {line.line_id: D(1)}, "r1")
    assert back == D("48.15")  # 45.00 + 7 % VAT
    note = peak.credit_note_document(engine, cfg, number, "k")
    assert peak.document_total(note.body["products"]) == D("45.00")


def test_the_refund_receipt_of_a_vat_exclusive_sale_adds_up(engine, exclusive, cashier, manager):
    from app.devices.receipt_layout import layout_receipt
    from data.sales import receipt_doc

    cart, pay = carts.paid_cart(engine, exclusive, [(COFFEE, 2), (HIGHLIGHTER, 1)])
    receipt = commit_sale(engine, exclusive, cashier, cart, pay)
    line = refundable(engine, receipt).lines[0]
    number, back = _refund(engine, exclusive, cashier, manager, receipt, {line.line_id: D(1)}, "r1")
    doc = receipt_doc(engine, number)
    assert doc.kind == "refund" and doc.refund_of == receipt and not doc.prices_include_vat
    assert doc.subtotal + doc.vat_total == doc.total == back == D("48.15")
    text = "\n".join(layout_receipt(doc, 42))
    assert "Subtotal" in text and "45.00" in text and "3.15" in text and "THB 48.15" in text


def test_a_store_id_in_lower_case_can_refund_and_a_number_typed_in_lower_case_is_found(engine, place, cashier,
                                                                                       manager):
    from data.places import ensure_place

    lower = ensure_place(engine, store_id="bkk02", store_name="Branch", terminal="T2", currency="THB",
                         locale="th_TH", timezone="Asia/Bangkok", prices_include_vat=True, cash_rounding=D("0.25"))
    cart, pay = carts.paid_cart(engine, lower, [(COFFEE, 1)])
    receipt = commit_sale(engine, lower, cashier, cart, pay)
    assert receipt == "bkk02-T2-000001"
    assert refundable(engine, receipt).receipt_number == receipt  # it said "no receipt BKK02-T2-000001"
    ours = commit_sale(engine, place, cashier, *carts.paid_cart(engine, place, [(COFFEE, 1)]))
    assert refundable(engine, f" {ours.lower()} ").receipt_number == ours
