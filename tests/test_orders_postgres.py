"""Customer orders in a shared site database (PostgreSQL) used by tills of two stores, each with its
own SQLite database: an order taken at one store for pickup at the other is seen there; two tills
picking up the same order at once: exactly one succeeds; an unreachable site gives a clear error.

The PostgreSQL tests are skipped unless TILL_TEST_PG_URL names a server, e.g.
    TILL_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres
The unreachable-site tests need no server (they point at a closed port) and always run.
"""

from __future__ import annotations

import json
import os
import shutil
import threading

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from data import orders, outbox, pickups
from data.db import DatabaseError, make_engine, upgrade
from data.demo import seed_demo
from data.operators import by_code
from data.outbox import ExportTarget
from data.orders import OrderConflict, OrderError, OrderFilter
from data.payments import CASH, PaymentState
from data.places import ensure_place
from data.pricing import price_cart
from data.sales import receipt_doc
from tests.conftest import COFFEE, MILK, WATER
from tests.pg import demo_place, throwaway_database
from tests.order_helpers import D, make_order, new_line, details

PG_URL = os.environ.get("TILL_TEST_PG_URL")
needs_pg = pytest.mark.skipif(not PG_URL, reason="set TILL_TEST_PG_URL to run the PostgreSQL tests")
CLOSED = "postgresql+psycopg://postgres@127.0.0.1:1/postgres"


@pytest.fixture(scope="module")
def site():
    with throwaway_database("till_orders") as url:
        engine = make_engine(url)
        upgrade(engine)
        # The site knows both stores and the catalogue, so reservations move stock_level.reserved there.
        seed_demo(engine, ensure_place(engine, **demo_place("BKK01", "SITE")), products=50)
        ensure_place(engine, **demo_place("BKK02", "SITE"))
        yield engine
        engine.dispose()


class Till:
    """One till: its own SQLite database (a copy of the demo store) at a store and terminal."""

    def __init__(self, folder, template, store_id: str, terminal: str):
        folder.mkdir(parents=True)
        shutil.copy(template, folder / "till.db")
        self.engine = make_engine(f"sqlite:///{folder / 'till.db'}")
        self.place = ensure_place(self.engine, **demo_place(store_id, terminal))
        self.cashier = by_code(self.engine, "1")

    def pickup(self, site, order, picks):
        cart = orders.pickup_cart(order, picks, pickups.local_products(self.engine, [l.sku for l in order.lines]))
        total = price_cart(cart, currency=order.currency, prices_include_vat=order.prices_include_vat).total
        pickup = pickups.Pickup(order, picks)
        payment = pickup.payment(self.place.currency, self.place.cash_rounding, total)
        if not payment.complete:
            payment.apply(CASH)
        return pickups.complete_pickup(self.engine, site, self.place, self.cashier, pickup, cart, payment)


@pytest.fixture(scope="module")
def tills(tmp_path_factory, demo_template):
    root = tmp_path_factory.mktemp("tills")
    made = {name: Till(root / name, demo_template, store, term)
            for name, store, term in (("a", "BKK01", "T1"), ("a2", "BKK01", "T2"), ("b", "BKK02", "T1"))}
    yield made
    for t in made.values():
        t.engine.dispose()


def order_at(site, till: Till, items=((COFFEE, 1), (MILK, 1)), **kw):
    return orders.create_order(site, till.place.store_id, "9", [new_line(till.engine, c, q) for c, q in items],
                               details(**kw), currency="THB", prices_include_vat=True)


@needs_pg
def test_an_order_taken_at_one_store_is_seen_and_handed_over_at_the_other(site, tills):
    a, b = tills["a"], tills["b"]
    o = order_at(site, a, fulfil_store="BKK02", customer_name="Fah")
    assert o.number.startswith("ORD-BKK01-") and o.fulfil_store == "BKK02"
    listed = [r.number for r in orders.list_orders(site, OrderFilter.parse("store:BKK02 status:open"))[0]]
    assert o.number in listed
    assert o.number in [r.number for r in orders.list_orders(site, OrderFilter.parse("fah"))[0]]
    inv = orders.inventory(site, "CF-001")
    assert next(s for s in inv.stores if s.store_id == "BKK02").reserved >= 1
    assert o.number in [h.number for h in inv.holdings]
    assert orders.reserved_of(site, "BKK02", "CF-001") == sum(
        h.reserved for h in inv.holdings if h.store_id == "BKK02")
    with pytest.raises(OrderError, match="handed over at BKK02"):
        a.pickup(site, o, {l.id: l.quantity for l in o.lines})
    receipt, view = b.pickup(site, orders.get_order(site, o.number), {l.id: l.quantity for l in o.lines})
    assert view.status == "delivered"
    doc = receipt_doc(b.engine, receipt)
    assert receipt.startswith("BKK02-T1-") and doc.order_number == o.number and doc.total == o.total
    assert o.number not in [h.number for h in orders.inventory(site, "CF-001").holdings]


