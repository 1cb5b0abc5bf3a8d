"""A till holding a stale copy of an order (read before another till picked it up or cancelled it) is
told the order was changed at another till and to open it again, whatever the change was; nothing
of its pickup is written. Real SQLite."""

from __future__ import annotations

import pytest

from data import orders
from data.orders import OrderConflict
from tests.conftest import COFFEE
from tests.order_helpers import D, make_order, stock
from tests.test_orders import pick_up


@pytest.mark.parametrize("change", ["picked up", "cancelled"])
def test_a_stale_copy_is_told_the_order_changed_at_another_till(engine, place, cashier, change):
    o = make_order(engine, place, ((COFFEE, 2),))
    stale = orders.get_order(engine, o.number)  # what the second till recalled
    if change == "picked up":
        pick_up(engine, place, cashier, o, {o.lines[0].id: D(2)})
    else:
        orders.cancel_order(engine, o.number, operator="9", reason="customer called")
    now = orders.get_order(engine, o.number)
    before = (stock(engine, place, COFFEE), len(orders.journal_of(engine, o.number)))
    with pytest.raises(OrderConflict) as caught:
        pick_up(engine, place, cashier, stale, {stale.lines[0].id: D(2)})
    assert str(caught.value) == f"{o.number} was changed meanwhile ({now.status}, by another till); open it again"
    with pytest.raises(OrderConflict, match="changed meanwhile"):
        orders.update_order(engine, o.number, stale.version, "9", [], stale.details)
    assert (stock(engine, place, COFFEE), len(orders.journal_of(engine, o.number))) == before
    assert orders.get_order(engine, o.number) == now


def test_the_current_copy_of_a_closed_order_says_what_it_is(engine, place, cashier):
    o = make_order(engine, place, ((COFFEE, 1),))
    (_, done), _ = pick_up(engine, place, cashier, o, {o.lines[0].id: D(1)})
    with pytest.raises(OrderConflict, match=f"^{done.number}: delivered, cannot pick it up$"):
        pick_up(engine, place, cashier, done, {})
