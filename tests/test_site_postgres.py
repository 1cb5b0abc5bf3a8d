"""The site connector against a real PostgreSQL site database, with two tills (two SQLite files, one at
BKK01 and one at BKK02) selling while the site is reachable, while it is not (its URL pointing at a
closed port) and again once it is back: the site ends with every receipt exactly once and the right
stock per store and SKU; a replayed job adds nothing; two tills delivering at the same moment, both
making the same missing operator and product at the site, neither fail nor double anything.

Skipped unless TILL_TEST_PG_URL names a server, e.g.
    TILL_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres
Each test module run makes its own throwaway database there and drops it afterwards.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, text

from app.config import load_settings
from app.exports import run_once, targets
from app.tui import place_from_settings
from data import outbox, site_sync
from data.catalog import lookup
from data.db import make_engine, upgrade
from data.demo import seed_demo
from data.models import (Barcode, DayClose, ExportJob, Operator, Payment, Product, Sale, SaleLine, StockLevel,
                         StockMove, Terminal)
from data.operators import by_code, create_operator
from data.payments import CASH, PaymentState
from data.places import ensure_place
from data.reports import close_day
from data.sales import commit_refund, commit_sale, refundable
from data.types import utcnow
from tests.carts import paid_cart
from tests.pg import demo_place, throwaway_database
from tests.conftest import COFFEE, DEMO_TOML, GREENS, HIGHLIGHTER, MILK, WATER

PG_URL = os.environ.get("TILL_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="set TILL_TEST_PG_URL to run the PostgreSQL tests")
CLOSED = "postgresql+psycopg://postgres@127.0.0.1:1/postgres"
RICE = "8850000000041"  # RC-001
EGGS = "8850000000089"  # EG-001
LONG_AGO = "2000-01-01 00:00:00"


@pytest.fixture(scope="module")
def site_url():
    """A fresh PostgreSQL site database: migrated, the demo catalogue with stock at BKK01 (100 of each),
    and the BKK02 store (no stock rows: its stock moves from zero)."""
    from app.connectors import site

    with throwaway_database("till_site") as url:
        engine = make_engine(url)
        upgrade(engine)
        seed_demo(engine, ensure_place(engine, **demo_place("BKK01", "SITE")), products=300)
        ensure_place(engine, **demo_place("BKK02", "SITE"))
        engine.dispose()
        yield url
        site.forget(url)


@pytest.fixture
def site(site_url):
    engine = make_engine(site_url)
    yield engine
    engine.dispose()


class Till:
    """One till: its own home (till.toml with its store and terminal) and SQLite file, a copy of the
    demo store; it remembers what it sold so the site can be checked against it."""

    def __init__(self, root, template, store_id: str, terminal: str, url: str):
        home = root / f"{store_id}-{terminal}"
        home.mkdir(parents=True)
        toml = DEMO_TOML.replace('id = "BKK01"', f'id = "{store_id}"').replace('terminal = "T1"',
                                                                                f'terminal = "{terminal}"')
        (home / "till.toml").write_text(toml, encoding="utf-8")
        shutil.copy(template, home / "till.db")
        self.url = url
        self.settings = load_settings(home)
        self.settings.site.url = url
        self.engine = make_engine(self.settings.database_url)
        self.place = place_from_settings(self.settings, self.engine)
        assert (self.place.store_id, self.place.terminal_code) == (store_id, terminal)
        self.cashier = by_code(self.engine, "1")
        self.manager = by_code(self.engine, "9")
        self.numbers: list[str] = []
        self.moved: Counter = Counter()  # (store, sku) -> signed quantity, as the site should see it

    def online(self, up: bool) -> None:
        self.settings.site.url = self.url if up else CLOSED

    def sell(self, items, operator=None) -> str:
        cart, payment = paid_cart(self.engine, self.place, items)
        number = commit_sale(self.engine, self.place, operator or self.cashier, cart, payment,
                             exports=targets(self.settings))
        self.numbers.append(number)
        for code, qty in items:
            self.moved[(self.place.store_id, lookup(self.engine, code).sku)] -= Decimal(qty)
        return number

    def refund_one(self, number: str, sku: str) -> str:
        line = next(line for line in refundable(self.engine, number).lines if line.sku == sku)
        pay = PaymentState(line.unit_price, self.place.currency, Decimal("0.01"))
        pay.apply(CASH, line.unit_price)
        refund = commit_refund(self.engine, self.place, self.cashier, self.manager, number, {line.line_id: Decimal(1)},
                               pay, uid=str(uuid.uuid4()), reason="broken", exports=targets(self.settings))
        self.numbers.append(refund)
        self.moved[(self.place.store_id, sku)] += 1
        return refund

    def close_day(self) -> str:
        close_day(self.engine, self.place, self.manager, {}, Decimal("0"), tolerance=Decimal("100000"),
                  approver=self.manager, reason="test", exports=targets(self.settings))
        with self.engine.connect() as conn:
            z = conn.execute(select(func.max(DayClose.z_number)).where(
                DayClose.terminal_id == self.place.terminal_id)).scalar_one()
        return f"{self.place.store_id}-{self.place.terminal_code}-Z{z:06d}"

    def run(self):
        return run_once(self.settings, self.engine)

    def jobs(self):
        with self.engine.connect() as conn:
            return conn.execute(select(ExportJob.id, ExportJob.source_id, ExportJob.state, ExportJob.attempt_count)
                                .where(ExportJob.connector == "site").order_by(ExportJob.id)).all()

    def force_due(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE export_job SET next_attempt_at = :t WHERE connector = 'site' "
                              "AND state = 'retry_wait'"), {"t": LONG_AGO})

    def records(self):
        records, missing = site_sync.read_records(self.engine, [(j.id, j.event, j.source_id)
                                                                for j in outbox.list_jobs(self.engine, connector="site")])
        assert not missing
        return records


@pytest.fixture
def make_till(tmp_path, demo_template, site_url):
    made = []

    def build(store_id: str, terminal: str) -> Till:
        till = Till(tmp_path, demo_template, store_id, terminal, site_url)
        made.append(till)
        return till

    yield build
    for till in made:
        till.engine.dispose()


def _receipts(site, tills) -> list[str]:
    """Every receipt number the site holds for these tills' terminals (duplicates kept)."""
    keys = {(t.place.store_id, t.place.terminal_code) for t in tills}
    with site.connect() as conn:
        rows = conn.execute(select(Sale.receipt_number, Terminal.store_id, Terminal.code)
                            .join(Terminal, Sale.terminal_id == Terminal.id)).all()
    return [number for number, store, code in rows if (store, code) in keys]


