"""Pilot flows for customer orders: new order with deposit, the orders list with multi-select and
its actions, recall for pickup, permissions, the site being offline, and the stock view."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from app.screens.order_form import OrderForm
from app.screens.orders import OrdersScreen
from app.screens.sale import SaleScreen
from data import orders
from data.models import AuditLog, Sale
from data.reports import x_report
from tests.conftest import COFFEE, MILK, WATER
from tests.pilot import enter, login, press, settle
from widgets.dialogs import ChoiceDialog, PinPrompt, Prompt
from widgets.order_list import OrderList


async def fill_form(pilot, phone="0812345678", name="Somchai", **more) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, OrderForm)
    screen.query_one("#of-phone").value = phone
    screen.query_one("#of-name").value = name
    for key, value in more.items():
        screen.query_one(f"#of-{key}").value = value
    await press(pilot, "ctrl+s")


async def new_order(pilot, *codes: str, manager_pin: str | None = None, **form) -> None:
    for code in codes:
        await enter(pilot, code)
    await press(pilot, "f8")
    assert isinstance(pilot.app.screen, OrdersScreen)
    await press(pilot, "n")
    if manager_pin is not None:
        assert isinstance(pilot.app.screen, PinPrompt)
        await enter(pilot, manager_pin)
    await fill_form(pilot, **form)


async def test_new_order_with_deposit_counts_in_the_drawer(make_till, engine, place):
    app = make_till()
    async with app.run_test(size=(100, 32)) as pilot:
        await login(pilot, "9", "9999")
        await new_order(pilot, COFFEE, COFFEE, MILK, comments="ring first")
        sale = app.screen
        assert isinstance(sale, SaleScreen) and sale.order_new is not None
        await press(pilot, "f10")
        assert isinstance(app.screen, ChoiceDialog)
        await press(pilot, "1")
        assert isinstance(app.screen, Prompt)
        await enter(pilot, "50%")
        await press(pilot, "enter")  # exact cash
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen) and not sale.cart.lines and not sale.in_order_mode
    rows, count = orders.list_orders(engine)
    assert count == 1
    order = orders.get_order(engine, rows[0].number)
    assert order.total == Decimal("142.25") and order.paid == Decimal("71.13")
    assert order.details.customer_phone == "+66812345678" and order.details.comments == "ring first"
    assert orders.reserved_of(engine, place.store_id, "CF-001") == 2
    x = x_report(engine, place)
    assert x.deposits_total == Decimal("71.13")
    with Session(engine) as s:
        deposit = s.exec(select(Sale).where(Sale.kind == "deposit")).one()
        assert deposit.reason == order.number


async def test_cashier_needs_a_manager_to_create_an_order(make_till, engine):
    app = make_till()
    async with app.run_test(size=(100, 32)) as pilot:
        await login(pilot)
        await new_order(pilot, WATER, manager_pin="9999")
        await press(pilot, "f10")
        await press(pilot, "2")
    rows, _ = orders.list_orders(engine)
    assert len(rows) == 1
    assert orders.get_order(engine, rows[0].number).created_by == "1"
    with Session(engine) as s:
        approval = s.exec(select(AuditLog).where(AuditLog.action == "override.order.manage")).one()
        assert approval.operator_code == "1" and approval.detail["approved_by"] == "9"


def _seed_orders(engine, place, n=3, **kw):
    from data.orders import NewLine, OrderDetails

    made = []
    for i in range(n):
        made.append(orders.create_order(
            engine, place.store_id, "9", [NewLine("CF-001", "Coffee", Decimal(1 + i), Decimal("45.00"), Decimal("7"))],
            OrderDetails(customer_name=f"Customer {i}", customer_phone=f"+6681234567{i}", fulfil_store=place.store_id),
            currency=place.currency, prices_include_vat=True, **kw))
    return made


async def test_orders_list_multi_select_and_actions(make_till, engine, place):
    made = _seed_orders(engine, place, 4)
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot)
        await press(pilot, "f8")
        screen = app.screen
        assert isinstance(screen, OrdersScreen)
        table = screen.query_one(OrderList)
        assert table.numbers == [o.number for o in reversed(made)]
        await press(pilot, "space")
        assert screen.selected_count == 1
        await press(pilot, "shift+down")
        assert table.chosen() == [made[3].number, made[2].number]
        await press(pilot, "ctrl+a")
        assert screen.selected_count == 4
        await press(pilot, "ctrl+a")  # again: none
        assert screen.selected_count == 0
        assert table.highlighted == made[2].number
        await press(pilot, "space", "down", "space")
        await press(pilot, "r")
        assert f"{made[2].number}: ready for pickup" in screen.results_text
        assert f"{made[1].number}: ready for pickup" in screen.results_text
        assert [orders.get_order(engine, o.number).status for o in made] == ["open", "ready", "ready", "open"]
        # Delivered needs the order paid: it says so per order (nothing selected: the highlighted one).
        await press(pilot, "d")
        assert f"{made[1].number}: not paid (90.00 due), not delivered" in screen.results_text
        # Filters: status cycles, search narrows.
        await press(pilot, "slash")
        await enter(pilot, "Customer 1")
        await settle(pilot)
        assert table.numbers == [made[1].number]
        assert app.focused is table  # Enter in the search goes back to the list
        await press(pilot, "x")  # cancel: a cashier needs the manager
        assert isinstance(app.screen, PinPrompt)
        await enter(pilot, "9999")
        await enter(pilot, "customer called")
        await settle(pilot)
        assert "cancelled, reservations released" in screen.results_text
    assert orders.get_order(engine, made[1].number).status == "cancelled"
    assert orders.reserved_of(engine, place.store_id, "CF-001") == 1 + 3 + 4


async def test_recall_pick_part_keep_the_rest_then_the_rest(make_till, engine, place):
    from data.orders import NewLine, OrderDetails

    order = orders.create_order(
        engine, place.store_id, "9",
        [NewLine("CF-001", "Coffee", Decimal(2), Decimal("45.00"), Decimal("7")),
         NewLine("WT-001", "Water", Decimal(3), Decimal("7.00"), Decimal("7"))],
        OrderDetails(customer_name="Anong", fulfil_store=place.store_id), currency="THB", prices_include_vat=True,
        online_payments=[("WEB-1", Decimal("50.00"))])
    app = make_till()
    async with app.run_test(size=(100, 32)) as pilot:
        await login(pilot)
        await press(pilot, "f8")
        await press(pilot, "enter")  # recall the highlighted (only) order
        sale = app.screen
        assert isinstance(sale, SaleScreen) and sale.pickup is not None
        assert [l.sku for l in sale.cart.lines] == ["CF-001", "WT-001"]
        await press(pilot, "down")  # water
        await press(pilot, "delete")  # not now
        await press(pilot, "f10")
        await press(pilot, "4")  # pick up what is in the cart
        assert isinstance(app.screen, ChoiceDialog)
        await press(pilot, "k")  # keep the water on the order
        # 90.00 of coffee, 50.00 paid online: 40.00 cash
        await press(pilot, "enter")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen) and not sale.in_order_mode
    view = orders.get_order(engine, order.number)
    assert view.status == "partial" and view.applied == Decimal("50.00")
    assert orders.reserved_by_line(engine, order.number) == {view.lines[0].id: 0, view.lines[1].id: 3}
    with Session(engine) as s:
        sale_row = s.exec(select(Sale).where(Sale.reason == order.number)).one()
        assert sale_row.total == Decimal("90.00")
    async with make_till().run_test(size=(100, 32)) as pilot:
        await login(pilot)
        await press(pilot, "f8", "enter", "f10", "4")
        await press(pilot, "enter")  # 21.00 cash
        await settle(pilot)
    assert orders.get_order(engine, order.number).status == "delivered"
    assert orders.reserved_of(engine, place.store_id, "WT-001") == 0


async def test_site_offline_orders_say_so_and_selling_goes_on(make_till, settings):
    custom = settings.model_copy(update={"site": settings.site.model_copy(
        update={"url": "postgresql+psycopg://till@127.0.0.1:1/till"})})
    app = make_till(custom)
    async with app.run_test(size=(100, 32)) as pilot:
        await login(pilot)
        await press(pilot, "f8")
        screen = app.screen
        assert isinstance(screen, OrdersScreen)
        await settle(pilot, 6)
        assert "site database offline" in screen.results_text
        await press(pilot, "escape")
        await enter(pilot, COFFEE)
        await press(pilot, "f10", "enter")
        assert "complete" in app.screen.status.text


async def test_stock_view_shows_reservations(make_till, engine, place):
    _seed_orders(engine, place, 2)
    app = make_till()
    async with app.run_test(size=(100, 32)) as pilot:
        await login(pilot)
        await press(pilot, "f12")
        await press(pilot, *(["down"] * 8), "enter")
        await enter(pilot, "CF-001")
        from app.screens.inventory import InventoryScreen

        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        st = screen.inventory.stores[0]
        assert st.reserved == 3 and st.available == st.on_hand - 3
        assert [h.number for h in screen.inventory.holdings] == [f"ORD-{place.store_id}-000001", f"ORD-{place.store_id}-000002"]


SIZES = [(80, 24), (120, 40)]


def _snapshot_orders(engine, place):
    """Orders with fixed times and a mix of states, names from outside included literally."""
    from datetime import UTC, datetime

    from data.orders import NewLine, OrderDetails

    at = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    names = ["สมชาย ใจดี", "Anong [bold]K[/]", "Ms. Lee Min-ji", "Kittisak"]
    made = []
    for i, name in enumerate(names):
        made.append(orders.create_order(
            engine, place.store_id, "9",
            [NewLine("CF-001", "กาแฟเย็น / Iced coffee", Decimal(1 + i), Decimal("45.00"), Decimal("7")),
             NewLine("WT-001", "น้ำดื่ม / Water", Decimal(2), Decimal("7.00"), Decimal("7"))],
            OrderDetails(customer_name=name, customer_phone=f"+6681234567{i}", fulfil_store=place.store_id,
                         expected_date="2026-12-05", comments="call first" if i == 0 else ""),
            currency=place.currency, prices_include_vat=True, at=at,
            online_payments=[("WEB-9", Decimal("20.00"))] if i == 2 else ()))
    orders.mark_ready(engine, [made[1].number], operator="9")
    return made


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_orders_list(snap_compare, make_till, engine, place, size, monkeypatch):
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    _snapshot_orders(engine, place)

    async def run_before(pilot):
        await login(pilot)
        await press(pilot, "f8")
        await press(pilot, "space", "down")
        await settle(pilot, 5)

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_order_form_and_choices(snap_compare, make_till, size, monkeypatch):
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)

    async def run_before(pilot):
        await login(pilot, "9", "9999")
        await enter(pilot, COFFEE)
        await press(pilot, "f8", "n")
        screen = pilot.app.screen
        screen.query_one("#of-phone").value = "0812345678"
        screen.query_one("#of-name").value = "Somchai"
        screen.query_one("#of-comments").value = "gift wrap"
        await settle(pilot)

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


def test_snapshot_order_pay_choices(snap_compare, make_till, monkeypatch):
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)

    async def run_before(pilot):
        await login(pilot, "9", "9999")
        await new_order(pilot, COFFEE)
        await press(pilot, "f10")

    assert snap_compare(make_till(), terminal_size=(80, 24), run_before=run_before)


def test_order_events_go_through_the_outbox_once_per_revision(engine, place):
    """order.created and order.updated (one per version) land in the order's own transaction."""
    from data.health import export_history
    from data.orders import NewLine, OrderDetails
    from data.outbox import ExportTarget

    hooks = (ExportTarget("hq", "webhook", ("order.created", "order.updated"), True, (1,)),)
    view = orders.create_order(
        engine, place.store_id, "9", [NewLine("CF-001", "Coffee", Decimal(2), Decimal("45.00"), Decimal("7"))],
        OrderDetails(customer_name="Anong", fulfil_store=place.store_id), currency="THB", prices_include_vat=True,
        exports=hooks, external_id="WEB-77")
    again = orders.create_order(
        engine, place.store_id, "9", [NewLine("CF-001", "Coffee", Decimal(2), Decimal("45.00"), Decimal("7"))],
        OrderDetails(customer_name="Anong", fulfil_store=place.store_id), currency="THB", prices_include_vat=True,
        exports=hooks, external_id="WEB-77")
    assert again.number == view.number
    line = view.lines[0]
    orders.update_order(engine, view.number, view.version, "9",
                        [NewLine("CF-001", "Coffee", Decimal(3), Decimal("45.00"), Decimal("7"), line_id=line.id)],
                        view.details, exports=hooks)
    [ready] = orders.mark_ready(engine, [view.number], operator="9", exports=hooks)
    assert ready.ok
    assert orders.mark_ready(engine, [view.number], operator="9", exports=hooks)[0].message == "already ready"
    orders.cancel_order(engine, view.number, operator="9", reason="test", exports=hooks)
    history = export_history(engine, "order", view.number)
    assert [(j.event, j.source_id) for j in history] == [
        ("order.created", view.number), ("order.updated", f"{view.number}:v2"), ("order.updated", f"{view.number}:v3"),
        ("order.updated", f"{view.number}:v4")]
    from data.outbox import show_job

    _job, payload, _ = show_job(engine, history[1].id)
    assert payload["data"]["lines"][0]["quantity"] == "3" and payload["type"] == "order.updated"
    assert show_job(engine, history[2].id)[1]["data"]["status"] == "ready"


