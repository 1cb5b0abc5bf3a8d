"""One line under the cart: where we are, who is logged in, and the last message (info or error)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from data.text import printable


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; width: 100%; background: $panel; color: $text; padding: 0 1; }
    StatusBar.-status-error { background: $error; color: $text; }
    StatusBar.-status-warning { background: $warning; color: $text; }
    """

    place: reactive[str] = reactive("", init=False)
    message: reactive[str] = reactive("", init=False)
    level: reactive[str] = reactive("info", init=False)
    devices: reactive[str] = reactive("", init=False)

    def on_mount(self) -> None:
        self._paint()

    def say(self, message: str, level: str = "info") -> None:
        self.message = message
        self.level = level

    def watch_place(self) -> None:
        self._paint()

    def watch_message(self) -> None:
        self._paint()

    def watch_devices(self) -> None:
        self._paint()

    def watch_level(self, level: str) -> None:
        self.set_class(level == "error", "-status-error")
        self.set_class(level == "warning", "-status-warning")
        self._paint()

    @property
    def text(self) -> str:
        return str(self.render())

    def _paint(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(printable(self.place), style="bold")
        if self.devices:
            line.append(" │ " + printable(self.devices))
        if self.message:
            line.append(" │ " + printable(self.message))
        self.update(line)
