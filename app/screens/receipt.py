"""Receipt preview: the same lines the printer gets, at the printer's width."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.printing import receipt_lines


class ReceiptScreen(ModalScreen[bool]):
    """Dismisses True when the operator asks for a reprint."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="receipt_close"),
        Binding("p", "reprint", "Reprint", id="receipt_reprint"),
    ]

    def __init__(self, receipt_number: str) -> None:
        super().__init__()
        self.receipt_number = receipt_number

    def compose(self) -> ComposeResult:
        ctx = self.app.ctx
        self.lines = receipt_lines(ctx, self.receipt_number)
        with VerticalScroll(id="receipt-box", classes="dialog"):
            yield Label(f"Receipt {self.receipt_number} · p reprints · Esc closes", classes="dialog-title")
            yield Static(Text("\n".join(self.lines)), id="receipt-paper")

    def on_mount(self) -> None:
        self.query_one("#receipt-paper").styles.width = self.app.ctx.printer.width + 2

    def action_reprint(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