def test_a_deposit_taken_while_the_site_was_offline_joins_its_order_later(tmp_path, engine, place, cashier):
    """The receipt is committed on the till first; link_deposits notes it on the order once, later."""
    from data import pickups
    from data.db import make_engine, upgrade
    from data.orders import NewLine, OrderDetails
    from data.payments import PaymentState
    from data.sales import commit_deposit

    site = make_engine(f"sqlite:///{tmp_path / 'site.db'}")
    upgrade(site)
    view = orders.create_order(site, place.store_id, "9",
                               [NewLine("CF-001", "Coffee", Decimal(2), Decimal("45.00"), Decimal("7"))],
                               OrderDetails(customer_name="Anong", fulfil_store=place.store_id),
                               currency="THB", prices_include_vat=True)
    pay = PaymentState(Decimal("40.00"), "THB", place.cash_rounding)
    pay.apply("cash", Decimal("40.00"))
    receipt = commit_deposit(engine, place, cashier, view.number, pay, uid="dep-1")  # the site is "down" here
    assert orders.get_order(site, view.number).paid == 0
    assert pickups.link_deposits(engine, site) == 1
    assert pickups.link_deposits(engine, site) == 0  # once
    after = orders.get_order(site, view.number)
    assert after.paid == Decimal("40.00") and after.payments[0].receipt_number == receipt


async def test_a_recalled_order_left_open_by_a_crash_comes_back_as_the_order(make_till, engine, place):
    from data.orders import NewLine, OrderDetails

    order = orders.create_order(
        engine, place.store_id, "9", [NewLine("CF-001", "Coffee", Decimal(2), Decimal("45.00"), Decimal("7"))],
        OrderDetails(customer_name="Anong", fulfil_store=place.store_id), currency="THB", prices_include_vat=True)
    async with make_till().run_test(size=(100, 32)) as pilot:
        await login(pilot)
        await press(pilot, "f8", "enter")
        assert app_cart_order(pilot) == order.number
    # No payment, no logout: as if the till died. The next start offers the cart back.
    async with make_till().run_test(size=(100, 32)) as pilot:
        await login(pilot, restore="y")
        await settle(pilot)
        sale = pilot.app.screen
        assert isinstance(sale, SaleScreen) and sale.pickup is not None
        assert sale.pickup.order.number == order.number and [l.sku for l in sale.cart.lines] == ["CF-001"]


def app_cart_order(pilot) -> str | None:
    return pilot.app.screen.cart.order_number
