"""App-wide messages: what device threads and workers report, handled with @on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from app.printing import DrainResult


class DatabaseOpened(Message):
    def __init__(self, ok: bool) -> None:
        super().__init__()
        self.ok = ok


class ScanArrived(Message):
    """A barcode from the serial scanner (posted from its reader thread)."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code


class ScannerState(Message):
    def __init__(self, state: str, detail: str = "") -> None:
        super().__init__()
        self.state = state
        self.detail = detail

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ScannerState)


class SpoolDrained(Message):
    def __init__(self, result: DrainResult) -> None:
        super().__init__()
        self.result = result


class SiteStatus(Message):
    """How the link to the site database stands (posted by the exports worker after each pass)."""

    def __init__(self, state) -> None:
        super().__init__()
        self.state = state

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SiteStatus)


class CataloguePulled(Message):
    def __init__(self, changed: int, error: str = "") -> None:
        super().__init__()
        self.changed = changed
        self.error = error


class SiteProgress(Message):
    """A batch reached the site database during a catch-up (posted from the exports worker)."""

    def __init__(self, sent: int, total: int) -> None:
        super().__init__()
        self.sent = sent
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SiteProgress)
