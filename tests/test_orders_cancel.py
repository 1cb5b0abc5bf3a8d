"""Cancelling an order part of which was already handed over: what left with a pickup stays on the
order as delivered (its value in the total), only the rest is voided and released. Real SQLite."""

from __future__ import annotations

from data import orders, pickups
from tests.conftest import COFFEE, MILK
from tests.order_helpers import D, journal_sums, make_order, stock
from tests.test_orders import deposit, line_of, pick_up


def test_cancel_after_a_partial_pickup_keeps_what_was_handed_over(engine, place, cashier, manager):
    on_hand, reserved = stock(engine, place, COFFEE)
    o = make_order(engine, place, ((COFFEE, 2), (MILK, 1)))
    _, o = deposit(engine, place, cashier, o, "90")
    coffee = line_of(o, "CF-001")
    (_, v), _ = pick_up(engine, place, cashier, o, {coffee.id: D(1)})
    assert v.status == "partial" and v.applied == D("45.00")

    c = orders.cancel_order(engine, o.number, operator="9", reason="customer changed mind", approved_by="9")
    assert c.status == "cancelled"
    assert [(l.sku, l.quantity, l.picked, l.status) for l in c.lines] == [
        ("CF-001", D(1), D(1), "delivered"), ("MK-001", D(1), D(0), "voided")]
    assert c.total == D("45.00"), "the coffee handed over is still part of the order"
    assert orders.reserved_by_line(engine, o.number) == {coffee.id: 0, line_of(o, "MK-001").id: 0}
    assert journal_sums(engine)[(place.store_id, "CF-001")] == reserved
    assert stock(engine, place, COFFEE) == (on_hand - 1, reserved)
    releases = [(j.sku, j.quantity, j.note) for j in orders.journal_of(engine, o.number) if j.kind == "release"]
    assert releases == [("CF-001", D(1), "order cancelled"), ("MK-001", D(1), "order cancelled")]

    refunds = pickups.give_back_deposits(engine, engine, place, cashier, manager, c, reason="order cancelled")
    assert len(refunds) == 1
    after = orders.get_order(engine, o.number)
    assert after.credit == 0 and after.paid == D("45.00") and after.applied == D("45.00")