@needs_pg
def test_two_tills_picking_up_the_same_order_at_once_exactly_one_succeeds(site, tills):
    a, a2 = tills["a"], tills["a2"]
    for _ in range(5):
        o = order_at(site, a, ((WATER, 2),))
        picks = {o.lines[0].id: D(2)}
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def run(name, till):
            barrier.wait()
            try:
                results[name] = till.pickup(site, o, picks)
            except Exception as exc:  # noqa: BLE001 - the test looks at what came back
                results[name] = exc

        threads = [threading.Thread(target=run, args=(n, t)) for n, t in (("a", a), ("a2", a2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        won = [n for n, r in results.items() if isinstance(r, tuple)]
        lost = [r for r in results.values() if not isinstance(r, tuple)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], OrderConflict), lost[0]
        assert o.number in str(lost[0]) and "open it again" in str(lost[0])
        receipt, view = results[won[0]]
        assert view.status == "delivered"
        assert receipt_doc(tills[won[0]].engine, receipt).order_number == o.number
        loser = tills["a2" if won[0] == "a" else "a"]
        with pytest.raises(Exception):
            receipt_doc(loser.engine, receipt)  # the losing till sold nothing
        consumed = [j for j in orders.journal_of(site, o.number) if j.kind == "consume"]
        assert [(j.quantity, j.note) for j in consumed] == [(D(2), f"picked up on {receipt}")]
        assert orders.reserved_by_line(site, o.number) == {o.lines[0].id: 0}


@needs_pg
def test_a_deposit_noted_while_the_site_was_down_is_added_once_on_retry(site, tills):
    a = tills["a"]
    o = order_at(site, a, ((COFFEE, 2),))
    payment = PaymentState(D("40"), "THB", D("0.25"))
    payment.apply(CASH)
    offline = make_engine(CLOSED)
    with pytest.raises(OperationalError):
        pickups.take_deposit(a.engine, offline, a.place, a.cashier, o, payment, uid="dep-retry")
    # The money is in this drawer already (its receipt committed first) …
    receipt, view = pickups.take_deposit(a.engine, site, a.place, a.cashier, o, payment, uid="dep-retry")
    assert receipt_doc(a.engine, receipt).kind == "deposit"
    assert view.paid == D("40")
    again_receipt, again = pickups.take_deposit(a.engine, site, a.place, a.cashier, view, payment, uid="dep-retry")
    assert again_receipt == receipt and again.paid == D("40")


@needs_pg
def test_order_events_go_to_the_site_outbox_and_the_back_office_delivers_them(site, tills, settings):
    """With orders in the site database an order's events are written to the site's outbox in the
    order's own transaction (not to the till's), and a runner on the site database (the back office)
    delivers them, signed, once."""
    from app.config import ConnectorSettings
    from app.exports import run_once
    from data.health import export_history
    from tests.webhook_receiver import SECRET, Receiver

    a = tills["a"]
    hooks = (ExportTarget("hq", "webhook", ("order.created", "order.updated"), True, (1,)),
             ExportTarget("site", "site", ("sale.completed", "deposit.taken"), True, (1,)))
    o = orders.create_order(site, a.place.store_id, "9", [new_line(a.engine, COFFEE, 1)], details(customer_name="Ice"),
                            currency="THB", prices_include_vat=True, exports=hooks)
    orders.mark_ready(site, [o.number], operator="9", exports=hooks)
    history = export_history(site, "order", o.number)
    assert [(j.connector, j.event) for j in history] == [("hq", "order.created"), ("hq", "order.updated")]
    assert export_history(a.engine, "order", o.number) == []  # nothing in the till's own outbox
    receiver = Receiver()
    try:
        office = settings.model_copy(deep=True)
        office.connectors = [ConnectorSettings(name="hq", kind="webhook", url=receiver.url, secret=SECRET, live=True,
                                               retry_schedule=[1, 1, 1])]
        run_once(office, site)
        run_once(office, site)  # nothing twice
    finally:
        receiver.stop()
    got = [r for r in receiver.requests if r["valid"] and o.number in r["body"].decode()]
    assert [json.loads(r["body"])["data"]["status"] for r in got] == ["open", "ready"]
    assert {j.state for j in export_history(site, "order", o.number)} == {"succeeded"}


@needs_pg
def test_runners_sharing_the_site_outbox_never_lease_the_same_job(site):
    """Two delivery runners on one PostgreSQL outbox, claiming at the same moment round after round:
    each job is leased to exactly one of them."""
    from data.db import writer
    from data.models import ExportJob

    target = ExportTarget("race", "webhook", ("order.created",), True, (1,))
    with writer(site).begin() as conn:
        for n in range(60):
            outbox.enqueue(conn, [target], "order.created", "order", f"RACE-{n:03d}", {"n": n})
    claimed: dict[str, list[int]] = {"r1": [], "r2": []}
    barrier = threading.Barrier(2)

    def runner(name: str) -> None:
        for _ in range(12):
            barrier.wait()
            claimed[name] += [j.id for j in outbox.claim(site, "race", name, limit=5)]

    threads = [threading.Thread(target=runner, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    both = claimed["r1"] + claimed["r2"]
    assert len(both) == len(set(both)) == 60
    with site.connect() as conn:
        from sqlalchemy import func, select

        assert conn.execute(select(func.count()).select_from(ExportJob).where(
            ExportJob.connector == "race", ExportJob.state == "in_flight")).scalar_one() == 60


def _at_once(n: int, work) -> list:
    """`work(i)` in n threads released together; what each returned or raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test looks at what came back
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@needs_pg
def test_the_first_orders_of_a_store_taken_at_once_are_numbered_1_to_n(site, tills):
    """A store's first order makes its number series. Four tills of a new store taking their first
    orders at the same moment: each gets its number, gapless; none fails on the series' key."""
    a = tills["a"]
    for store in ("NEW01", "NEW02"):
        made = _at_once(4, lambda i: orders.create_order(
            site, store, "9", [new_line(a.engine, COFFEE, 1)], details(customer_name=f"First {i}"),
            currency="THB", prices_include_vat=True).number)
        assert all(isinstance(m, str) for m in made), made
        assert sorted(made) == [orders.format_order_number(store, n) for n in (1, 2, 3, 4)]


@needs_pg
def test_the_same_e_commerce_order_imported_by_two_tills_at_once_is_imported_once(site, tills):
    """Two imports of one file at the same moment (two tills, a cron job run twice): one imports it,
    the others say "already imported"; nothing is rejected or fails on the external id's key."""
    from data.order_import import import_orders

    raw = [{"external_id": "WEB-RACE-1", "customer": {"name": "Race"}, "lines": [{"sku": "CF-001", "quantity": 1}]}]
    results = _at_once(3, lambda i: import_orders(tills["a"].engine, site, raw, store_id="BKK01", operator="import",
                                                  currency="THB", prices_include_vat=True))
    assert all(not isinstance(r, Exception) for r in results), results
    number = orders.find_by_external_id(site, "WEB-RACE-1").number
    assert sorted(len(r.imported) for r in results) == [0, 0, 1]
    assert all(r.imported == [("WEB-RACE-1", number)] or r.existing == [("WEB-RACE-1", number)] for r in results)
    assert all(not r.rejected for r in results)
    assert len(orders.journal_of(site, number)) == 1, "reserved once"


@needs_pg
def test_reserved_summed_from_the_journal_is_the_quantity_on_postgresql(site, tills):
    """The journal's sums (the stock screen, the holdings, the per-line check) in item quantities on
    PostgreSQL too, where SUM() of the scaled column comes back as a numeric, not an integer."""
    from tests.conftest import GREENS

    a = tills["a"]
    before = orders.reserved_of(site, "BKK01", "VG-001")
    o = order_at(site, a, ((GREENS, 3),), customer_name="Sum")
    assert orders.reserved_of(site, "BKK01", "VG-001") == before + 3
    assert orders.reserved_by_line(site, o.number) == {o.lines[0].id: D(3)}
    inv = orders.inventory(site, "VG-001")
    assert next(st.reserved for st in inv.stores if st.store_id == "BKK01") == before + 3
    assert [(h.number, h.reserved) for h in inv.holdings if h.number == o.number] == [(o.number, D(3))]


@needs_pg
def test_orders_reserving_the_same_item_at_once_keep_reserved_equal_to_the_journal(site, tills):
    """stock_level.reserved is the journal's running sum. Tills reserving, releasing and consuming
    the same item at the same moment must each move it by their own amount (a value read, changed
    and written back loses the others' changes)."""
    from sqlmodel import Session

    from data.catalog import lookup
    from data.models import StockLevel
    from tests.order_helpers import journal_sums

    a, a2 = tills["a"], tills["a2"]
    pid = lookup(site, "HL-001").id

    def level() -> D:
        with Session(site) as s:
            row = s.get(StockLevel, ("BKK01", pid))
            return row.reserved if row else D(0)

    def work(i):
        till = a if i % 2 else a2
        for n in range(4):
            o = orders.create_order(site, "BKK01", "9", [new_line(till.engine, "4006381333931", 2)],
                                    details(customer_name=f"Race {i}-{n}"), currency="THB", prices_include_vat=True)
            if n == 1:
                orders.cancel_order(site, o.number, operator="9", reason="race")
            elif n == 2:
                till.pickup(site, o, {o.lines[0].id: D(1)})
        return True

    results = _at_once(4, work)
    assert results == [True] * 4, results
    assert level() == journal_sums(site)[("BKK01", "HL-001")] == D(4 * (2 + 1 + 2))


# -- the site unreachable (no server needed) ----------------------------------------------------------

@pytest.fixture
def offline():
    e = make_engine(CLOSED)
    yield e
    e.dispose()


def test_orders_functions_on_an_unreachable_site_raise_operational_error(offline, engine, place, cashier):
    """What the screens catch to say "site offline": sqlalchemy.exc.OperationalError (a DBAPIError
    whose .orig is psycopg.OperationalError), raised at once from every orders function."""
    calls = [
        lambda: orders.list_orders(offline, OrderFilter()),
        lambda: orders.get_order(offline, "ORD-BKK01-000001"),
        lambda: orders.inventory(offline, "CF-001"),
        lambda: orders.mark_ready(offline, ["ORD-BKK01-000001"], operator="9"),
        lambda: orders.create_order(offline, "BKK01", "9", [new_line(engine, COFFEE, 1)], details(),
                                    currency="THB", prices_include_vat=True),
        lambda: orders.cancel_order(offline, "ORD-BKK01-000001", operator="9", reason="x"),
    ]
    for call in calls:
        with pytest.raises(OperationalError) as info:
            call()
        assert isinstance(info.value.orig, psycopg.OperationalError)
        assert "127.0.0.1" in str(info.value.orig) and "port 1" in str(info.value.orig)
    # mark_ready reports per order only what OrderError says; a lost site is not an order's fault.
    assert not isinstance(OperationalError("x", {}, Exception()), OrderError)


def test_pickup_with_the_site_down_sells_nothing(offline, engine, place, cashier):
    o = make_order(engine, place, ((COFFEE, 1),))
    cart = orders.pickup_cart(o, {o.lines[0].id: D(1)}, pickups.local_products(engine, ["CF-001"]))
    payment = PaymentState(D("45.00"), "THB", D("0.25"))
    payment.apply(CASH)
    with pytest.raises(OperationalError):
        pickups.complete_pickup(engine, offline, place, cashier, pickups.Pickup(o, {o.lines[0].id: D(1)}), cart,
                                payment)
    from data.sales import last_receipt_number

    assert last_receipt_number(engine, place.terminal_id) is None, "the claim comes first: no sale"


def test_opening_an_unreachable_site_database_is_one_clear_line(offline):
    with pytest.raises(DatabaseError, match=r"cannot upgrade database postgresql\+psycopg://postgres@127.0.0.1:1"):
        upgrade(offline)


def test_import_with_an_unreachable_site_is_one_error_line(home, capsys):
    from app.cli import main

    with open(home / "till.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[site]\nurl = "{CLOSED}"\n')
    (home / "orders.json").write_text('{"orders": []}', encoding="utf-8")
    assert main(["import", "orders", str(home / "orders.json"), "--home", str(home)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("till: error: site database postgresql+psycopg://postgres@127.0.0.1:1/postgres unreachable: connection failed")
