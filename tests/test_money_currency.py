"""Totals are always in the store currency's minor units (THB 2 places, JPY none), also when a
cashier types a discount amount finer than the currency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from data.cart import Cart, parse_discount
from data.money import quantum
from data.payments import CARD, CASH, PaymentState
from data.pricing import price_cart

D = Decimal


def _cart() -> Cart:
    cart = Cart()
    cart.add(product_id=1, sku="A", name="A", price=D("100"), vat_rate=D("10"), quantity=D(1))
    cart.add(product_id=2, sku="B", name="B", price=D("333"), vat_rate=D("8"), quantity=D(1))
    return cart


@pytest.mark.parametrize("inclusive", [True, False])
def test_yen_discount_amounts_round_to_whole_yen(inclusive):
    cart = _cart()
    cart.set_line_discount(cart.lines[0].line_id, parse_discount("10.5"))
    cart.basket_discount = parse_discount("7.25")
    totals = price_cart(cart, currency="JPY", prices_include_vat=inclusive)
    one = quantum("JPY")
    for lt in totals.lines:
        for amount in (lt.gross, lt.line_discount, lt.basket_discount, lt.total, lt.vat):
            assert amount == amount.quantize(one), lt
    assert totals.lines[0].line_discount == D("11")  # half up
    assert totals.basket_discount == D("7")
    assert totals.total == totals.total.quantize(one)
    assert totals.subtotal - totals.discount_total == sum(lt.total for lt in totals.lines)


@pytest.mark.parametrize("tender", [CARD, CASH])
def test_yen_sale_with_a_fractional_discount_can_be_paid_exactly(tender):
    cart = _cart()
    cart.set_line_discount(cart.lines[0].line_id, parse_discount("10.5"))
    totals = price_cart(cart, currency="JPY", prices_include_vat=True)
    payment = PaymentState(totals.total, "JPY", D("1"))
    payment.apply(tender)  # Enter on an empty field: exactly what is due
    assert payment.complete and payment.rounding == 0
