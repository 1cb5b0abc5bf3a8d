"""Keys driven as an acceptance test drives them (one key at a time, at 80×24 and 120×40), for the
cases an audit against DESIGN.md's "Keys" section found wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from app.screens.orders import OrdersScreen
from app.screens.payment import PaymentScreen
from app.screens.sale import SaleScreen
from data import orders
from data.models import CartDraft, Payment, Sale
from tests.conftest import COFFEE, MILK, WATER
from tests.pilot import press, settle
from widgets.dialogs import ChoiceDialog, PinPrompt

SIZES = [(80, 24), (120, 40)]


async def typed(pilot, text: str) -> None:
    """Each character as its own key press, then Enter: what a person (or a test robot) does."""
    await pilot.press(*text)
    await pilot.press("enter")
    await settle(pilot)


async def log_in(pilot, operator: str = "1", pin: str = "1111") -> SaleScreen:
    await typed(pilot, operator)
    await typed(pilot, pin)
    assert isinstance(pilot.app.screen, SaleScreen)
    return pilot.app.screen


@pytest.mark.parametrize("size", SIZES)
async def test_ctrl_u_in_payment_removes_the_last_tender(make_till, engine, size):
    """The amount field has focus all the time; its own Ctrl+U (delete to the left) used to take the key."""
    app = make_till()
    async with app.run_test(size=size) as pilot:
        await log_in(pilot)
        await typed(pilot, "2*" + MILK)  # 104.50
        await press(pilot, "f10")
        pay = app.screen
        assert isinstance(pay, PaymentScreen)
        await press(pilot, "f2")
        await typed(pilot, "50")
        assert pay.state.remaining == Decimal("54.50")
        await press(pilot, "ctrl+u")
        assert pay.state.tenders == [] and pay.state.remaining == Decimal("104.50")
        assert "removed Card 50.00" in pay.message
        await press(pilot, "f1")
        await typed(pilot, "")  # exact cash: the card tender is gone
        assert isinstance(app.screen, SaleScreen)
    with Session(engine) as s:
        assert [p.tender for p in s.exec(select(Payment))] == ["cash"]


async def test_undo_tender_is_in_the_command_palette(make_till):
    from app.commands import ScreenActions

    app = make_till()
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await typed(pilot, COFFEE)
        await press(pilot, "f10")
        await press(pilot, "f2")
        await typed(pilot, "10")
        names = [str(hit.display) async for hit in ScreenActions(app.screen).discover()]
        assert "Undo tender (ctrl+u)" in names


async def _new_order_from_cart(pilot, sale: SaleScreen, *codes: str) -> None:
    """As a manager: scan, F8, n, the phone typed, Ctrl+S."""
    for code in codes:
        await typed(pilot, code)
    await press(pilot, "f8")
    assert isinstance(pilot.app.screen, OrdersScreen)
    await press(pilot, "n")
    await typed(pilot, "0812345678")
    await press(pilot, "ctrl+s")
    assert pilot.app.screen is sale and sale.order_new is not None


@pytest.mark.parametrize("size", SIZES)
async def test_new_order_pick_up_then_escape_keeps_the_order_in_the_cart(make_till, engine, size):
    """F10 → 4 saves the order, then asks for the money; Escape there used to say "the cart is kept
    (F10 to try again)" over an empty plain cart, the order left behind in the list."""
    app = make_till()
    async with app.run_test(size=size) as pilot:
        sale = await log_in(pilot, "9", "9999")
        await _new_order_from_cart(pilot, sale, COFFEE, "2*" + WATER)
        await press(pilot, "f10")
        assert isinstance(app.screen, ChoiceDialog)
        await press(pilot, "4")
        assert isinstance(app.screen, PaymentScreen)
        await press(pilot, "escape")
        assert app.screen is sale
        number = orders.list_orders(engine)[0][0].number
        assert sale.pickup is not None and sale.pickup.order.number == number
        assert [(l.sku, l.quantity) for l in sale.cart.lines] == [("CF-001", 1), ("WT-001", 2)]
        assert "cart is kept" in sale.status.text
        await press(pilot, "f10")  # try again: the recalled order's choices, 4 picks it all up
        assert isinstance(app.screen, ChoiceDialog)
        await press(pilot, "4")
        assert isinstance(app.screen, PaymentScreen)
        await typed(pilot, "")
        assert app.screen is sale and not sale.cart.lines and not sale.in_order_mode
    assert orders.get_order(engine, number).status == "delivered"
    with Session(engine) as s:
        assert [(x.kind, x.total, x.reason) for x in s.exec(select(Sale))] == [("sale", Decimal("59.00"), number)]
        assert s.exec(select(CartDraft)).all() == []  # nothing left for a crash restore to offer


