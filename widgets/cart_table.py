"""The cart: one keyed row per line, updated by key so a long cart does not flicker on each scan."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.text import Text

from data.cart import Cart
from data.money import fmt_money, fmt_qty
from data.pricing import CartTotals
from data.text import printable
from widgets.cached_table import CachedCellTable


@dataclass(frozen=True)
class CartRow:
    line_id: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    overridden: bool
    discount: Decimal
    total: Decimal


def cart_rows(cart: Cart, totals: CartTotals) -> list[CartRow]:
    rows = []
    for line, lt in zip(cart.lines, totals.lines):
        rows.append(CartRow(line.line_id, line.name, line.quantity, line.unit_price,
                            line.unit_price != line.original_price, lt.discount, lt.total))
    return rows


def right(text: str, width: int) -> Text:
    """A figure padded to its column width, so amounts line up on the right."""
    return Text(text.rjust(width), no_wrap=True)


class CartTable(CachedCellTable):
    DEFAULT_CSS = """
    CartTable { height: 1fr; }
    """

    COLUMNS = (("item", "Item"), ("qty", "Qty"), ("price", "Price"), ("disc", "Disc"), ("total", "Total"))
    NUMERIC_WIDTHS = {"qty": 6, "price": 10, "disc": 9, "total": 11}

    def __init__(self, currency: str, **kw) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.currency = currency
        self._rows: dict[str, CartRow] = {}

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            width = self.NUMERIC_WIDTHS.get(key, self._item_width())
            self.add_column(Text(label) if key == "item" else right(label, width), key=key, width=width)

    def _item_width(self) -> int:
        numeric = sum(self.NUMERIC_WIDTHS.values()) + 2 * len(self.COLUMNS) + 2
        return max(12, (self.size.width or self.app.size.width) - numeric)

    def on_resize(self) -> None:
        if "item" in self.columns:
            self.columns["item"].width = self._item_width()
            self._require_update_dimensions = True
            self.refresh()

    def _cells(self, row: CartRow) -> list[Text]:
        name = Text(printable(row.name), no_wrap=True, overflow="ellipsis")
        price = fmt_money(row.unit_price, self.currency) + ("*" if row.overridden else " ")
        disc = fmt_money(-row.discount, self.currency) if row.discount else ""
        w = self.NUMERIC_WIDTHS
        return [name, right(fmt_qty(row.quantity), w["qty"]), right(price, w["price"]), right(disc, w["disc"]),
                right(fmt_money(row.total, self.currency), w["total"])]

    def show(self, rows: list[CartRow], *, select: str | None = None) -> None:
        """Diff the rows in by key: remove gone lines, update changed cells, append new lines."""
        wanted = {r.line_id: r for r in rows}
        with self.app.batch_update():
            for line_id in [k for k in self._rows if k not in wanted]:
                self.remove_row(line_id)
                del self._rows[line_id]
            for row in rows:
                old = self._rows.get(row.line_id)
                if old is None:
                    self.add_row(*self._cells(row), key=row.line_id)
                elif old != row:
                    for (col, _), cell in zip(self.COLUMNS, self._cells(row)):
                        self.update_cell(row.line_id, col, cell)
                self._rows[row.line_id] = row
            if select is not None and select in self._rows:
                self.move_cursor(row=self.get_row_index(select))

    @property
    def selected_line(self) -> str | None:
        if not self._rows or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        return key.value
