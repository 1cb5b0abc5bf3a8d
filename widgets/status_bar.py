"""Two lines under the cart: the last message (coloured by level), then where we are, who is logged
in and what the devices are doing. Two lines so that neither crowds the other out at 80 columns."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import ProgressBar, Static

from data.text import printable


class StatusBar(Vertical):
    DEFAULT_CSS = """
    StatusBar { height: 2; width: 100%; background: $panel; color: $text; }
    StatusBar Static { height: 1; width: 100%; padding: 0 1; }
    StatusBar > #status-message.-status-error { background: $error; color: $text; text-style: bold; }
    StatusBar > #status-message.-status-warning { background: $warning; color: $background; text-style: bold; }
    StatusBar > Horizontal { height: 1; width: 100%; }
    StatusBar #status-place { color: $text-muted; width: 1fr; }
    StatusBar #status-progress { width: 34; height: 1; display: none; }
    StatusBar #status-progress.-shown { display: block; }
    StatusBar #status-progress Bar { width: 20; }
    """

    place: reactive[str] = reactive("", init=False)
    message: reactive[str] = reactive("", init=False)
    level: reactive[str] = reactive("info", init=False)
    devices: reactive[str] = reactive("", init=False)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._message_line = Static(id="status-message")
        self._place_line = Static(id="status-place")
        self._place_shown: tuple[str, str] | None = None
        self._progress = ProgressBar(id="status-progress", show_eta=False)

    def compose(self) -> ComposeResult:
        yield self._message_line
        with Horizontal():
            yield self._place_line
            yield self._progress

    def progress(self, done: int, total: int | None) -> None:
        """Long background work (the catch-up to the site database): a bar at the end of the second
        line while it runs; `total` None hides it."""
        bar = self._progress
        if total is None or done >= total:
            bar.set_class(False, "-shown")
            return
        bar.update(total=total, progress=done)
        bar.set_class(True, "-shown")

    def on_mount(self) -> None:
        self.watch_level(self.level)
        self._paint()

    def say(self, message: str, level: str = "info") -> None:
        """Message and level together, painted once (this runs on every scan)."""
        self.set_reactive(StatusBar.message, printable(message))
        self.set_reactive(StatusBar.level, level)
        self.watch_level(level)
        self._paint()

    def watch_place(self) -> None:
        self._paint()

    def watch_message(self) -> None:
        self._paint()

    def watch_devices(self) -> None:
        self._paint()

    def watch_level(self, level: str) -> None:
        line = self._message_line
        line.set_class(level == "error", "-status-error")
        line.set_class(level == "warning", "-status-warning")

    @property
    def text(self) -> str:
        return printable(f"{self.place} │ {self.devices} │ {self.message}")

    def _paint(self) -> None:
        # Device threads may report before the bar is mounted; the lines exist from __init__ on.
        message, place = self._message_line, self._place_line
        # One line each, always: no relayout needed (it would cost a full layout pass per scan).
        message.update(Text(printable(self.message), no_wrap=True, overflow="ellipsis"), layout=False)
        if (self.place, self.devices) == self._place_shown:
            return  # a scan changes the message only: the second line is not painted again
        self._place_shown = (self.place, self.devices)
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(printable(self.place), style="bold")
        if self.devices:
            line.append(" │ " + printable(self.devices))
        place.update(line, layout=False)