@pytest.mark.parametrize("size", SIZES)
async def test_a_refused_manager_pin_is_said_in_the_prompt(make_till, engine, place, size):
    """Over the orders screen the sale screen's status line is not on screen: the PIN prompt that
    comes back after a wrong PIN must say why itself."""
    from tests.order_helpers import make_order

    order = make_order(engine, place)
    app = make_till()
    async with app.run_test(size=size) as pilot:
        await log_in(pilot)  # a cashier: cancelling needs a manager
        await press(pilot, "f8")
        orders_screen = app.screen
        assert isinstance(orders_screen, OrdersScreen)
        await press(pilot, "x")
        assert isinstance(app.screen, PinPrompt) and app.screen.error_text == ""
        await typed(pilot, "1111")  # the cashier's own PIN
        prompt = app.screen
        assert isinstance(prompt, PinPrompt)
        assert "not a manager PIN" in prompt.error_text
        await typed(pilot, "9999")
        await typed(pilot, "customer called")
        assert app.screen is orders_screen
    assert orders.get_order(engine, order.number).status == "cancelled"


@pytest.mark.parametrize("choice", ["1", "5"])
async def test_recalled_order_deposit_escape_keeps_it_in_the_cart(make_till, engine, place, choice):
    """F8, Enter, F10 → 1 (deposit) or 5 (pay in full), then Escape: as Escape at 2 and 4 does, the
    order stays in the cart; it used to be dropped from it with "order … saved without a deposit"."""
    from tests.order_helpers import make_order

    order = make_order(engine, place)  # 2 coffee, 1 milk: 142.25
    app = make_till()
    async with app.run_test(size=(80, 24)) as pilot:
        sale = await log_in(pilot, "9", "9999")
        await press(pilot, "f8")
        await press(pilot, "enter")
        recalled = [(l.sku, l.quantity) for l in sale.cart.lines]
        assert sale.pickup is not None and recalled == [("CF-001", 2), ("MK-001", 1)]
        await press(pilot, "f10")
        await press(pilot, choice)
        await press(pilot, "escape")
        assert app.screen is sale
        assert sale.pickup is not None and sale.pickup.order.number == order.number
        assert [(l.sku, l.quantity) for l in sale.cart.lines] == recalled
        assert "saved" not in sale.status.text and "no deposit taken" in sale.status.text
        # and the deposit can be taken after all: then the cart is done with
        await press(pilot, "f10")
        await press(pilot, choice)
        if choice == "1":
            await typed(pilot, "100")
        assert isinstance(app.screen, PaymentScreen)
        await typed(pilot, "")
        assert app.screen is sale and not sale.cart.lines and not sale.in_order_mode
    paid = Decimal("100.00") if choice == "1" else Decimal("142.25")
    assert orders.get_order(engine, order.number).paid == paid
    with Session(engine) as s:
        assert [(x.kind, x.total) for x in s.exec(select(Sale))] == [("deposit", paid)]
        assert s.exec(select(CartDraft)).all() == []


@pytest.mark.parametrize("size", SIZES)
async def test_text_handed_to_search_is_typed_on_not_replaced(make_till, size):
    """'mil' + Enter opens search with 'mil' in it; the next keys go on from there. The text used to
    come in selected, so the first key typed wiped it ('k' instead of 'milk')."""
    from app.screens.search import SearchScreen

    app = make_till()
    async with app.run_test(size=size) as pilot:
        sale = await log_in(pilot)
        await typed(pilot, "mil")
        search = app.screen
        assert isinstance(search, SearchScreen)
        await pilot.press("k")
        await settle(pilot)
        assert search.query_one("#search-input").value == "milk"
        assert [p.sku for p in search.products][:1] == ["MK-001"]
        await press(pilot, "enter")
        assert app.screen is sale and [l.sku for l in sale.cart.lines] == ["MK-001"]
        await pilot.press(*"iced")
        await press(pilot, "f2")  # F2 takes what is in the scan field along too
        await pilot.press(*" cof")
        await settle(pilot)
        assert app.screen.query_one("#search-input").value == "iced cof"


