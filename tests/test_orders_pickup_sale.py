"""A pickup hands goods over only together with its sale: when the sale cannot be committed, the order
is left as it was (not delivered without a receipt). Real SQLite."""

from __future__ import annotations

import pytest

from data import orders, pickups
from data.payments import CASH, PaymentState
from data.sales import SaleError, receipt_doc
from tests.conftest import COFFEE, WATER
from tests.order_helpers import D, details, make_order, new_line, stock


def test_a_sale_that_cannot_be_committed_leaves_the_order_untouched(engine, place, cashier):
    o = make_order(engine, place, ((COFFEE, 1), (WATER, 2)))
    picks = {l.id: l.quantity for l in o.lines}
    cart = orders.pickup_cart(o, picks, pickups.local_products(engine, [l.sku for l in o.lines]))
    short = PaymentState(D("50.00"), place.currency, place.cash_rounding)  # the cart is 59.00
    short.apply(CASH)
    before = (orders.get_order(engine, o.number), orders.journal_of(engine, o.number), stock(engine, place, COFFEE))
    with pytest.raises(SaleError, match="the cart changed while paying"):
        pickups.complete_pickup(engine, engine, place, cashier, pickups.Pickup(o, picks), cart, short)
    assert (orders.get_order(engine, o.number), orders.journal_of(engine, o.number),
            stock(engine, place, COFFEE)) == before


def test_delivering_an_order_priced_on_another_vat_basis_sells_what_it_hands_over(engine, place, cashier):
    """An order taken with prices excluding VAT (another store's setting, or this one's before it
    changed), paid online, delivered from the list at a till that prices including VAT: the sale is
    priced as this till prices it, as a pickup at this till is; it used to fail after the order was
    already marked delivered, leaving goods handed over with no receipt."""
    o = orders.create_order(engine, place.store_id, "9", [new_line(engine, COFFEE, 1)], details(), currency="THB",
                            prices_include_vat=False, online_payments=[("PAY-1", D("48.15"))])
    on_hand = stock(engine, place, COFFEE)[0]
    receipt, view = pickups.deliver_paid(engine, engine, place, cashier, o.number)
    assert view.status == "delivered"
    doc = receipt_doc(engine, receipt)
    assert doc.order_number == o.number and [(p.tender, p.amount) for p in doc.payments] == [("online", D("45.00"))]
    assert stock(engine, place, COFFEE)[0] == on_hand - 1
