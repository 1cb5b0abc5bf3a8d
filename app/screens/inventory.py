"""Stock of one item: on hand, reserved by customer orders and available per store, the open orders
holding it, and the latest rows of its reservation journal."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from data.money import fmt_qty
from data.orders import Inventory
from data.text import printable


class InventoryScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="inventory_close")]

    def __init__(self, inventory: Inventory, timezone: str) -> None:
        super().__init__()
        self.inventory = inventory
        self.zone = ZoneInfo(timezone)

    def compose(self) -> ComposeResult:
        inv = self.inventory
        with Vertical(id="inventory-box", classes="dialog"):
            yield Label(Text(f"{printable(inv.sku)}  {printable(inv.name)}"), classes="dialog-title")
            yield DataTable(id="inventory-stores", cursor_type="none", show_cursor=False)
            yield Label("Held by open orders", classes="section-title")
            yield DataTable(id="inventory-holdings", cursor_type="row")
            yield Label("Reservation journal (latest)", classes="section-title")
            yield DataTable(id="inventory-journal", cursor_type="row")
            yield Static("Esc closes · available = on hand − reserved", classes="muted")

    def on_mount(self) -> None:
        inv = self.inventory
        q = lambda v: Text(fmt_qty(v).rjust(8))  # noqa: E731
        t = lambda v: Text(printable(v or ""))  # noqa: E731 - a str cell would be read as markup
        stores = self.query_one("#inventory-stores", DataTable)
        stores.add_columns("Store", "On hand", "Reserved", "Available")
        for st in inv.stores:
            stores.add_row(t(st.store_id), q(st.on_hand), q(st.reserved), q(st.available))
        if not inv.stores:
            stores.add_row("-", q(0), q(0), q(0))
        held = self.query_one("#inventory-holdings", DataTable)
        held.add_columns("Order", "Status", "Store", "Customer", "Qty", "Expected")
        for h in inv.holdings:
            held.add_row(t(h.number), t(h.status), t(h.store_id), t(h.customer), q(h.reserved), t(h.expected_date))
        journal = self.query_one("#inventory-journal", DataTable)
        journal.add_columns("When", "Kind", "Qty", "Store", "By", "Note")
        for j in inv.journal:
            journal.add_row(j.at.astimezone(self.zone).strftime("%d.%m %H:%M"), t(j.kind), q(j.quantity), t(j.store_id),
                            t(j.operator), t(j.note))
        held.focus()

    def action_close(self) -> None:
        self.dismiss(None)
