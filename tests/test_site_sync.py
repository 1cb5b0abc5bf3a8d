"""The site connector on real SQLite files (the site database as a second SQLite file here; the same
code runs against PostgreSQL in test_site_postgres.py): sales, refunds, deposits and Z reports arrive
once, in order, with stock; an unreachable site keeps everything waiting without using attempts; a
record the site refuses holds back the ones after it."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.exports import run_once
from data import outbox, site_sync
from data.db import make_engine, upgrade
from data.models import DayClose, ExportJob, Operator, Payment, Product, Sale, SaleLine, StockLevel, StockMove
from data.payments import CASH, PaymentState
from data.reports import close_day
from data.sales import commit_refund, commit_sale, refundable
from tests.carts import paid_cart
from tests.conftest import COFFEE, MILK, WATER

CLOSED = "postgresql+psycopg://postgres@127.0.0.1:1/postgres"


@pytest.fixture
def site_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'site.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _with_site(settings, url):
    s = settings.model_copy(deep=True)
    s.home = settings.home
    s.site.url = url
    return s


def _sell(engine, place, cashier, targets, items=((COFFEE, 2), (WATER, 1))):
    cart, payment = paid_cart(engine, place, items)
    return commit_sale(engine, place, cashier, cart, payment, exports=targets)


def _count(engine, model, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _targets(settings):
    from app.exports import targets

    return targets(settings)


def test_site_connector_is_implicit_with_a_site_url_and_live(settings, site_url):
    s = _with_site(settings, site_url)
    site = s.site_connector()
    assert site is not None and site.kind == "site" and site.live
    assert [t.name for t in _targets(s)] == ["site"]
    assert _targets(s)[0].wants("deposit.taken") and _targets(s)[0].wants("day.closed")
    assert settings.site_connector() is None


def test_sales_refunds_and_z_arrive_once_with_stock(settings, engine, place, cashier, manager, site_url):
    s = _with_site(settings, site_url)
    targets = _targets(s)
    first = _sell(engine, place, cashier, targets)
    second = _sell(engine, place, cashier, targets, ((MILK, 3),))
    sold = refundable(engine, first)
    coffee = next(line for line in sold.lines if line.sku == "CF-001")
    refund_pay = PaymentState(coffee.unit_price, place.currency, Decimal("0.01"))
    refund_pay.apply(CASH, coffee.unit_price)
    refund = commit_refund(engine, place, cashier, manager, first, {coffee.line_id: Decimal(1)}, refund_pay,
                           uid=str(uuid.uuid4()), reason="broken", exports=targets)
    close_day(engine, place, manager, {}, Decimal("0"), tolerance=Decimal("100000"), approver=manager,
              reason="test", exports=targets)

    report = run_once(s, engine)
    assert report.site is not None and report.site.online and report.site.sent == 4
    site = make_engine(site_url)
    assert _count(site, Sale) == 3
    assert _count(site, SaleLine) == 4
    assert _count(site, Payment) == 3
    assert _count(site, DayClose) == 1
    with site.connect() as conn:
        orig_id = conn.execute(select(Sale.id).where(Sale.receipt_number == first)).scalar_one()
        assert conn.execute(select(Sale.refund_of_id).where(Sale.receipt_number == refund)).scalar_one() == orig_id
        refund_line = conn.execute(select(SaleLine.refund_of_line_id).join(Sale, SaleLine.sale_id == Sale.id)
                                   .where(Sale.receipt_number == refund)).scalar_one()
        assert conn.execute(select(SaleLine.sku).where(SaleLine.id == refund_line)).scalar_one() == "CF-001"
        stock = dict(conn.execute(select(Product.sku, StockLevel.on_hand)
                                  .join(StockLevel, StockLevel.product_id == Product.id)).all())
        # The site had none of these products: they were made from the lines, stock moved from zero.
        assert stock == {"CF-001": Decimal(-1), "WT-001": Decimal(-1), "MK-001": Decimal(-3)}
        op = conn.execute(select(Operator).where(Operator.code == cashier.code)).first()
        assert op.pin_hash == site_sync.PLACEHOLDER_PIN and not op.active
        z = conn.execute(select(DayClose)).first()
        assert z.last_sale_id == conn.execute(select(func.max(Sale.id))).scalar_one()
    assert second
    assert _count(engine, ExportJob, ExportJob.connector == "site", ExportJob.state == "succeeded") == 4

    # Replaying the same records (a worker that died after the site committed) changes nothing.
    jobs = [(j.id, j.event, j.source_id) for j in outbox.list_jobs(engine, connector="site")]
    records, missing = site_sync.read_records(engine, jobs)
    assert not missing and len(records) == 4
    applied = site_sync.apply_records(site, records)
    assert (applied.added, applied.already) == (0, 4)
    assert _count(site, Sale) == 3 and _count(site, StockMove) == 4 and _count(site, DayClose) == 1
    assert run_once(s, engine).site.sent == 0


def test_unreachable_site_keeps_everything_waiting_then_it_arrives_once(settings, engine, place, cashier,
                                                                        site_url):
    offline = _with_site(settings, CLOSED)
    targets = _targets(offline)
    numbers = [_sell(engine, place, cashier, targets) for _ in range(3)]
    report = run_once(offline, engine)
    assert report.site is not None and not report.site.online
    assert "site database offline" in report.site.error
    count, oldest = outbox.backlog(engine, "site")
    assert count == 3 and oldest is not None
    with engine.connect() as conn:
        rows = conn.execute(select(ExportJob.state, ExportJob.attempt_count).where(ExportJob.connector == "site")).all()
    assert rows == [("retry_wait", 0)] * 3  # no attempt used while offline
    # Still offline and not due: nothing is claimed.
    assert outbox.claim_in_order(engine, "site", "t") == []

    with engine.begin() as conn:  # the retry time has come
        conn.execute(text("UPDATE export_job SET next_attempt_at = '2000-01-01 00:00:00'"))
    online = _with_site(settings, site_url)
    numbers.append(_sell(engine, place, cashier, targets))
    assert run_once(online, engine).site.sent == 4
    site = make_engine(site_url)
    with site.connect() as conn:
        assert sorted(conn.execute(select(Sale.receipt_number)).scalars()) == sorted(numbers)
    assert outbox.backlog(engine, "site") == (0, None)


def test_a_refused_record_holds_back_the_ones_after_it(settings, engine, place, cashier, site_url):
    s = _with_site(settings, site_url)
    targets = _targets(s)
    numbers = [_sell(engine, place, cashier, targets) for _ in range(3)]
    site = make_engine(site_url)
    # The site already holds another record under the second receipt number: it refuses that one.
    with engine.connect() as conn:
        second = dict(conn.execute(select(Sale.__table__).where(Sale.receipt_number == numbers[1])).first()._mapping)
    records, _ = site_sync.read_records(engine, [(1, "sale.completed", numbers[1])])
    records[0].sale = {**second, "uid": "someone-else"}
    records[0].lines, records[0].payments, records[0].moves = [], [], []
    site_sync.apply_records(site, records)

    report = run_once(s, engine)
    assert report.site.online and report.site.sent == 1
    with engine.connect() as conn:
        states = conn.execute(select(ExportJob.source_id, ExportJob.state, ExportJob.last_error)
                              .where(ExportJob.connector == "site").order_by(ExportJob.id)).all()
    assert [st for _, st, _ in states] == ["succeeded", "retry_wait", "retry_wait"]
    assert "refused" in states[1][2] and "waiting behind" in states[2][2]
    # Nothing after the refused record is claimed until it is sorted out.
    with engine.begin() as conn:
        conn.execute(text("UPDATE export_job SET next_attempt_at = '2000-01-01 00:00:00' WHERE id = :i"),
                     {"i": outbox.list_jobs(engine, connector="site")[0].id})  # the third one only
    assert outbox.claim_in_order(engine, "site", "t") == []


def test_deposits_are_copied_as_receipts(settings, engine, place, cashier, site_url):
    from data.sales import commit_deposit

    s = _with_site(settings, site_url)
    pay = PaymentState(Decimal("100.00"), place.currency, place.cash_rounding)
    pay.apply(CASH, Decimal("100.00"))
    number = commit_deposit(engine, place, cashier, "ORD-BKK01-000001", pay, uid=str(uuid.uuid4()),
                            exports=_targets(s))
    assert run_once(s, engine).site.sent == 1
    site = make_engine(site_url)
    with site.connect() as conn:
        row = conn.execute(select(Sale.kind, Sale.total, Sale.reason).where(Sale.receipt_number == number)).one()
    assert row == ("deposit", Decimal("100.00"), "ORD-BKK01-000001")


def test_dry_run_site_connector_sends_nothing(settings, engine, place, cashier, site_url):
    from app.config import ConnectorSettings

    s = _with_site(settings, site_url)
    s.connectors = [ConnectorSettings(name="hq-site", kind="site", live=False)]
    assert s.site_connector().name == "hq-site" and not s.site_connector().live
    _sell(engine, place, cashier, _targets(s))
    run_once(s, engine)
    assert _count(make_engine(site_url), Sale) == 0
    assert outbox.list_jobs(engine, connector="hq-site")[0].state == "skipped"


# -- catalogue pull -----------------------------------------------------------------------------------

@pytest.fixture
def site_copy(tmp_path, demo_template):
    """A site database holding the same demo catalogue as the till."""
    import shutil

    path = tmp_path / "site-copy.db"
    shutil.copy(demo_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def test_a_price_changed_at_the_site_shows_on_the_till_after_the_pull(engine, site_copy):
    from data.catalog import lookup
    from data.catalog_sync import pull
    from data.types import utcnow

    first = pull(site_copy, engine)
    assert first.products == _count(site_copy, Product)  # the first pull takes everything
    assert pull(site_copy, engine).changed == 0  # nothing changed since
    assert lookup(engine, COFFEE).price == Decimal("45.00")
    with site_copy.begin() as conn:
        conn.execute(Product.__table__.update().where(Product.sku == "CF-001")
                     .values(price=Decimal("49.50"), name="กาแฟเย็น", updated_at=utcnow()))
    again = pull(site_copy, engine)
    assert again.products == 1
    info = lookup(engine, COFFEE)
    assert info.price == Decimal("49.50") and info.name == "กาแฟเย็น"
    from data.catalog import search

    assert any(p.sku == "CF-001" for p in search(engine, "กาแฟเย็น"))


def test_a_change_committed_late_at_the_site_is_still_pulled(engine, site_copy):
    """A site writer stamps a change when it makes it and commits later: a till that pulled newer rows
    meanwhile must still get it, and rows it already has are not taken (or counted) again."""
    from datetime import timedelta

    from data.catalog import lookup
    from data.catalog_sync import OVERLAP, pull
    from data.operators import create_operator
    from data.types import utcnow

    pull(site_copy, engine)
    now = utcnow()
    with site_copy.begin() as conn:
        conn.execute(Product.__table__.update().where(Product.sku == "WT-001").values(price=Decimal("11.00"),
                                                                                     updated_at=now))
    assert pull(site_copy, engine).products == 1
    with site_copy.begin() as conn:  # stamped a minute before what the till took, committed only now
        conn.execute(Product.__table__.update().where(Product.sku == "CF-001").values(
            price=Decimal("47.00"), updated_at=now - timedelta(minutes=1)))
    create_operator(site_copy, "78", "Late Lek", "7878", role="cashier")
    with site_copy.begin() as conn:
        conn.execute(Operator.__table__.update().where(Operator.code == "78").values(
            updated_at=now - timedelta(minutes=2)))
    late = pull(site_copy, engine)
    assert (late.products, late.operators) == (1, 1)
    assert lookup(engine, COFFEE).price == Decimal("47.00") and lookup(engine, WATER).price == Decimal("11.00")
    assert pull(site_copy, engine).changed == 0  # the overlap is read again, nothing is taken twice
    with site_copy.begin() as conn:  # older than the overlap: out of reach, by design
        conn.execute(Product.__table__.update().where(Product.sku == "MK-001").values(
            price=Decimal("60.00"), updated_at=now - OVERLAP - timedelta(minutes=1)))
    assert pull(site_copy, engine).products == 0


def test_barcodes_follow_the_site_and_a_moved_code_moves(engine, site_copy):
    from data.catalog import lookup
    from data.catalog_sync import pull
    from data.models import Barcode
    from data.types import utcnow

    pull(site_copy, engine)
    with site_copy.begin() as conn:
        water = conn.execute(select(Product.id).where(Product.sku == "WT-001")).scalar_one()
        conn.execute(Barcode.__table__.update().where(Barcode.code == COFFEE).values(product_id=water))
        conn.execute(Product.__table__.update().where(Product.sku.in_(["CF-001", "WT-001"])).values(updated_at=utcnow()))
    pull(site_copy, engine)
    assert lookup(engine, COFFEE).sku == "WT-001"
    assert lookup(engine, WATER).sku == "WT-001"


def test_operators_come_from_the_site_but_placeholders_do_not(engine, site_copy):
    from data.catalog_sync import pull
    from data.operators import authenticate, create_operator

    pull(site_copy, engine)
    create_operator(site_copy, "77", "Head Office Nok", "7777", role="supervisor")
    with site_copy.begin() as conn:
        conn.execute(Operator.__table__.insert().values(
            code="55", name="seen in a record", role="cashier", pin_hash=site_sync.PLACEHOLDER_PIN,
            discount_limit_pct=Decimal(0), failed_attempts=0, active=False, permissions=[],
            updated_at=datetime_now()))
        conn.execute(Operator.__table__.update().where(Operator.code == "1").values(
            pin_hash=site_sync.PLACEHOLDER_PIN, updated_at=datetime_now()))
    result = pull(site_copy, engine)
    assert result.operators == 1
    assert authenticate(engine, "77", "7777").name == "Head Office Nok"
    assert authenticate(engine, "1", "1111").code == "1"  # the till's own operator is left alone
    assert _count(engine, Operator, Operator.code == "55") == 0


def datetime_now():
    from data.types import utcnow

    return utcnow()


def test_till_sync_sends_and_pulls_and_says_when_the_site_is_offline(home, settings, engine, place, cashier,
                                                                     site_url, capsys):
    from app.cli import main
    from app.config import load_settings

    config = home / "till.toml"
    base = config.read_text(encoding="utf-8")
    config.write_text(base + f'\n[site]\nurl = "{CLOSED}"\n', encoding="utf-8")
    offline = load_settings(home)
    numbers = [_sell(engine, place, cashier, _targets(offline)) for _ in range(2)]
    assert main(["sync", "--home", str(home), "--push-only"]) == 1
    assert "site database offline" in capsys.readouterr().err
    config.write_text(base + f'\n[site]\nurl = "{site_url}"\n', encoding="utf-8")
    assert main(["sync", "--home", str(home)]) == 0
    err = capsys.readouterr().err
    assert "sent 2 record(s)" in err and "pulled" in err
    with make_engine(site_url).connect() as conn:
        assert sorted(conn.execute(select(Sale.receipt_number)).scalars()) == sorted(numbers)
    config.write_text(base, encoding="utf-8")
    assert main(["sync", "--home", str(home)]) == 1
    assert "no site database" in capsys.readouterr().err


# -- the console -----------------------------------------------------------------------------------

async def test_status_bar_says_site_offline_with_count_and_age_then_ok(settings, engine, place, cashier, site_url):
    from datetime import timedelta

    from app.site_link import SiteState
    from app.tui import make_app
    from tests.pilot import enter, login, settle
    from widgets.status_bar import StatusBar

    offline = _with_site(settings, CLOSED)
    for _ in range(2):
        _sell(engine, place, cashier, _targets(offline))
    with engine.begin() as conn:  # written a quarter of an hour ago
        conn.execute(text("UPDATE export_job SET created_at = :t"),
                     {"t": (datetime_now() - timedelta(minutes=15)).replace(tzinfo=None)})
    app = make_app(offline, engine=engine)
    async with app.run_test(size=(100, 24)) as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        for _ in range(50):  # the first pass runs as the database opens; bounded wait for its report
            if app.site_state is not None:
                break
            await pilot.pause(0.1)
        await settle(pilot)
        assert app.site_state.online is False and app.site_state.waiting == 2
        bar = app.screen.query_one(StatusBar)
        assert "site offline · 2 waiting · oldest 15 min" in bar.text
        # Selling goes on while the site is away.
        assert app.screen.cart.lines
    assert SiteState(True, 0).text() == "site ok"
    assert SiteState(True, 3, datetime_now() - timedelta(hours=3)).text() == "site · 3 waiting · oldest 3 h"


def test_each_till_reports_its_outbox_to_the_site(settings, engine, place, cashier, site_url):
    from app.config import ConnectorSettings
    from app.connectors import site as site_connector
    from data.back_office import till_statuses

    s = _with_site(settings, site_url)
    s.connectors = [ConnectorSettings(name="hq", kind="webhook", url="http://127.0.0.1:1/hook", secret="whsec_"
                                      "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", live=True)]
    _sell(engine, place, cashier, _targets(s))
    site_connector._reported.clear()
    run_once(s, engine)
    rows = {r.connector: r for r in till_statuses(make_engine(site_url), "BKK01")}
    assert set(rows) == {"hq", "site"}
    assert rows["site"].waiting == 0 and rows["site"].kind == "site"
    assert rows["hq"].waiting == 1 and rows["hq"].oldest_waiting is not None  # the receiver is unreachable
    assert rows["hq"].last_error


def test_health_lists_the_site_connector_and_tests_its_connection(settings, site_url):
    from app.connectors.probe import connector_infos, test_connection

    s = _with_site(settings, site_url)
    infos = {i.name: i for i in connector_infos(s)}
    assert infos["site"].kind == "site" and infos["site"].problem is None and infos["site"].live
    assert test_connection(s.site_connector(), s).ok
    down = _with_site(settings, CLOSED)
    result = test_connection(down.site_connector(), down)
    assert not result.ok and "site database offline" in result.message


async def test_a_catch_up_shows_its_progress(settings, engine, place, cashier, site_url, monkeypatch):
    import app.exports
    from app.messages import SiteProgress, SiteStatus
    from app.site_link import SiteState
    from app.tui import make_app
    from tests.pilot import login, settle
    from widgets.status_bar import StatusBar

    online = _with_site(settings, site_url)
    for _ in range(12):
        _sell(engine, place, cashier, _targets(online), ((WATER, 1),))
    monkeypatch.setattr(app.exports, "SITE_BATCH", 5)
    seen = []
    run_once(online, engine, site_progress=lambda sent, total: seen.append((sent, total)))
    assert seen == [(5, 12), (10, 12), (12, 12)]

    till = make_app(settings, engine=engine)  # no site here: the messages are posted by hand
    async with till.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        till.post_message(SiteProgress(400, 1000))
        await settle(pilot)
        bar = till.screen.query_one(StatusBar)
        shown = bar.query_one("#status-progress")
        assert shown.has_class("-shown") and shown.progress == 400 and shown.total == 1000
        till.post_message(SiteStatus(SiteState(True, 0)))
        await settle(pilot)
        assert not shown.has_class("-shown")


async def test_the_console_pulls_the_catalogue_when_it_starts(settings, engine, site_copy, tmp_path):
    from app.tui import make_app
    from data.catalog import lookup
    from data.types import utcnow
    from tests.pilot import login

    with site_copy.begin() as conn:
        conn.execute(Product.__table__.update().where(Product.sku == "CF-001")
                     .values(price=Decimal("47.00"), updated_at=utcnow()))
    s = _with_site(settings, str(site_copy.url))
    app = make_app(s, engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        for _ in range(100):  # bounded: the pull runs in a worker as the database opens
            if lookup(engine, COFFEE).price == Decimal("47.00"):
                break
            await pilot.pause(0.05)
        assert lookup(engine, COFFEE).price == Decimal("47.00")


def test_the_site_state_does_not_flap_between_reports(settings, engine, site_url):
    """No jobs waiting and the site down: the pass that tried says offline, and so do the passes
    after it until the next try (they do not fall back to "online" just because they did not try)."""
    from app.connectors import site as site_connector

    site_connector._reported.clear()
    down = _with_site(settings, CLOSED)
    assert run_once(down, engine).site.online is False
    assert run_once(down, engine).site.online is False  # not tried again yet: still offline
    up = _with_site(settings, site_url)
    site_connector._reported.clear()
    assert run_once(up, engine).site.online is True


def test_till_sync_with_only_a_site_connector_says_the_catalogue_has_no_source(home, engine, place, cashier,
                                                                               site_url, capsys):
    """A `kind = "site"` connector with its own url and no [site] section: records go, and the pull
    (which reads [site] url, as the console does) says why it did nothing instead of a library error."""
    from app.cli import main
    from app.config import load_settings

    config = home / "till.toml"
    config.write_text(config.read_text(encoding="utf-8")
                      + f'\n[[connectors]]\nname = "hq"\nkind = "site"\nurl = "{site_url}"\nlive = true\n',
                      encoding="utf-8")
    number = _sell(engine, place, cashier, _targets(load_settings(home)))
    assert main(["sync", "--home", str(home)]) == 0
    err = capsys.readouterr().err
    assert "sent 1 record(s)" in err and "no [site] url" in err and "Error" not in err
    with make_engine(site_url).connect() as conn:
        assert list(conn.execute(select(Sale.receipt_number)).scalars()) == [number]
    assert main(["sync", "--home", str(home), "--pull-only"]) == 1
    err = capsys.readouterr().err
    assert "catalogue not pulled: no [site] url" in err and "Error" not in err



def test_receipts_keep_the_till_s_order_at_the_site(settings, engine, place, cashier, manager, site_url):
    """A sale, a refund of it, then more sales, sent in one batch: the site numbers them in that order
    (it put every refund of a batch after all its sales, so a refund came out after later sales)."""
    s = _with_site(settings, site_url)
    targets = _targets(s)
    first = _sell(engine, place, cashier, targets)
    sold = refundable(engine, first)
    coffee = next(line for line in sold.lines if line.sku == "CF-001")
    refund_pay = PaymentState(coffee.unit_price, place.currency, Decimal("0.01"))
    refund_pay.apply(CASH, coffee.unit_price)
    refund = commit_refund(engine, place, cashier, manager, first, {coffee.line_id: Decimal(1)}, refund_pay,
                           uid=str(uuid.uuid4()), reason="broken", exports=targets)
    later = [_sell(engine, place, cashier, targets, ((MILK, 1),)) for _ in range(2)]
    assert run_once(s, engine).site.sent == 4
    with make_engine(site_url).connect() as conn:
        assert list(conn.execute(select(Sale.receipt_number).order_by(Sale.id)).scalars()) == [first, refund, *later]
        moved = list(conn.execute(select(Sale.receipt_number).join(StockMove, StockMove.sale_id == Sale.id)
                                  .order_by(StockMove.id)).scalars())
        assert moved == sorted(moved)
        assert conn.execute(select(Sale.refund_of_id).where(Sale.receipt_number == refund)).scalar_one() == \
            conn.execute(select(Sale.id).where(Sale.receipt_number == first)).scalar_one()


def test_a_z_of_a_store_whose_id_has_a_dash_reaches_the_site(settings, engine, cashier, manager, site_url):
    """`[store] id` may hold a dash (terminal codes cannot): the Z's reference is split at its last
    dashes. It was split at the first, so the Z was 'not in this till's database' and went dead."""
    from data.places import ensure_place
    from tests.pg import demo_place

    assert site_sync.parse_day_reference("TH-BKK01-T1-Z000003") == ("TH-BKK01", "T1", 3)
    s = _with_site(settings, site_url)
    targets = _targets(s)
    dashed = ensure_place(engine, **{**demo_place("TH-BKK01", "T1"), "store_id": "TH-BKK01"})
    number = _sell(engine, dashed, cashier, targets)
    close_day(engine, dashed, manager, {}, Decimal("0"), tolerance=Decimal("100000"), approver=manager,
              reason="test", exports=targets)
    assert run_once(s, engine).site.sent == 2
    with engine.connect() as conn:
        assert set(conn.execute(select(ExportJob.state).where(ExportJob.connector == "site")).scalars()) == {"succeeded"}
    site = make_engine(site_url)
    with site.connect() as conn:
        assert list(conn.execute(select(Sale.receipt_number)).scalars()) == [number]
        assert conn.execute(select(DayClose.z_number)).scalars().all() == [1]