async def test_every_sale_screen_binding_is_in_the_command_palette(make_till):
    """Over the evening all of them, by description: ↑/↓ (cart_up, cart_down) used to be hidden by
    the scan field's own scroll keys, which the palette listed instead."""
    from app.commands import ScreenActions

    app = make_till()
    async with app.run_test(size=(80, 24)) as pilot:
        sale = await log_in(pilot)
        listed = {str(hit.display) async for hit in ScreenActions(sale).discover()}  # empty cart: refund
        await typed(pilot, COFFEE)
        await typed(pilot, WATER)
        listed |= {str(hit.display) async for hit in ScreenActions(sale).discover()}
        wanted = {f"{b.description} ({b.key})" for b in SaleScreen.BINDINGS}
        assert wanted <= listed, wanted - listed
        assert sale.query_one("#cart").selected_line == sale.cart.lines[1].line_id
        await press(pilot, "up")
        assert sale.query_one("#cart").selected_line == sale.cart.lines[0].line_id
        await press(pilot, "delete")
        assert [l.sku for l in sale.cart.lines] == ["WT-001"]


@pytest.mark.parametrize("size", SIZES)
async def test_orders_arrows_from_the_search_move_in_the_list(make_till, engine, place, size):
    """F8, `/`, a search typed, then ↓: the cursor moves in the list (and the list takes the keys
    again, so Space toggles); ↓ used to do nothing there and Space went into the search."""
    from tests.order_helpers import make_order
    from widgets.order_list import OrderList

    made = [make_order(engine, place, customer_name=f"Khun {name}") for name in ("Anong", "Somchai", "Anan")]
    app = make_till()
    async with app.run_test(size=size) as pilot:
        await log_in(pilot)
        await press(pilot, "f8")
        screen = app.screen
        table = screen.query_one(OrderList)
        await press(pilot, "slash")
        await pilot.press(*"Khun An")
        await settle(pilot)
        assert table.numbers == [made[2].number, made[0].number]
        await press(pilot, "down")
        assert table.highlighted == made[0].number and app.focused is table
        await press(pilot, "space")
        assert screen.query_one("#orders-search").value == "Khun An"
        assert table.chosen() == [made[0].number]
        await press(pilot, "slash")
        await press(pilot, "up")
        assert table.highlighted == made[2].number and app.focused is table
        await press(pilot, "r")
        assert f"{made[0].number}: ready for pickup" in screen.results_text
        await press(pilot, "slash")
        await press(pilot, "shift+down")  # Shift+↓ from the search extends, as in the list
        assert table.chosen() == [made[2].number, made[0].number] and app.focused is table
    assert [orders.get_order(engine, o.number).status for o in made] == ["ready", "open", "open"]


@pytest.mark.parametrize("size", SIZES)
async def test_login_burst_with_tab_between_code_and_pin(make_till, size):
    """'9⇥9999⏎' in one write (a pty, a scripted terminal): Tab moves to the PIN in key order, as Enter
    does. The PIN's digits used to land in the operator field ('99999', PIN empty)."""
    from textual import events

    app = make_till()
    async with app.run_test(size=size) as pilot:
        for key, char in [("9", "9"), ("tab", "\t"), ("9", "9"), ("9", "9"), ("9", "9"), ("9", "9"), ("enter", "\r")]:
            app._driver.send_message(events.Key(key, char))
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen), app.screen.query_one("#login-operator").value
        assert app.screen.operator.code == "9"


