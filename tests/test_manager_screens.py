"""Pilot flows on the manager screens (F12 → operators and roles, products and prices): a manager
creates an operator who can then log in, resets a PIN, locks; changes a price that the sale screen then
rings; adds a barcode; bad input is a message in the dialog with nothing lost; a cashier does not see
the items. Snapshots of both screens at 80×24 and 120×40, and of their dialogs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.widgets import Input, OptionList

from app.config import ConnectorSettings
from app.screens.login import LoginScreen
from app.screens.menu import MenuScreen
from app.screens.operators import OperatorDialog, OperatorsScreen, PinDialog
from app.screens.products import ProductDialog, ProductsScreen
from app.screens.sale import SaleScreen
from data import operator_admin, product_admin
from data.barcodes import with_check_digit
from data.models import AuditLog
from data.operators import authenticate
from tests.conftest import COFFEE
from tests.pilot import enter, login, press, settle
from widgets.dialogs import ConfirmDialog, Prompt

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def _steady_cursor(monkeypatch):
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def with_connectors(settings):
    """The demo settings with a PEAK and a webhook connector (dry-run), so products show external ids."""
    custom = settings.model_copy(deep=True)
    custom.connectors = [ConnectorSettings(name="peak", kind="peak"),
                         ConnectorSettings(name="hq", kind="webhook", url="http://127.0.0.1:9/hook")]
    return custom


async def menu_choose(pilot, key: str) -> None:
    await press(pilot, "f12")
    menu = pilot.app.screen
    assert isinstance(menu, MenuScreen)
    options = menu.query_one(OptionList)
    options.highlighted = [k for k, _ in menu.items].index(key)
    await press(pilot, "enter")


async def open_operators(pilot) -> OperatorsScreen:
    await login(pilot, "9", "9999")
    await menu_choose(pilot, "operators")
    screen = pilot.app.screen
    assert isinstance(screen, OperatorsScreen)
    await settle(pilot)
    return screen


async def open_product(pilot, query: str) -> ProductDialog:
    await login(pilot, "9", "9999")
    await menu_choose(pilot, "products")
    assert isinstance(pilot.app.screen, ProductsScreen)
    await enter(pilot, query)  # Enter before the results are in: opens the first one when they are
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ProductDialog)
    return dialog


def set_field(screen, selector: str, value: str) -> None:
    field = screen.query_one(selector, Input)
    field.value = value
    field.cursor_position = len(value)


async def test_manager_creates_an_operator_who_can_log_in(make_till, engine):
    app = make_till()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_operators(pilot)
        assert [r.code for r in screen.rows] == ["1", "9"]
        await press(pilot, "n")
        dialog = app.screen
        assert isinstance(dialog, OperatorDialog)
        await enter(pilot, "5")
        await enter(pilot, "Anong")
        await enter(pilot, "s")
        await enter(pilot, "")  # the role's default discount limit
        await enter(pilot, "2468")
        await enter(pilot, "1357")  # not the same PIN
        assert app.screen is dialog and "differ" in dialog.error_text
        assert dialog.query_one("#op-name", Input).value == "Anong"  # nothing else lost
        assert app.focused is dialog.query_one("#op-pin", Input)
        await enter(pilot, "2468")
        await enter(pilot, "2468")
        assert app.screen is screen
        assert "operator 5 Anong created" in screen.query_one("#operators-status").text
        assert [r.code for r in screen.rows] == ["1", "5", "9"]
        row = screen.rows[1]
        assert row.role == "supervisor" and row.discount_limit_pct == Decimal("25")
        await press(pilot, "escape")
        assert isinstance(app.screen, SaleScreen)
        await menu_choose(pilot, "logout")
        assert isinstance(app.screen, LoginScreen)
        await login(pilot, "5", "2468")
        assert isinstance(app.screen, SaleScreen) and app.screen.operator.code == "5"
    [created] = [r for r in _audit(engine, "operator.create")]
    assert created.operator_code == "9" and created.subject == "5"


async def test_code_taken_is_said_in_the_dialog(make_till):
    app = make_till()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_operators(pilot)
        await press(pilot, "n")
        dialog = app.screen
        for text in ("1", "Someone", "c", "", "1111", "1111"):
            await enter(pilot, text)
        assert app.screen is dialog and "taken" in dialog.error_text
        assert dialog.query_one("#op-name", Input).value == "Someone"
        assert app.focused is dialog.query_one("#op-code", Input)
        await press(pilot, "escape")
        assert isinstance(app.screen, OperatorsScreen)


async def test_edit_permissions_reset_pin_and_lock(make_till, engine):
    app = make_till()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_operators(pilot)
        table = screen.query_one("#operators-table")
        table.move_cursor(row=0)  # operator 1, the cashier
        await press(pilot, "e")
        dialog = app.screen
        assert isinstance(dialog, OperatorDialog) and not dialog.is_new
        dialog.query_one("#op-perm-manage_orders").value = True
        set_field(dialog, "#op-limit", "abc")
        await press(pilot, "ctrl+s")
        assert app.screen is dialog and "not a number" in dialog.error_text
        set_field(dialog, "#op-limit", "15")
        await press(pilot, "ctrl+s")
        assert app.screen is screen
        assert screen.rows[0].permissions == ("manage_orders",) and screen.rows[0].discount_limit_pct == Decimal("15")
        assert authenticate(engine, "1", "1111").permissions == ("manage_orders",)

        await press(pilot, "p")
        assert isinstance(app.screen, PinDialog)
        await enter(pilot, "4321")
        await enter(pilot, "4320")
        assert isinstance(app.screen, PinDialog) and "differ" in app.screen.error_text
        await enter(pilot, "4321")
        await enter(pilot, "4321")
        assert app.screen is screen
        assert authenticate(engine, "1", "4321").code == "1"

        await press(pilot, "l")
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "y")
        await settle(pilot)
        assert screen.rows[0].locked and screen.rows[0].status() == "locked"
        # The manager's own row: lock is greyed.
        table.move_cursor(row=1)
        await settle(pilot)
        assert screen.check_action("lock", ()) is None
        table.move_cursor(row=0)
        await press(pilot, "l")  # unlock needs no question
        assert not screen.rows[0].locked
    assert [r.action for r in _audit(engine) if r.action.startswith("operator.")] == [
        "operator.change", "operator.pin_reset", "operator.lock", "operator.unlock"]


async def test_price_change_is_rung_by_the_sale_screen(make_till, engine):
    app = make_till()
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await open_product(pilot, "CF-001")
        assert dialog.detail.sku == "CF-001"
        set_field(dialog, "#pd-price", "abc")
        await press(pilot, "ctrl+s")
        assert app.screen is dialog and "not an amount" in dialog.error_text
        assert dialog.query_one("#pd-price", Input).value == "abc"  # as typed
        assert app.focused is dialog.query_one("#pd-price", Input)
        set_field(dialog, "#pd-price", "49.50")
        await press(pilot, "enter")  # next field
        await press(pilot, "ctrl+s")
        products = app.screen
        assert isinstance(products, ProductsScreen)
        assert "CF-001 saved: price 45.00 → 49.50" in products.query_one("#products-status").text
        assert products.rows[0].price == Decimal("49.50")
        await press(pilot, "escape")
        assert isinstance(app.screen, SaleScreen)
        await enter(pilot, COFFEE)
        [line] = app.screen.cart.lines
        assert line.sku == "CF-001" and line.unit_price == Decimal("49.50")
    [change] = _audit(engine, "price.change")
    assert change.operator_code == "9" and change.detail == {"old": "45.00", "new": "49.50"}


async def test_barcodes_and_external_ids_in_the_dialog(make_till, engine, with_connectors):
    app = make_till(with_connectors)
    new = with_check_digit("885000000777")
    bad = new[:-1] + str((int(new[-1]) + 1) % 10)
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await open_product(pilot, "CF-001")
        barcodes = dialog.query_one("#pd-barcodes", OptionList)
        assert dialog.check_action("add_barcode", ()) is False  # not while typing in a field
        barcodes.focus()
        await settle(pilot)
        assert dialog.check_action("add_barcode", ()) is True
        await press(pilot, "a")
        prompt = app.screen
        assert isinstance(prompt, Prompt)
        await enter(pilot, bad)
        assert app.screen is prompt and "check digit" in prompt.error_text
        prompt.query_one(Input).value = ""
        await enter(pilot, new)
        assert app.screen is dialog and dialog.barcodes == [COFFEE, new]
        await press(pilot, "a")
        await enter(pilot, "8850000000034")  # the water's
        assert app.screen is dialog and "belongs to WT-001" in dialog.error_text
        assert dialog.barcodes == [COFFEE, new]
        barcodes.highlighted = 0
        await press(pilot, "delete")
        assert dialog.barcodes == [new]
        set_field(dialog, "#pd-ext-0", "P-CF1")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ProductsScreen)
    detail = product_admin.get_product(engine, dialog.detail.id)
    assert detail.barcodes == (new,) and detail.external_ids == {"peak": "P-CF1"}
    assert [r.action for r in _audit(engine)][-3:] == ["barcode.remove", "barcode.add", "external_id.set"]


async def test_cashier_does_not_see_the_manager_items(make_till):
    app = make_till()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await press(pilot, "f12")
        menu = app.screen
        assert isinstance(menu, MenuScreen)
        keys = [k for k, _ in menu.items]
        assert "operators" not in keys and "products" not in keys and "logout" in keys
        await press(pilot, "escape")
        await press(pilot, "escape")
        await menu_choose(pilot, "logout")
        await login(pilot, "9", "9999")
        await press(pilot, "f12")
        keys = [k for k, _ in app.screen.items]
        assert keys[-3:] == ["operators", "products", "logout"]


def test_operator_admin_is_what_the_screen_uses(engine):
    # The screens run these in threads; a quick check that both are importable without Textual state.
    assert operator_admin.list_operators(engine)
    assert product_admin.search_products(engine, "CF")


def _audit(engine, action: str | None = None) -> list[AuditLog]:
    from sqlmodel import Session, select

    with Session(engine) as s:
        q = select(AuditLog).order_by(AuditLog.id)
        if action:
            q = q.where(AuditLog.action == action)
        return list(s.exec(q))


# -- snapshots -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
def test_snapshot_operators(snap_compare, make_till, engine, _steady_cursor, size):
    operator_admin.update_operator(engine, "1", permissions=["manage_orders"], by="9")
    operator_admin.create_operator(engine, code="5", name="อนงค์ Anong", pin="2468", role="supervisor", by="9")
    operator_admin.set_locked(engine, "5", True, by="9")

    async def run_before(pilot):
        await open_operators(pilot)

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_products(snap_compare, make_till, engine, _steady_cursor, size):
    from sqlmodel import Session, select

    from data.models import Product

    with Session(engine) as s:
        pid = s.exec(select(Product.id).where(Product.sku == "P000040")).one()
    product_admin.set_active(engine, pid, False, by="9")

    async def run_before(pilot):
        await login(pilot, "9", "9999")
        await menu_choose(pilot, "products")
        pilot.app.screen.query_one("#products-search", Input).value = "coffee"
        await pilot.pause(0.3)
        await settle(pilot)

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


def test_snapshot_product_dialog(snap_compare, make_till, with_connectors, _steady_cursor):
    async def run_before(pilot):
        dialog = await open_product(pilot, "CF-001")
        set_field(dialog, "#pd-price", "abc")
        await press(pilot, "ctrl+s")

    assert snap_compare(make_till(with_connectors), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_new_operator_dialog(snap_compare, make_till, _steady_cursor):
    async def run_before(pilot):
        await open_operators(pilot)
        await press(pilot, "n")
        for text in ("5", "Anong", "s", "", "2468", "1357"):
            await enter(pilot, text)

    assert snap_compare(make_till(), terminal_size=(80, 24), run_before=run_before)


async def test_a_serial_scan_on_the_products_screen_searches_for_the_code(make_till):
    from app.messages import ScanArrived

    app = make_till()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot, "9", "9999")
        await menu_choose(pilot, "products")
        screen = app.screen
        assert isinstance(screen, ProductsScreen)
        app.post_message(ScanArrived(COFFEE))
        for _ in range(40):  # bounded: the search runs in a worker
            await settle(pilot)
            if screen.rows:
                break
        assert screen.query_one("#products-search", Input).value == COFFEE
        assert [r.sku for r in screen.rows] == ["CF-001"]
        assert not app.pending_scans
