"""The customer-orders list with multi-select: Space toggles, Shift+↑/↓ extends, Ctrl+A takes all
shown. It shows and selects; the screen decides what an action does (it hears SelectionChanged)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from data.money import ZERO, fmt_money
from data.orders import OrderRow
from data.text import printable

MARK = "*"


class OrderList(DataTable):
    DEFAULT_CSS = """
    OrderList { height: 1fr; }
    """
    BINDINGS = [
        Binding("space", "toggle", "Select", id="orders_toggle"),
        Binding("shift+down", "extend(1)", "Extend", id="orders_extend_down", show=False),
        Binding("shift+up", "extend(-1)", "Extend", id="orders_extend_up", show=False),
        Binding("ctrl+a", "select_all", "All", id="orders_select_all"),
    ]

    class SelectionChanged(Message):
        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    def __init__(self, currency: str, timezone: str, *, width: int = 120, **kw) -> None:
        """`width`: the room the list has; columns beyond the essential ones come with it."""
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.currency = currency
        self.zone = ZoneInfo(timezone)
        self.medium = width >= 85
        self.wide = width >= 115
        self.selected: set[str] = set()
        self.numbers: list[str] = []

    def on_mount(self) -> None:
        self.add_column(" ", key="mark", width=1)
        self.add_column("Order", key="number")
        self.add_column("Status", key="status", width=9)
        self.add_column("Customer", key="customer", width=22 if self.wide else 16 if self.medium else 14)
        if self.wide:
            self.add_column("Phone", key="phone", width=13)
            self.add_column("Store", key="store", width=6)
        if self.medium:
            self.add_column("Created", key="created", width=11)
        if self.wide:
            self.add_column("Expected", key="expected", width=10)
        self.add_column("Total", key="total", width=10)
        self.add_column("Due", key="due", width=10)

    def show(self, rows: Sequence[OrderRow]) -> None:
        """Replace the rows; the selection keeps the orders still shown."""
        keep = self.cursor_row
        self.clear()
        self.numbers = [r.number for r in rows]
        self.selected &= set(self.numbers)
        for r in rows:
            self.add_row(*self._cells(r), key=r.number)
        if rows:
            self.move_cursor(row=min(max(keep, 0), len(rows) - 1))
        self.post_message(self.SelectionChanged(len(self.selected)))

    def _cells(self, r: OrderRow) -> list:
        money = lambda v: Text(fmt_money(v, self.currency).rjust(10), no_wrap=True)  # noqa: E731
        due = max(r.total - r.paid, ZERO) if r.status not in ("delivered", "cancelled") else ZERO
        cells = [MARK if r.number in self.selected else " ", r.number, r.status,
                 Text(printable(r.customer_name or r.customer_phone), no_wrap=True, overflow="ellipsis")]
        if self.wide:
            cells += [Text(printable(r.customer_phone), no_wrap=True), r.fulfil_store]
        if self.medium:
            cells.append(_local(r.created_at, self.zone))
        if self.wide:
            cells.append(r.expected_date or "")
        cells += [money(r.total), money(due)]
        return cells

    @property
    def highlighted(self) -> str | None:
        if not self.numbers or self.cursor_row < 0 or self.cursor_row >= len(self.numbers):
            return None
        return self.numbers[self.cursor_row]

    def chosen(self) -> list[str]:
        """The selection in list order, or the highlighted order when nothing is selected."""
        if self.selected:
            return [n for n in self.numbers if n in self.selected]
        return [self.highlighted] if self.highlighted else []

    def _mark(self, number: str, on: bool) -> None:
        (self.selected.add if on else self.selected.discard)(number)
        self.update_cell(number, "mark", MARK if on else " ")

    def action_toggle(self) -> None:
        number = self.highlighted
        if number is None:
            return
        self._mark(number, number not in self.selected)
        self.post_message(self.SelectionChanged(len(self.selected)))

    def action_extend(self, step: int) -> None:
        number = self.highlighted
        if number is None:
            return
        self._mark(number, True)
        target = self.cursor_row + step
        if 0 <= target < len(self.numbers):
            self.move_cursor(row=target)
            self._mark(self.numbers[target], True)
        self.post_message(self.SelectionChanged(len(self.selected)))

    def action_select_all(self) -> None:
        everything = len(self.selected) == len(self.numbers)
        for number in self.numbers:
            self._mark(number, not everything)
        self.post_message(self.SelectionChanged(len(self.selected)))


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%d.%m %H:%M")
