"""F2 product search: live results as the cashier types; Enter adds the highlighted product."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from data.catalog import ProductInfo, search
from data.money import fmt_money
from data.text import printable
from widgets.cart_table import right


class SearchScreen(ModalScreen[ProductInfo | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Close", id="search_close"),
        Binding("down", "move(1)", "Down", id="search_down", show=False),
        Binding("up", "move(-1)", "Up", id="search_up", show=False),
        Binding("pagedown", "move(10)", "Page down", id="search_pgdn", show=False),
        Binding("pageup", "move(-10)", "Page up", id="search_pgup", show=False),
    ]

    class Results(Message):
        def __init__(self, query: str, products: list[ProductInfo]) -> None:
            super().__init__()
            self.query = query
            self.products = products

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self._initial = query
        self.products: list[ProductInfo] = []
        self.shown_query: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Label("Product search: name, SKU or barcode (Thai, English or digits)", id="search-title")
            # Not selected on focus: the text handed over from the scan field is typed on, not replaced.
            yield Input(value=self._initial, placeholder="type to search", id="search-input", select_on_focus=False)
            yield DataTable(id="search-results", cursor_type="row", zebra_stripes=True)
            yield Static("", id="search-status")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("SKU", key="sku", width=10)
        box = min(int(self.app.size.width * 0.96), 120) - 4  # #search-box: 96 %, border and padding
        table.add_column("Name", key="name", width=max(16, box - (10 + 10 + 13) - 2 * 4 - 3))  # 2: scrollbar
        table.add_column(right("Price", 10), key="price", width=10)
        table.add_column("Barcode", key="barcode", width=13)
        self.query_one(Input).focus()
        self._search(self._initial)

    def set_query(self, text: str) -> None:
        """A scan while search is open replaces what was typed."""
        inp = self.query_one(Input)
        inp.value = text
        inp.cursor_position = len(text)

    @on(Input.Changed, "#search-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._search(event.value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, query: str) -> None:
        results = search(self.app.ctx.engine, query) if query.strip() else []
        self.post_message(self.Results(query, results))

    @on(Results)
    def _show(self, event: Results) -> None:
        if event.query != self.query_one(Input).value:
            return  # a newer keystroke is on its way
        self.products = event.products
        self.shown_query = event.query
        currency = self.app.ctx.currency
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for i, p in enumerate(event.products):
                table.add_row(Text(printable(p.sku)), Text(printable(p.display_name), no_wrap=True, overflow="ellipsis"),
                              right(fmt_money(p.price, currency), 10), Text(printable(p.barcode or "")),
                              key=str(i))
        status = self.query_one("#search-status", Static)
        if not event.query.strip():
            status.update("type part of a name, SKU or barcode")
        elif not event.products:
            status.update(Text(f"nothing matches {printable(event.query)!r}"))
        else:
            status.update(f"{len(event.products)} shown · ↑/↓ choose · Enter adds · Esc closes")

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value != self.shown_query:
            # Enter pressed before results for the last keystroke arrived: search now, synchronously.
            self._show(self.Results(event.value, search(self.app.ctx.engine, event.value)))
        table = self.query_one(DataTable)
        if not self.products:
            self.app.bell()
            return
        index = table.cursor_row if 0 <= table.cursor_row < len(self.products) else 0
        self.dismiss(self.products[index])

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(self.products[event.cursor_row])

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_cancel(self) -> None:
        self.dismiss(None)