async def test_login_tab_typed_slowly_and_back(make_till):
    app = make_till()
    async with app.run_test(size=(80, 24)) as pilot:
        login = app.screen
        await press(pilot, "1", "tab")
        assert app.focused.id == "login-pin"
        await press(pilot, "shift+tab")  # back to correct the code
        assert app.focused.id == "login-operator"
        await press(pilot, "backspace", "9", "tab")
        assert app.focused.id == "login-pin"
        await typed(pilot, "9999")
        assert isinstance(app.screen, SaleScreen) and app.screen.operator.code == "9"
        assert login.query_one("#login-operator").value == ""  # cleared for the next login


async def test_a_scan_right_after_the_pin_does_not_spoil_the_login(make_till, engine):
    """A code scanned while the PIN is being checked (a fast cashier, a burst from a pty) reaches the
    PIN field; its Enter used to start a second check with the scan's digits after the PIN, which
    cancelled the first and counted a wrong PIN. The first check stands now."""
    from textual import events

    from data.models import AuditLog

    app = make_till()
    async with app.run_test() as pilot:
        keys = ["1", "enter", "1", "1", "1", "1", "enter", *COFFEE, "enter"]
        for key in keys:
            app._driver.send_message(events.Key(key, "\r" if key == "enter" else key))
        for _ in range(5):
            await settle(pilot)
        assert isinstance(app.screen, SaleScreen) and app.screen.operator.code == "1"
    with Session(engine) as s:
        actions = [a.action for a in s.exec(select(AuditLog))]
    assert "login" in actions and "login.failed" not in actions


@pytest.mark.parametrize("size", SIZES)
async def test_a_refused_amount_is_replaced_by_the_next_one_typed(make_till, engine, size):
    """F2, 200 + Enter on 104.50 (more than a card may pay), then 50 + Enter: the 50 is tendered. The
    refused 200 used to stay in the field with the cursor after it, so the next try read 20050."""
    app = make_till()
    async with app.run_test(size=size) as pilot:
        await log_in(pilot)
        await typed(pilot, "2*" + MILK)  # 104.50
        await press(pilot, "f10")
        pay = app.screen
        await press(pilot, "f2")
        await typed(pilot, "200")
        assert "cannot pay more" in pay.message and pay.state.tenders == []
        await typed(pilot, "50")
        assert [(t.tender, t.amount) for t in pay.state.tenders] == [("card", Decimal("50.00"))]
        await press(pilot, "f1")
        await typed(pilot, "1..0")  # no amount at all
        assert "not an amount" in pay.message
        await typed(pilot, "60")
        assert app.screen is not pay
    with Session(engine) as s:
        assert s.exec(select(Sale)).one().change_total == Decimal("5.50")


@pytest.mark.parametrize("size", SIZES)
async def test_a_refused_prompt_value_is_replaced_by_the_next_one_typed(make_till, size):
    app = make_till()
    async with app.run_test(size=size) as pilot:
        sale = await log_in(pilot)
        await typed(pilot, COFFEE)
        await press(pilot, "f4")
        await typed(pilot, "7x")
        assert "not a number" in app.screen.error_text
        await typed(pilot, "3")  # not "7x3"
        assert app.screen is sale and sale.cart.lines[0].quantity == 3


async def test_orders_ctrl_a_from_the_search_selects_all_shown(make_till, engine, place):
    """`/`, a search, Ctrl+A: every order shown is selected and the list has the keys (r marks them
    ready). In the search field Ctrl+A was the field's own 'go to start'."""
    from tests.order_helpers import make_order
    from widgets.order_list import OrderList

    made = [make_order(engine, place, customer_name=f"Khun {name}") for name in ("Anong", "Somchai", "Anan")]
    app = make_till()
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await press(pilot, "f8")
        screen = app.screen
        table = screen.query_one(OrderList)
        await press(pilot, "slash")
        await pilot.press(*"Khun An")
        await settle(pilot)
        await press(pilot, "ctrl+a")
        assert screen.selected_count == 2 and app.focused is table
        await press(pilot, "r")
        await settle(pilot)
        assert "ready for pickup" in screen.results_text
        await press(pilot, "ctrl+a")  # in the list as before: all shown, again none
        assert screen.selected_count == 2
        await press(pilot, "ctrl+a")
        assert screen.selected_count == 0
    assert [orders.get_order(engine, o.number).status for o in made] == ["ready", "open", "ready"]
