"""The customer-orders list with multi-select: Space toggles, Shift+↑/↓ extends, Ctrl+A takes all
shown. It shows and selects; the screen decides what an action does (it hears SelectionChanged,
Highlighted and Activated).

A Line-API widget, not a DataTable: every filter keystroke replaces the rows, and DataTable rebuilt
them and rendered every visible cell through Rich, about twice (most of the 90–125 ms a keystroke
took at 120×40). Here the rows are kept as data and only the visible lines are drawn, a plain-text
segment a cell (nothing from outside is read as markup), each line kept against the row's content,
its place and its state, so a changed row is always drawn anew."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from data.money import ZERO, fmt_money
from data.orders import OrderRow
from data.text import printable

MARK = "*"
PADDING = 1  # blank cells either side of every column, as DataTable draws them
MIN_CUSTOMER = 8  # the customer column gives up room (down to this) before the list scrolls sideways


@dataclass(frozen=True)
class Column:
    label: str
    width: int | None  # None: as wide as the widest value shown (it only grows)
    cell: Callable[[OrderList, OrderRow], str]
    right: bool = False
    ellipsis: bool = False


def _due(r: OrderRow):
    return max(r.total - r.paid, ZERO) if r.status not in ("delivered", "cancelled") else ZERO


class OrderList(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    OrderList {
        height: 1fr;
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        &:focus {
            background-tint: $foreground 5%;
            & > .order-list--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .order-list--header { background-tint: $foreground 5%; }
        }
        &:dark > .order-list--even-row { background: $surface-darken-1 40%; }
        & > .order-list--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .order-list--header { background: ansi_bright_blue; color: ansi_default; }
        & > .order-list--even-row { background: $surface-lighten-1 50%; }
        & > .order-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .order-list--hover { background: $block-hover-background; }
    }
    """
    COMPONENT_CLASSES = {"order-list--header", "order-list--even-row", "order-list--odd-row",
                         "order-list--cursor", "order-list--hover"}
    BINDINGS = [
        Binding("space", "toggle", "Select", id="orders_toggle"),
        Binding("shift+down", "extend(1)", "Extend", id="orders_extend_down", show=False),
        Binding("shift+up", "extend(-1)", "Extend", id="orders_extend_up", show=False),
        Binding("ctrl+a", "select_all", "All", id="orders_select_all"),
        Binding("enter", "activate", "Open", id="orders_open", show=False),
        Binding("down", "cursor(1)", "Down", id="orders_down", show=False),
        Binding("up", "cursor(-1)", "Up", id="orders_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="orders_page_down", show=False),
        Binding("pageup", "page(-1)", "Page up", id="orders_page_up", show=False),
        Binding("home,ctrl+home", "first", "First", id="orders_first", show=False),
        Binding("end,ctrl+end", "last", "Last", id="orders_last", show=False),
    ]
    ROW_CACHE = 1024

    class SelectionChanged(Message):
        def __init__(self, order_list: OrderList, count: int) -> None:
            super().__init__()
            self.order_list, self.count = order_list, count

        @property
        def control(self) -> OrderList:
            return self.order_list

    class Highlighted(Message):
        """The cursor is on another order (None: the list is empty)."""

        def __init__(self, order_list: OrderList, number: str | None) -> None:
            super().__init__()
            self.order_list, self.number = order_list, number

        @property
        def control(self) -> OrderList:
            return self.order_list

    class Activated(Message):
        """Enter on an order, or a click on the highlighted one."""

        def __init__(self, order_list: OrderList, number: str) -> None:
            super().__init__()
            self.order_list, self.number = order_list, number

        @property
        def control(self) -> OrderList:
            return self.order_list

    def __init__(self, currency: str, timezone: str, *, width: int = 120, **kw) -> None:
        """`width`: the room the list has; columns beyond the essential ones come with it."""
        super().__init__(**kw)
        self.currency = currency
        self.zone = ZoneInfo(timezone)
        medium, wide = width >= 85, width >= 115
        money = lambda value: lambda s, r: fmt_money(value(r), s.currency)  # noqa: E731
        columns = [Column(" ", 1, lambda s, r: MARK if r.number in s.selected else " "),
                   Column("Order", None, lambda s, r: printable(r.number)),
                   Column("Status", 9, lambda s, r: printable(r.status)),
                   Column("Customer", 22 if wide else 16 if medium else 14,
                          lambda s, r: printable(r.customer_name or r.customer_phone), ellipsis=True)]
        if wide:
            columns += [Column("Phone", 13, lambda s, r: printable(r.customer_phone)),
                        Column("Store", 6, lambda s, r: printable(r.fulfil_store))]
        if medium:
            columns.append(Column("Created", 11, lambda s, r: _local(r.created_at, s.zone)))
        if wide:
            columns.append(Column("Expected", 10, lambda s, r: printable(r.expected_date or "")))
        columns += [Column("Total", 10, money(lambda r: r.total), right=True),
                    Column("Due", 10, money(_due), right=True)]
        self.columns = columns
        self._customer = next(i for i, c in enumerate(columns) if c.label == "Customer")
        self._auto = [cell_len(c.label) if c.width is None else c.width for c in columns]
        self.rows: list[OrderRow] = []
        self.numbers: list[str] = []
        self.selected: set[str] = set()
        self.cursor_row = 0
        self.hover_row = -1  # shown only while the mouse moves over the list, as DataTable does
        self._rows_cache: LRUCache = LRUCache(self.ROW_CACHE)

    # -- data --------------------------------------------------------------------------------------
    def show(self, rows: Sequence[OrderRow]) -> None:
        """Replace the rows; the cursor keeps its place and the selection the orders still shown."""
        before, selected = self.highlighted, len(self.selected)
        self.rows = list(rows)
        self.numbers = [r.number for r in self.rows]
        self.selected &= set(self.numbers)
        for r in self.rows:
            width = cell_len(printable(r.number))
            if width > self._auto[1]:
                self._auto[1] = width
        self.cursor_row = min(self.cursor_row, len(self.rows) - 1) if self.rows else 0
        self.hover_row = -1
        self.virtual_size = Size(self._table_width(), len(self.rows) + 1)
        self._scroll_to_cursor()
        self.refresh()
        if self.highlighted != before:
            self.post_message(self.Highlighted(self, self.highlighted))
        if len(self.selected) != selected:
            self.post_message(self.SelectionChanged(self, len(self.selected)))

    def clear_selection(self) -> None:
        self.selected.clear()
        self.refresh()

    @property
    def highlighted(self) -> str | None:
        return self.numbers[self.cursor_row] if 0 <= self.cursor_row < len(self.numbers) else None

    def chosen(self) -> list[str]:
        """The selection in list order, or the highlighted order when nothing is selected."""
        if self.selected:
            return [n for n in self.numbers if n in self.selected]
        return [self.highlighted] if self.highlighted else []

    def move_cursor(self, row: int) -> None:
        if not self.rows:
            return
        row = max(0, min(row, len(self.rows) - 1))
        if self.hover_row != -1:  # keys take over from the mouse
            self.hover_row = -1
            self.refresh()
        if row == self.cursor_row:
            return
        self.cursor_row = row
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self, self.highlighted))

    # -- keys and mouse ----------------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step * max(1, self._body_height()))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.rows) - 1)

    def action_activate(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Activated(self, self.highlighted))

    def action_toggle(self) -> None:
        number = self.highlighted
        if number is None:
            return
        self._mark(number, number not in self.selected)
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    def action_extend(self, step: int) -> None:
        number = self.highlighted
        if number is None:
            return
        self._mark(number, True)
        target = self.cursor_row + step
        if 0 <= target < len(self.numbers):
            self.move_cursor(target)
            self._mark(self.numbers[target], True)
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    def action_select_all(self) -> None:
        everything = len(self.selected) == len(self.numbers)
        for number in self.numbers:
            self._mark(number, not everything)
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    def _mark(self, number: str, on: bool) -> None:
        (self.selected.add if on else self.selected.discard)(number)
        self.refresh()  # the row's mark is part of its cache key: only that row is drawn again

    def _row_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return None
        row = round(self.scroll_y) + offset.y - 1
        return row if row < len(self.rows) else None

    def on_click(self, event: events.Click) -> None:
        row = self._row_at(event)
        if row is None:
            return
        event.stop()
        if row == self.cursor_row:
            self.action_activate()
        else:
            self.move_cursor(row)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        row = self._row_at(event)
        row = -1 if row is None else row
        if row != self.hover_row:
            self.hover_row = row
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self.hover_row != -1:
            self.hover_row = -1
            self.refresh()

    # -- drawing -----------------------------------------------------------------------------------
    def _body_height(self) -> int:
        return self.scrollable_content_region.height - 1  # less the header

    def _scroll_to_cursor(self) -> None:
        top, height = round(self.scroll_y), self._body_height()
        if height <= 0:
            return
        if self.cursor_row < top:
            top = self.cursor_row
        elif self.cursor_row >= top + height:
            top = self.cursor_row - height + 1
        top = max(0, min(top, len(self.rows) - height))
        if top != round(self.scroll_y):
            self.scroll_to(y=top, animate=False, immediate=True)

    def _widths(self) -> list[int]:
        """The columns' widths; the customer's gives up what would not fit in the list's width."""
        widths = list(self._auto)
        over = self._table_width() - self.size.width
        if over > 0:
            widths[self._customer] -= min(over, max(0, widths[self._customer] - MIN_CUSTOMER))
        return widths

    def _table_width(self) -> int:
        return sum(self._auto) + 2 * PADDING * len(self.columns)

    def notify_style_update(self) -> None:
        self._rows_cache.clear()  # theme or CSS changed: stripe and cursor colours with it
        super().notify_style_update()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Once a frame: the styles every line is drawn with (they change with focus and theme).
        get = self.get_component_rich_style
        cursor = get("order-list--cursor")
        self._styles = (get("order-list--header"), get("order-list--even-row"), get("order-list--odd-row"),
                        cursor, get("order-list--hover"))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        widths = self._widths()
        header, even, odd, cursor, hover = self._styles
        if y == 0:
            return self._line(-1, tuple(c.label for c in self.columns), widths, width, header)  # labels flush left
        index = round(self.scroll_y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        style = even if index % 2 == 0 else odd
        if index == self.cursor_row:
            style = style + cursor
        elif index == self.hover_row:
            style = style + hover
        key = (row, index, row.number in self.selected, style, width, tuple(widths))
        strip = self._rows_cache.get(key)
        if strip is None:
            strip = self._line(index, tuple(c.cell(self, row) for c in self.columns), widths, width, style)
            self._rows_cache[key] = strip
        return strip

    def _line(self, index: int, cells: tuple[str, ...], widths: list[int], width: int, style: Style) -> Strip:
        """One segment a cell, each with its place as meta (as DataTable's, so that exported
        screens keep their columns), then the row's style out to the edge."""
        pad = " " * PADDING
        segments = [Segment(pad + _fit(value, w, column.right and index >= 0, column.ellipsis) + pad,
                            style + Style.from_meta({"row": index, "column": n}))
                    for n, (value, w, column) in enumerate(zip(cells, widths, self.columns))]
        used = sum(widths) + 2 * PADDING * len(widths)
        if used < width:
            segments.append(Segment(" " * (width - used), style + Style.from_meta(
                {"row": index, "column": 0, "out_of_bounds": True})))
        return Strip(segments).adjust_cell_length(width, style)


def _fit(text: str, width: int, right: bool, ellipsis: bool) -> str:
    """`text` in exactly `width` cells: padded, or cut (with … where the column says so)."""
    size = cell_len(text)
    if size > width:
        return set_cell_size(set_cell_size(text, width - 1) + "…" if ellipsis else text, width)
    return " " * (width - size) + text if right else text + " " * (width - size)


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%d.%m %H:%M")
