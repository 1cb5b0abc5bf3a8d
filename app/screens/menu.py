"""F12: the operator's menu. The manager screens (operators and roles, products and prices) are in it
only for a manager: for anyone else they are not shown at all."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

ITEMS = [("reprint", "Reprint last receipt (Ctrl+R)"), ("receipt", "Show last receipt"),
         ("x_report", "X report"), ("float", "Count the opening float"), ("cash_in", "Cash in"),
         ("cash_out", "Cash out"), ("safe_drop", "Safe drop"), ("close_day", "Close day (Z report)"),
         ("stock", "Item stock and reservations"),
         ("operators", "Operators and roles"), ("products", "Products and prices"),
         ("logout", "Log out")]
MANAGER_ITEMS = frozenset({"operators", "products"})


class MenuScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Close", id="menu_close")]

    def __init__(self, manager: bool = False) -> None:
        super().__init__()
        self.items = [(key, text) for key, text in ITEMS if manager or key not in MANAGER_ITEMS]

    def compose(self) -> ComposeResult:
        with Vertical(id="menu-box", classes="dialog"):
            yield Label("Menu", classes="dialog-title")
            yield OptionList(*[Option(text, id=key) for key, text in self.items], id="menu-options")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