def _stock(site) -> dict[tuple[str, str], Decimal]:
    with site.connect() as conn:
        return {(s, sku): q for s, sku, q in conn.execute(
            select(StockLevel.store_id, Product.sku, StockLevel.on_hand).join(Product, StockLevel.product_id == Product.id))}


def _counts(site) -> dict[str, int]:
    with site.connect() as conn:
        return {m.__name__: conn.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Sale, SaleLine, Payment, StockMove, DayClose, Operator, Product)}


def _expected_stock(before, tills) -> dict[tuple[str, str], Decimal]:
    moved: Counter = Counter()
    for t in tills:
        moved.update(t.moved)
    return {key: before.get(key, Decimal(0)) + q for key, q in moved.items()}


def test_two_tills_online_offline_and_back_every_sale_once_with_stock(site, make_till):
    a, b = make_till("BKK01", "T1"), make_till("BKK02", "T1")
    before = _stock(site)
    assert before[("BKK01", "CF-001")] == 100 and ("BKK02", "CF-001") not in before

    # 1. Online: a few sales and a refund at each till, delivered.
    first_a = a.sell([(COFFEE, 2), (WATER, 1)])
    a.sell([(MILK, 3)])
    a.refund_one(first_a, "CF-001")
    first_b = b.sell([(COFFEE, 1), (GREENS, 4)])
    b.sell([(HIGHLIGHTER, 2), (WATER, 5)])
    b.refund_one(first_b, "VG-001")
    for till in (a, b):
        report = till.run()
        assert report.site is not None and report.site.online and report.site.sent == 3, report
        assert outbox.backlog(till.engine, "site") == (0, None)
    assert sorted(_receipts(site, [a, b])) == sorted(a.numbers + b.numbers)

    # 2. Offline: the tills go on selling; nothing reaches the site, no attempt is used.
    for till in (a, b):
        till.online(False)
    a.sell([(RICE, 1), (COFFEE, 1)])
    a.sell([(EGGS, 2)])
    b.sell([(MILK, 1)])
    b.sell([(COFFEE, 3), (RICE, 2)])
    b.sell([(EGGS, 1)])
    z_ref = a.close_day()  # the Z comes last at till A: it covers all of A's sales
    offline_jobs = {a: 3, b: 3}
    for till in (a, b):
        report = till.run()
        assert report.site is not None and report.site.online is False, report
        assert "site database offline" in report.site.error and report.site.sent == 0
        count, oldest = outbox.backlog(till.engine, "site")
        assert count == offline_jobs[till] and oldest is not None
        waiting = [j for j in till.jobs() if j.state != "succeeded"]
        assert len(waiting) == offline_jobs[till]
        assert {(j.state, j.attempt_count) for j in waiting} == {("retry_wait", 0)}
        assert outbox.claim_in_order(till.engine, "site", "test") == []  # not due yet (≈ now + 10 s)
    assert sorted(_receipts(site, [a, b])) == sorted(a.numbers[:3] + b.numbers[:3])

    # 3. Back: what waited arrives, in order, exactly once.
    for till in (a, b):
        till.online(True)
        till.force_due()
        report = till.run()
        assert report.site.online and report.site.sent == offline_jobs[till], report
        assert outbox.backlog(till.engine, "site") == (0, None)
    made = a.numbers + b.numbers
    assert len(made) == 11
    got = _receipts(site, [a, b])
    assert len(got) == len(made) and set(got) == set(made)
    expected = _expected_stock(before, [a, b])
    after = _stock(site)
    assert {key: after[key] for key in expected} == expected
    assert expected[("BKK01", "CF-001")] == 100 - 2 + 1 - 1 and expected[("BKK02", "CF-001")] == -4
    assert {k: v for k, v in after.items() if k not in expected} == {k: v for k, v in before.items()
                                                                      if k not in expected}
    with site.connect() as conn:
        z = conn.execute(select(DayClose).join(Terminal, DayClose.terminal_id == Terminal.id).where(
            Terminal.store_id == "BKK01", Terminal.code == "T1")).one()
        last_a = conn.execute(select(Sale.id).where(Sale.receipt_number == a.numbers[-1])).scalar_one()
        refund = conn.execute(select(Sale.refund_of_id).where(Sale.receipt_number == a.numbers[2])).scalar_one()
        first = conn.execute(select(Sale.id).where(Sale.receipt_number == first_a)).scalar_one()
    assert z_ref.endswith(f"Z{z.z_number:06d}") and z.last_sale_id == last_a
    assert refund == first

    # Replay: a succeeded job sent again (a worker that died after the site committed) adds nothing.
    counts = _counts(site)
    job = a.jobs()[0]
    with a.engine.begin() as conn:
        conn.execute(text("UPDATE export_job SET state = 'pending', next_attempt_at = :t WHERE id = :i"),
                     {"t": LONG_AGO, "i": job.id})
    report = a.run()
    assert report.site.online and report.site.sent == 1
    assert [j.state for j in a.jobs()] == ["succeeded"] * len(a.jobs())
    assert _counts(site) == counts and _stock(site) == after
    # The same records applied twice by hand: the second time, all of them are already there.
    records = a.records() + b.records()
    assert site_sync.apply_records(site, records).already == len(records)
    applied = site_sync.apply_records(site, records)
    assert (applied.added, applied.already) == (0, len(records))
    assert _counts(site) == counts and _stock(site) == after
    assert sorted(_receipts(site, [a, b])) == sorted(made)


