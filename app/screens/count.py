"""Counting the drawer by denomination: for the opening float and the blind day-close count.
It never shows what the till expects; the total of the count is all the cashier sees."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from data.money import ZERO, fmt_money, fmt_qty
from data.text import printable


class CountScreen(ModalScreen[tuple[dict[str, int], Decimal] | None]):
    """Dismisses (counts by denomination, total)."""

    BINDINGS = [
        Binding("f10", "done", "Done", id="count_done"),
        Binding("escape", "cancel", "Cancel", id="count_cancel"),
    ]

    def __init__(self, title: str, denominations: list[Decimal], currency: str) -> None:
        super().__init__()
        self._title = title
        self.denominations = denominations
        self.currency = currency

    def compose(self) -> ComposeResult:
        with Vertical(id="count-box", classes="dialog"):
            yield Label(Text(printable(self._title)), classes="dialog-title")
            yield Static("Type how many of each note and coin; Enter moves on, F10 when done.", classes="muted")
            with Grid(id="count-grid"):
                for i, d in enumerate(self.denominations):
                    yield Label(fmt_qty(d) if d == d.to_integral_value() else f"{d:f}", classes="count-label")
                    yield Input("", id=f"count-{i}", restrict=r"[0-9]*", max_length=5, classes="count-input")
            yield Static(id="count-total")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#count-0", Input).focus()
        self._paint()

    def counts(self) -> dict[str, int]:
        out = {}
        for i, d in enumerate(self.denominations):
            text = self.query_one(f"#count-{i}", Input).value.strip()
            if text:
                out[str(d)] = int(text)
        return out

    def total(self) -> Decimal:
        return sum((Decimal(k) * n for k, n in self.counts().items()), ZERO)

    def _paint(self) -> None:
        self.query_one("#count-total", Static).update(
            Text(f"Counted: {fmt_money(self.total(), self.currency)}", style="bold"))

    @on(Input.Changed)
    def _changed(self) -> None:
        self._paint()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        index = int(event.input.id.split("-")[1])
        if index + 1 < len(self.denominations):
            self.query_one(f"#count-{index + 1}", Input).focus()
        else:
            self.action_done()

    def action_done(self) -> None:
        self.dismiss((self.counts(), self.total()))

    def action_cancel(self) -> None:
        self.dismiss(None)
