"""Paid carts for tests that commit sales without the screen."""

from __future__ import annotations

from decimal import Decimal

from data.cart import Cart
from data.catalog import lookup
from data.members import find_member
from data.payments import CASH, PaymentState
from data.pricing import price_cart
from tests.conftest import COFFEE


def paid_cart(engine, place, items=((COFFEE, 1),), tender: str = CASH, amount: Decimal | None = None, *,
              uid: str | None = None, member: str | None = None) -> tuple[Cart, PaymentState]:
    """A cart of (code, quantity) items, paid in full with one tender (`amount` handed over, or exact)."""
    cart = Cart(uid=uid) if uid else Cart()
    for code, qty in items:
        info = lookup(engine, code)
        assert info is not None, code
        cart.add(product_id=info.id, sku=info.sku, name=info.name, price=info.price, vat_rate=info.vat_rate,
                 quantity=Decimal(qty), barcode=info.barcode)
    if member:
        cart.member_phone = member
        cart.member_id = find_member(engine, member, "TH")[1].id
    totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
    payment = PaymentState(totals.total, place.currency, place.cash_rounding)
    payment.apply(tender, amount)
    return cart, payment
