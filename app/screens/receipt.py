"""Receipt preview: the same lines the printer gets, at the printer's width, and where the sale went:
each connector's export job with its state and last error (the sale's export history)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.printing import receipt_lines
from data.health import JobRow, export_history
from data.text import printable


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
            history = export_history(ctx.engine, None, self.receipt_number) if ctx.settings.all_connectors() else []
            if ctx.settings.all_connectors():
                yield Static(export_lines(history), id="receipt-exports")
            yield Static(Text("\n".join(self.lines)), id="receipt-paper")

    def on_mount(self) -> None:
        self.query_one("#receipt-paper").styles.width = self.app.ctx.printer.width + 2

    def action_reprint(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


def export_lines(history: list[JobRow]) -> Text:
    """One line per connector: name, state, tries and the last error (F11 shows the rest)."""
    t = Text()
    t.append("Exports", style="bold")
    if not history:
        t.append("  none: no connector takes this sale", style="dim")
    for job in history:
        t.append(f"\n {printable(job.connector)}  ", style="bold")
        t.append(job.state)
        if job.attempts:
            t.append(f"  {job.attempts} tr{'y' if job.attempts == 1 else 'ies'}")
        detail = job.error or job.resolution
        if detail and job.state != "succeeded":
            t.append(f"  {printable(detail)[:60]}", style="dim")
    return t
