"""F7 on an empty sale: the parked sales of this terminal; Enter recalls one."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from data.drafts import DraftInfo
from data.money import fmt_qty
from data.text import printable


class ParkedScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Close", id="parked_close")]

    def __init__(self, parked: list[DraftInfo], currency: str) -> None:
        super().__init__()
        self.parked = parked
        self.currency = currency

    def compose(self) -> ComposeResult:
        with Vertical(id="parked-box", classes="dialog"):
            yield Label("Parked sales", classes="dialog-title")
            yield DataTable(id="parked-table", cursor_type="row")
            yield Static("↑/↓ choose · Enter recalls · Esc closes", classes="muted")

    def on_mount(self) -> None:
        zone = ZoneInfo(self.app.ctx.place.timezone)
        table = self.query_one(DataTable)
        table.add_columns("Parked", "Items", "Sale")
        for d in self.parked:
            table.add_row(d.updated_at.astimezone(zone).strftime("%d.%m %H:%M"), fmt_qty(d.item_count),
                          Text(printable(d.label)), key=d.uid)
        table.focus()

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(event.row_key.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