def test_a_z_followed_by_sales_in_the_same_batch_covers_only_the_sales_before_it(site, make_till):
    till = make_till("BKK01", "T3")
    till.online(False)
    till.sell([(COFFEE, 1)])
    covered = till.sell([(WATER, 2)])
    till.close_day()
    till.sell([(MILK, 1)])  # the next business day's first sale, written before the site is back
    assert not till.run().site.online
    till.online(True)
    till.force_due()
    assert till.run().site.sent == 4  # one batch: sale, sale, Z, sale
    with site.connect() as conn:
        z = conn.execute(select(DayClose).join(Terminal, DayClose.terminal_id == Terminal.id).where(
            Terminal.store_id == "BKK01", Terminal.code == "T3")).one()
        covered_id = conn.execute(select(Sale.id).where(Sale.receipt_number == covered)).scalar_one()
    assert z.last_sale_id == covered_id


def _new_product(till: Till, sku: str, barcode: str, price: str) -> None:
    """A product the till knows and the site does not (made at the till, as an import would)."""
    with till.engine.begin() as conn:
        pid = conn.execute(insert(Product.__table__).returning(Product.__table__.c.id), {
            "sku": sku, "name": f"New item {sku}", "name_en": "", "price": Decimal(price), "vat_rate": Decimal(7),
            "active": True, "external_ids": {}, "search_text": sku.lower(), "updated_at": utcnow()}).scalar_one()
        conn.execute(insert(Barcode.__table__), {"code": barcode, "product_id": pid})


