"""The reservation journal under random sequences of order operations (hypothesis state machine):
create, change a quantity, add a line, void a line, pick up part of an order, cancel, act on a stale
copy. After every step: reserved per (store, sku) = Σ journal (reserve − release − consume) =
stock_level.reserved; reserved per line = the line's open quantity (0 once voided, delivered or
cancelled); available = on hand − reserved; nothing is ever negative."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from data import orders, pickups
from data.catalog import lookup
from data.db import make_engine
from data.operators import by_code
from data.orders import OrderConflict, OrderError
from data.payments import CASH
from data.places import ensure_place
from data.pricing import price_cart
from tests.conftest import COFFEE, GREENS, HIGHLIGHTER, MILK, WATER
from tests.order_helpers import D, details, journal_sums, keep_lines, level, new_line

CODES = [COFFEE, MILK, WATER, GREENS, HIGHLIGHTER]
STORE = "BKK01"
_TEMPLATE: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def _template(demo_template):
    _TEMPLATE["db"] = demo_template


class OrderJournal(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="orders-journal-"))
        shutil.copy(_TEMPLATE["db"], self.dir / "till.db")
        self.engine = make_engine(f"sqlite:///{self.dir / 'till.db'}")
        self.place = ensure_place(self.engine, store_id=STORE, store_name="Demo Store", terminal="T1",
                                  currency="THB", locale="th_TH", timezone="Asia/Bangkok", prices_include_vat=True,
                                  cash_rounding=D("0.25"))
        self.cashier = by_code(self.engine, "1")
        self.products = {c: lookup(self.engine, c) for c in CODES}
        self.numbers: list[str] = []
        self.open_qty: dict[int, Decimal] = {}  # the model: line id → what it should still hold
        self.stale: dict[str, int] = {}  # an old version of each order

    def teardown(self):
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------

    def _order(self, index: int) -> orders.OrderView:
        return orders.get_order(self.engine, self.numbers[index % len(self.numbers)])

    def _remember(self, view: orders.OrderView) -> None:
        for l in view.lines:
            self.open_qty[l.id] = l.open_qty if view.status in orders.OPEN_STATUSES else D(0)

    def _update(self, o, lines):
        try:
            view = orders.update_order(self.engine, o.number, o.version, "9", lines, o.details)
        except OrderConflict:
            assert o.status not in orders.OPEN_STATUSES
            return None
        except OrderError as exc:
            assert "cancel it instead" in str(exc)
            return None
        self._remember(view)
        return view

    # -- rules ----------------------------------------------------------------------------------

    @initialize(items=st.lists(st.tuples(st.sampled_from(CODES), st.integers(1, 3)), min_size=1, max_size=3,
                               unique_by=lambda t: t[0]))
    def first_order(self, items):
        self.create(items)

    @rule(items=st.lists(st.tuples(st.sampled_from(CODES), st.integers(1, 3)), min_size=1, max_size=3,
                         unique_by=lambda t: t[0]))
    def create(self, items):
        view = orders.create_order(self.engine, STORE, "9", [new_line(self.engine, c, q) for c, q in items],
                                   details(), currency="THB", prices_include_vat=True)
        self.numbers.append(view.number)
        self.stale[view.number] = view.version
        for l, (_, q) in zip(view.lines, items):
            assert l.quantity == q
        self._remember(view)

    @rule(index=st.integers(0, 50), line=st.integers(0, 10), extra=st.integers(0, 3))
    def change_quantity(self, index, line, extra):
        o = self._order(index)
        live = [l for l in o.lines if l.status != "voided"]
        if not live:
            return
        target = live[line % len(live)]
        qty = max(target.picked + extra, D(1))
        # By line, not by sku: an order can hold two lines of one product, picked up differently.
        self._update(o, [replace(n, quantity=qty) if n.line_id == target.id else n for n in keep_lines(o)])

    @rule(index=st.integers(0, 50), code=st.sampled_from(CODES), qty=st.integers(1, 3))
    def add_line(self, index, code, qty):
        o = self._order(index)
        self._update(o, keep_lines(o, engine=self.engine, add=[(code, qty)]))

    @rule(index=st.integers(0, 50), line=st.integers(0, 10))
    def void_line(self, index, line):
        o = self._order(index)
        open_lines = [l for l in o.lines if l.status == "open"]
        if not open_lines:
            return
        target = open_lines[line % len(open_lines)]
        kept = [n for n in keep_lines(o) if n.line_id != target.id]
        if self._update(o, kept) is not None:
            assert self.open_qty[target.id] == 0

    @rule(index=st.integers(0, 50), fractions=st.lists(st.integers(0, 3), min_size=1, max_size=6))
    def partial_pickup(self, index, fractions):
        o = self._order(index)
        if o.status not in orders.OPEN_STATUSES:
            return
        picks = {}
        for l, f in zip(o.open_lines, fractions):
            qty = min(D(f), l.open_qty)
            if qty > 0:
                picks[l.id] = qty
        if not picks:
            return
        cart = orders.pickup_cart(o, picks, pickups.local_products(self.engine, [l.sku for l in o.lines]))
        total = price_cart(cart, currency="THB", prices_include_vat=True).total
        pickup = pickups.Pickup(o, picks)
        payment = pickup.payment("THB", D("0.25"), total)
        if not payment.complete:
            payment.apply(CASH)
        sold = {}
        for l in o.lines:
            if l.id in picks:
                sold[l.sku] = sold.get(l.sku, D(0)) + picks[l.id]
        on_hand = {sku: level(self.engine, STORE, self.products_by_sku(sku).id)[0] for sku in sold}
        _, view = pickups.complete_pickup(self.engine, self.engine, self.place, self.cashier, pickup, cart, payment)
        before = {l.id: l.picked for l in o.lines}
        for l in view.lines:
            assert l.picked == before[l.id] + picks.get(l.id, D(0))
        for sku, qty in sold.items():
            assert level(self.engine, STORE, self.products_by_sku(sku).id)[0] == on_hand[sku] - qty
        self._remember(view)

    def products_by_sku(self, sku):
        return next(p for p in self.products.values() if p.sku == sku)

    @rule(index=st.integers(0, 50))
    def cancel(self, index):
        o = self._order(index)
        try:
            view = orders.cancel_order(self.engine, o.number, operator="9", reason="test")
        except OrderConflict:
            assert o.status not in orders.OPEN_STATUSES
            return
        assert view.status == "cancelled"
        self._remember(view)

    @precondition(lambda self: self.numbers)
    @rule(index=st.integers(0, 50))
    def stale_copy_is_refused(self, index):
        o = self._order(index)
        old = self.stale[o.number]
        if old == o.version:
            return
        before = journal_sums(self.engine)
        with pytest.raises(OrderConflict):
            orders.update_order(self.engine, o.number, old, "9", keep_lines(o), o.details)
        assert journal_sums(self.engine) == before

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def reserved_is_the_journal_sum_and_the_stock_level(self):
        sums = journal_sums(self.engine)
        for code, info in self.products.items():
            journal = sums.get((STORE, info.sku), D(0))
            on_hand, reserved = level(self.engine, STORE, info.id)
            assert journal == reserved == orders.reserved_of(self.engine, STORE, info.sku), code
            assert reserved >= 0 and on_hand >= 0
            inv = orders.inventory(self.engine, info.sku)
            for s in inv.stores:
                assert s.available == s.on_hand - s.reserved
                assert s.reserved >= 0
            assert sum(h.reserved for h in inv.holdings) == journal

    @invariant()
    def reserved_per_line_is_its_open_quantity(self):
        model_by_sku: dict[str, Decimal] = {}
        for number in self.numbers:
            view = orders.get_order(self.engine, number)
            by_line = orders.reserved_by_line(self.engine, number)
            for l in view.lines:
                held = by_line.get(l.id, D(0))
                expected = l.open_qty if view.status in orders.OPEN_STATUSES else D(0)
                assert held == expected == self.open_qty[l.id], (number, l)
                assert held >= 0 and l.picked >= 0 and l.quantity >= l.picked
                if l.status in ("voided", "delivered"):
                    assert held == 0
                model_by_sku[l.sku] = model_by_sku.get(l.sku, D(0)) + held
            if view.status in ("delivered", "cancelled"):
                assert not view.open_lines
        sums = journal_sums(self.engine)
        for sku, held in model_by_sku.items():
            assert sums.get((STORE, sku), D(0)) == held


OrderJournal.TestCase.settings = settings(max_examples=12, stateful_step_count=10, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestOrderJournal = OrderJournal.TestCase
