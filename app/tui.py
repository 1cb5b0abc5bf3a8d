"""TillApp: the console. make_app(settings) is what the CLI and the tests call."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from textual.app import App
from textual.binding import Binding

from app.commands import ScreenActions
from app.config import Settings
from app.context import TillContext, make_printer
from data.places import Place, ensure_place
from widgets.key_footer import key_display


class TillApp(App):
    CSS_PATH = Path(__file__).parent / "till.tcss"
    TITLE = "Till"
    COMMANDS = App.COMMANDS | {ScreenActions}
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="quit", show=False, priority=True)]

    def __init__(self, ctx: TillContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.sub_title = f"{ctx.place.store_name} · {ctx.place.store_id}/{ctx.place.terminal_code}"

    def get_key_display(self, binding: Binding) -> str:
        if binding.key_display:
            return binding.key_display
        return key_display(binding.key)

    def on_mount(self) -> None:
        from app.screens.login import LoginScreen

        if self.ctx.settings.keys:
            self.set_keymap(self.ctx.settings.keys)
        self.push_screen(LoginScreen())


def place_from_settings(settings: Settings, engine: Engine) -> Place:
    s = settings.store
    return ensure_place(engine, store_id=s.id, store_name=s.name, terminal=s.terminal, currency=s.currency,
                        locale=s.locale, timezone=s.timezone, prices_include_vat=s.prices_include_vat,
                        cash_rounding=s.cash_rounding)


def make_app(settings: Settings, *, engine: Engine | None = None, place: Place | None = None) -> TillApp:
    """Open (and upgrade) the database named by the settings and build the console around it."""
    from data.db import make_engine, upgrade

    if engine is None:
        engine = make_engine(settings.database_url)
        upgrade(engine)
    if place is None:
        place = place_from_settings(settings, engine)
    return TillApp(TillContext(settings=settings, engine=engine, place=place, printer=make_printer(settings)))
