"""An X or Z report on screen: the same lines the receipt printer gets."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class ReportScreen(ModalScreen[bool]):
    """Dismisses True when the operator asks for it on paper."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="report_close"),
        Binding("p", "print", "Print", id="report_print"),
    ]

    def __init__(self, title: str, lines: list[str], width: int) -> None:
        super().__init__()
        self._title = title
        self.lines = lines
        self.width = width

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="report-box", classes="dialog"):
            yield Label(f"{self._title} · p prints · Esc closes", classes="dialog-title")
            yield Static(Text("\n".join(self.lines)), id="report-paper")

    def on_mount(self) -> None:
        self.query_one("#report-paper").styles.width = self.width + 2

    def action_print(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
