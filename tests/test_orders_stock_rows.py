"""stock_level.reserved is the journal's running sum, also for an item whose first stock row at a store
comes after the store's first reservations (the store was not known to this database yet)."""

from __future__ import annotations

from data import orders
from data.catalog import lookup
from data.places import ensure_place
from tests.conftest import COFFEE
from tests.order_helpers import D, journal_sums, level, make_order
from tests.pg import demo_place


def test_a_store_known_after_its_first_reservations_starts_from_its_journal(engine, place):
    kept = make_order(engine, place, ((COFFEE, 3),), fulfil_store="BKK07")  # BKK07 is no store here yet
    dropped = make_order(engine, place, ((COFFEE, 1),), fulfil_store="BKK07")
    assert journal_sums(engine)[("BKK07", "CF-001")] == D(4)
    ensure_place(engine, **demo_place("BKK07", "T1"))
    orders.cancel_order(engine, dropped.number, operator="9", reason="customer called")  # the first stock row
    pid = lookup(engine, COFFEE).id
    assert level(engine, "BKK07", pid)[1] == journal_sums(engine)[("BKK07", "CF-001")] == D(3)
    assert orders.reserved_by_line(engine, kept.number) == {kept.lines[0].id: D(3)}
