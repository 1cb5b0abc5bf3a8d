"""Bindings: remapped from [keys] in till.toml, greyed when not allowed, listed in the palette."""

from __future__ import annotations

from app.config import load_settings
from app.screens.payment import PaymentScreen
from app.screens.sale import SaleScreen
from tests.conftest import COFFEE
from tests.pilot import enter, login, press, settle


async def test_keys_section_remaps_pay(home, engine):
    from app.tui import make_app

    config = home / "till.toml"
    config.write_text(config.read_text() + '\n[keys]\npay = "f10,ctrl+enter,f8"\n', encoding="utf-8")
    app = make_app(load_settings(home), engine=engine)
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        await press(pilot, "f8")
        assert isinstance(app.screen, PaymentScreen)


async def test_pay_is_greyed_on_empty_cart_and_refund_while_selling(make_till):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        sale = app.screen
        assert sale.check_action("pay", ()) is None
        assert sale.check_action("refund", ()) is True
        await press(pilot, "f10")
        assert isinstance(app.screen, SaleScreen)
        await enter(pilot, COFFEE)
        assert sale.check_action("pay", ()) is True
        assert sale.check_action("refund", ()) is None
        await press(pilot, "f9")  # greyed: nothing opens
        assert isinstance(app.screen, SaleScreen)


async def test_command_palette_lists_sale_actions(make_till):
    from app.commands import ScreenActions

    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        provider = ScreenActions(app.screen)
        names = [hit.display async for hit in provider.discover()]
        assert any(str(n).startswith("Pay (f10)") for n in names)
        assert any(str(n).startswith("Search (f2)") for n in names)
        await press(pilot, "ctrl+p")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CommandPalette"
        await press(pilot, "escape")
