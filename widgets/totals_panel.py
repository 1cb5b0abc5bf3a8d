"""Subtotal, discounts, VAT and total; the total in big digits when the terminal has room."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Digits, Static

from data.money import fmt_money, fmt_qty
from data.pricing import CartTotals
from data.text import printable


@dataclass(frozen=True)
class LastSale:
    receipt_number: str
    paid: Decimal
    change: Decimal


class TotalsPanel(Vertical):
    DEFAULT_CSS = """
    TotalsPanel { height: auto; }
    TotalsPanel > #totals-figures { height: auto; }
    TotalsPanel > Digits { width: 100%; text-align: right; }
    TotalsPanel > #totals-last { height: auto; color: $text-muted; }
    """

    last_sale: reactive[LastSale | None] = reactive(None, init=False)

    def __init__(self, currency: str, **kw) -> None:
        super().__init__(**kw)
        self.currency = currency
        self.totals: CartTotals | None = None
        self.items = Decimal(0)
        self.member = ""
        self._shape: tuple | None = None
        self._last_line: str | None = None

    def show(self, totals: CartTotals, items: Decimal, member: str) -> None:
        """All figures at once, painted once: this runs on every scan."""
        self.totals, self.items, self.member = totals, items, member
        self._render_all()

    def compose(self) -> ComposeResult:
        yield Static(id="totals-figures")
        yield Digits("0.00", id="totals-digits")
        yield Static(id="totals-last")

    def on_mount(self) -> None:
        self._render_all()

    def watch_last_sale(self) -> None:
        self._render_all()

    def on_resize(self) -> None:
        self._render_all()

    def _render_all(self) -> None:
        t = self.totals
        money = lambda v: fmt_money(v, self.currency)  # noqa: E731
        zero = Decimal(0)
        vat_label = "VAT incl." if (t is None or t.prices_include_vat) else "VAT"
        figures = [
            ("Items", fmt_qty(self.items)),
            ("Subtotal", money(t.subtotal if t else zero)),
            ("Discounts", money(-(t.discount_total if t else zero))),
            (vat_label, money(t.vat if t else zero)),
            ("Member", Text(printable(self.member) or "-")),
            (Text("TOTAL", style="bold"), Text(money(t.total if t else zero), style="bold")),
        ]
        # Under the cart (80 columns) the figures go three to a line; beside it, one per line.
        per_row = 3 if self.size.width >= 60 else 1
        grid = Table.grid(expand=True, padding=(0, 1))
        for _ in range(per_row):
            grid.add_column(ratio=1)
            grid.add_column(justify="right")
        for start in range(0, len(figures), per_row):
            cells = []
            for label, value in figures[start:start + per_row]:
                cells += [label, value]
            grid.add_row(*cells)
        last = self.last_sale
        # Relayout only when the shape changes (columns, the "last sale" line coming or going): a
        # layout pass per scan is most of what a scan costs on screen.
        shape = (per_row, last is None)
        relayout = shape != self._shape
        self._shape = shape
        self.query_one("#totals-figures", Static).update(grid, layout=relayout)
        self.query_one("#totals-digits", Digits).update(money(t.total if t else zero))
        last_line = f"Last {last.receipt_number}: paid {money(last.paid)}, change {money(last.change)}" if last else ""
        if relayout or last_line != self._last_line:  # not repainted on every scan
            self._last_line = last_line
            self.query_one("#totals-last", Static).update(Text(last_line), layout=relayout)
