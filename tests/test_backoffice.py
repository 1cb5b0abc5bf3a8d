"""The back-office console: `till` on the site database itself. Here the site is a SQLite file holding
two stores' receipts and a Z (the same reads run on PostgreSQL in test_site_postgres.py); the console
is driven with Pilot, and snapshots are taken at 80×24 and 120×40."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from textual.widgets import DataTable, Input

import data.back_office
from app.screens.backoffice import BackOfficeScreen
from app.tui import make_app
from data import back_office
from data.places import ensure_place
from data.reports import close_day
from data.sales import commit_sale
from tests.carts import paid_cart
from tests.conftest import COFFEE, MILK, WATER
from tests.pilot import login, settle

AT = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 11:00 in Bangkok


def _second_store(engine):
    return ensure_place(engine, store_id="BKK02", store_name="Riverside", terminal="T1", currency="THB",
                        locale="th_TH", timezone="Asia/Bangkok", prices_include_vat=True, cash_rounding=Decimal("0.25"))


@pytest.fixture
def site(settings, engine, place, cashier, manager):
    """The till's database made the site: [site] url is the database itself, so `till` opens the back
    office. BKK01 sold three times and closed its day; BKK02 sold once the day before."""
    s = settings.model_copy(deep=True)
    s.home = settings.home
    s.site.url = settings.database_url
    other = _second_store(engine)
    for items in (((COFFEE, 2),), ((WATER, 1), (MILK, 1)), ((MILK, 4),)):
        cart, pay = paid_cart(engine, place, items)
        commit_sale(engine, place, cashier, cart, pay, at=AT)
    cart, pay = paid_cart(engine, other, ((COFFEE, 1),))
    commit_sale(engine, other, cashier, cart, pay, at=datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    close_day(engine, place, manager, {}, Decimal("0"), tolerance=Decimal("100000"), approver=manager, reason="test",
              now=datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    return s


def test_sales_per_store_and_day(site, engine):
    days = back_office.sales_by_day(engine, None, timezone="Asia/Bangkok", days=3, today=AT.date())
    by = {(d.business_date, d.store_id): d for d in days}
    assert set(by) == {("2026-12-01", "BKK01"), ("2026-11-30", "BKK02")}
    assert by[("2026-12-01", "BKK01")].receipts == 3
    assert by[("2026-12-01", "BKK01")].sales == Decimal("90.00") + Decimal("59.25") + Decimal("209.00")
    assert by[("2026-11-30", "BKK02")].sales == Decimal("45.00")
    only = back_office.sales_by_day(engine, "BKK02", timezone="Asia/Bangkok", days=3, today=AT.date())
    assert [d.store_id for d in only] == ["BKK02"]


def test_business_day_follows_the_store_timezone_and_cutoff():
    start, end = back_office.day_bounds(AT.date(), "Asia/Bangkok", time(4, 0))
    assert start == datetime(2026, 11, 30, 21, 0, tzinfo=UTC) and end == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def test_z_reports_and_stock_per_store(site, engine):
    zs = back_office.z_reports(engine, None)
    assert [(z.store_id, z.terminal, z.z_number) for z in zs] == [("BKK01", "T1", 1)]
    assert back_office.z_reports(engine, "BKK02") == []
    stock = back_office.stock(engine, "BKK01", query="CF-001")
    assert [(r.sku, r.store_id) for r in stock] == [("CF-001", "BKK01")]
    both = back_office.stock(engine, None, query="CF-001")
    assert {r.store_id for r in both} == {"BKK01", "BKK02"}


async def test_back_office_console_views(site, engine):
    app = make_app(site, engine=engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot, "9", "9999")
        screen = app.screen
        assert isinstance(screen, BackOfficeScreen)
        await settle(pilot)
        table = screen.query_one(DataTable)
        assert table.row_count >= 1  # today's BKK01 (the demo's own today may differ: 14 days are shown)
        await pilot.press("2")
        await settle(pilot)
        assert screen.view_name == "z" and table.row_count == 1
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ReportScreen"
        await pilot.press("escape")
        await pilot.press("3")
        await settle(pilot)
        assert screen.view_name == "stock"
        await pilot.press("slash")
        search = screen.query_one("#backoffice-search", Input)
        assert app.focused is search
        search.value = "CF-001"
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 2  # both stores
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("2")  # the second store in the list: BKK02
        await settle(pilot)
        assert screen.store == "BKK02" and table.row_count == 1
        await pilot.press("f8")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "OrdersScreen"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f11")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HealthScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("o")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "OperatorsScreen"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ProductsScreen"


async def test_cashiers_get_the_sale_screen_and_managers_can_open_it(site, engine):
    app = make_app(site, engine=engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, "1", "1111")
        assert app.screen.__class__.__name__ == "SaleScreen"
        await pilot.press("f12")
        await settle(pilot)
        app.screen.dismiss("logout")  # the F12 menu's last item
        await settle(pilot)
        await login(pilot, "9", "9999")
        assert isinstance(app.screen, BackOfficeScreen)
        await pilot.press("t")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SaleScreen"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_back_office(snap_compare, site, engine, size, monkeypatch):
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(data.back_office, "utcnow", lambda: AT)

    async def run_before(pilot):
        await login(pilot, "9", "9999")
        await settle(pilot)

    assert snap_compare(make_app(site, engine=engine), terminal_size=size, run_before=run_before)


async def test_tills_view_shows_what_each_till_reported(site, engine):
    from data.site_sync import ConnectorStatus, report_status
    from data.types import utcnow

    report_status(engine, "BKK02", "T1", [ConnectorStatus("peak", "peak", 3, 1, utcnow(), "PEAK said 401")], utcnow())
    app = make_app(site, engine=engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot, "9", "9999")
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert screen.view_name == "tills"
        table = screen.query_one(DataTable)
        assert table.row_count == 1
        assert "PEAK said 401" in str(table.get_row_at(0)[-1])


def test_each_store_s_sales_fall_on_its_own_business_day(engine, place, cashier):
    """A store in another time zone: its receipts are dated by its own clock, not the head office's.
    20:00 UTC on 30 November is 03:00 on 1 December in Bangkok but still 30 November in London."""
    london = ensure_place(engine, store_id="LON01", store_name="London", terminal="T1", currency="THB",
                          locale="en_GB", timezone="Europe/London", prices_include_vat=True,
                          cash_rounding=Decimal("0.25"))
    evening = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    for where in (place, london):
        cart, pay = paid_cart(engine, where, ((COFFEE, 1),))
        commit_sale(engine, where, cashier, cart, pay, at=evening)
    days = back_office.sales_by_day(engine, None, timezone="Asia/Bangkok", days=3, today=AT.date())
    assert {(d.business_date, d.store_id) for d in days} == {("2026-12-01", "BKK01"), ("2026-11-30", "LON01")}
    only = back_office.sales_by_day(engine, "LON01", timezone="Asia/Bangkok", days=3, today=AT.date())
    assert [(d.business_date, d.receipts) for d in only] == [("2026-11-30", 1)]