def test_two_tills_delivering_at_once_both_making_the_same_missing_rows(site, make_till, monkeypatch):
    """Both tills sell with an operator and a product the site has never seen, and deliver at the same
    moment: both transactions try to insert the same operator row. The one that loses the race meets a
    unique violation; the connector then applies its batch record by record, which finds the rows."""
    from app.connectors import site as connector

    a, b = make_till("BKK01", "T2"), make_till("BKK02", "T2")
    for till in (a, b):
        create_operator(till.engine, "77", "Nok (new)", "7777")
        _new_product(till, "NEW-RACE-1", "2000000000015", "25.00")
        _new_product(till, "NEW-RACE-2", "2000000000022", "30.00")
        till.online(False)
    for till, qty in ((a, 2), (b, 3)):
        nok = by_code(till.engine, "77")
        for _ in range(3):
            till.sell([("2000000000015", qty), ("2000000000022", 1), (COFFEE, 1)], operator=nok)
        till.sell([(WATER, 1)])
        assert not till.run().site.online
        till.online(True)
        till.force_due()
    before, counts = _stock(site), _counts(site)

    # Both transactions reach the operator insert together (each waits here for the other, once).
    meet = threading.Barrier(2, timeout=5)
    ensure = site_sync._ensure_operators
    one_by_one = connector._one_by_one
    met: set[int] = set()
    fallbacks: list[str] = []

    def ensure_together(conn, people):
        if threading.get_ident() not in met:
            met.add(threading.get_ident())
            try:
                meet.wait()
            except threading.BrokenBarrierError:
                pass
        return ensure(conn, people)

    def spy(site_engine, jobs, by_id, results):
        fallbacks.append(f"{threading.current_thread().name}: {connector.reason(sys.exc_info()[1])}")
        return one_by_one(site_engine, jobs, by_id, results)

    monkeypatch.setattr(site_sync, "_ensure_operators", ensure_together)
    monkeypatch.setattr(connector, "_one_by_one", spy)
    reports, errors = {}, []

    def deliver(till: Till) -> None:
        try:
            reports[till.place.store_id] = till.run()
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(t,), name=t.place.store_id) for t in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads) and errors == []
    for till in (a, b):
        report = reports[till.place.store_id]
        assert report.site.online and report.site.error == "" and report.site.sent == 4, (till.place.store_id,
                                                                                           report, fallbacks)
        assert outbox.backlog(till.engine, "site") == (0, None)
        assert {(j.state, j.attempt_count) for j in till.jobs()} == {("succeeded", 1)}
    assert len(fallbacks) <= 1, fallbacks  # at most the loser of the race went record by record
    with site.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Operator).where(Operator.code == "77")).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(Product)
                            .where(Product.sku.in_(["NEW-RACE-1", "NEW-RACE-2"]))).scalar_one() == 2
    got = _receipts(site, [a, b])
    assert len(got) == 8 and set(got) == set(a.numbers + b.numbers)
    after = _stock(site)
    expected = _expected_stock(before, [a, b])
    assert {key: after[key] for key in expected} == expected
    assert expected[("BKK01", "NEW-RACE-1")] == -6 and expected[("BKK02", "NEW-RACE-1")] == -9
    grown = {k: after_n - counts[k] for k, after_n in _counts(site).items()}
    assert grown == {"Sale": 8, "SaleLine": 20, "Payment": 8, "StockMove": 20, "DayClose": 0, "Operator": 1,
                     "Product": 2}


def test_a_price_changed_at_the_site_reaches_both_tills_with_the_pull(site, make_till):
    from app.site_link import pull_catalogue

    a, b = make_till("BKK01", "T5"), make_till("BKK02", "T5")
    for till in (a, b):
        pull_catalogue(till.settings, till.engine)
    with site.begin() as conn:
        conn.execute(Product.__table__.update().where(Product.sku == "WT-001")
                     .values(price=Decimal("8.50"), updated_at=utcnow()))
    create_operator(site, "66", "Head office", "6666", role="manager")
    for till in (a, b):
        assert pull_catalogue(till.settings, till.engine) == 2  # the price and the new operator
        assert lookup(till.engine, WATER).price == Decimal("8.50")
        assert by_code(till.engine, "66").is_manager
        assert pull_catalogue(till.settings, till.engine) == 0
    # A sale at the new price reaches the site with it.
    number = a.sell([(WATER, 2)])
    assert a.run().site.sent >= 1
    with site.connect() as conn:
        assert conn.execute(select(Sale.total).where(Sale.receipt_number == number)).scalar_one() == Decimal("17.00")
