"""F9 refund: pick lines and quantities of a past receipt, then the tender to pay back with.
The manager PIN and the commit happen on the sale screen after this dialog."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from data.money import ZERO, fmt_money, fmt_qty, round_money
from data.payments import CARD, CASH, PaymentState
from data.sales import RefundableSale, SaleError, refund_amounts, refundable
from data.text import printable
from widgets.cart_table import right


def load_refundable(engine, text: str) -> RefundableSale:
    """Prompt parser: a receipt number that exists and has something left to refund."""
    try:
        sale = refundable(engine, text)
    except SaleError as exc:
        raise ValueError(str(exc)) from None
    if all(line.refundable_qty <= 0 for line in sale.lines):
        raise ValueError(f"{sale.receipt_number} is already refunded in full")
    return sale


@dataclass
class RefundRequest:
    quantities: dict[int, Decimal]
    payment: PaymentState
    reason: str = ""
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))


class RefundScreen(ModalScreen[RefundRequest | None]):
    BINDINGS = [
        Binding("plus,equals_sign", "step(1)", "+1", id="refund_more"),
        Binding("minus", "step(-1)", "−1", id="refund_less"),
        Binding("a", "all", "All", id="refund_all"),
        Binding("f1", "finish('cash')", "Cash back", id="refund_cash"),
        Binding("f2", "finish('card')", "Card back", id="refund_card"),
        Binding("escape", "cancel", "Cancel", id="refund_cancel"),
    ]

    def __init__(self, sale: RefundableSale, currency: str, cash_unit: Decimal) -> None:
        super().__init__()
        self.sale = sale
        self.currency = currency
        self.cash_unit = cash_unit
        self.quantities: dict[int, Decimal] = {line.line_id: ZERO for line in sale.lines}

    def compose(self) -> ComposeResult:
        with Vertical(id="refund-box", classes="dialog"):
            yield Label(Text(f"Refund of {self.sale.receipt_number}"), classes="dialog-title")
            yield DataTable(id="refund-table", cursor_type="row")
            yield Static(id="refund-total")
            yield Input(placeholder="reason (optional)", id="refund-reason", max_length=120)
            yield Static("", id="refund-message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        box = min(int(self.app.size.width * 0.9), 110) - 4  # .dialog: 90 %, border and padding
        table.add_column("Item", key="item", width=max(12, box - 4 * 10 - 2 * 5 - 2))
        for key, label in (("sold", "Sold"), ("done", "Refunded"), ("qty", "Refund"), ("amount", "Amount")):
            table.add_column(right(label, 10), key=key, width=10)
        for line in self.sale.lines:
            table.add_row(Text(printable(line.name), no_wrap=True, overflow="ellipsis"),
                          right(fmt_qty(line.sold_qty), 10), right(fmt_qty(line.refunded_qty), 10),
                          right("0", 10), right("", 10), key=str(line.line_id))
        table.focus()
        self._paint()

    def refund_total(self) -> Decimal:
        total = round_money(ZERO, self.currency)
        for line in self.sale.lines:
            qty = self.quantities[line.line_id]
            if qty > 0:
                total += refund_amounts(line, qty, self.currency)[0]
        return total

    def _paint(self) -> None:
        table = self.query_one(DataTable)
        for line in self.sale.lines:
            qty = self.quantities[line.line_id]
            amount = refund_amounts(line, qty, self.currency)[0] if qty > 0 else None
            table.update_cell(str(line.line_id), "qty", right(fmt_qty(qty), 10))
            table.update_cell(str(line.line_id), "amount",
                              right(fmt_money(amount, self.currency) if amount is not None else "", 10))
        self.query_one("#refund-total", Static).update(Text(
            f"To refund: {fmt_money(self.refund_total(), self.currency)}  ·  +/− change the highlighted line, "
            f"a = all, F1 cash back, F2 card back", style="bold"))

    def _line(self):
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self.sale.lines[table.cursor_row]

    def action_step(self, step: int) -> None:
        line = self._line()
        if line is None:
            return
        qty = self.quantities[line.line_id] + step
        self.quantities[line.line_id] = max(ZERO, min(qty, line.refundable_qty))
        if qty > line.refundable_qty:
            self._say(f"only {fmt_qty(line.refundable_qty)} of {line.name} left to refund")
        self._paint()

    def action_all(self) -> None:
        for line in self.sale.lines:
            self.quantities[line.line_id] = max(ZERO, line.refundable_qty)
        self._paint()

    def _say(self, text: str) -> None:
        self.query_one("#refund-message", Static).update(Text(printable(text)))
        self.app.bell()

    def action_finish(self, tender: str) -> None:
        total = self.refund_total()
        if total <= 0 and not any(q > 0 for q in self.quantities.values()):
            self._say("choose what to refund first (+ or a)")
            return
        payment = PaymentState(total, self.currency, self.cash_unit)
        if not payment.complete:
            payment.apply(CASH if tender == CASH else CARD)
        reason = self.query_one("#refund-reason", Input).value.strip()
        self.dismiss(RefundRequest({k: v for k, v in self.quantities.items() if v > 0}, payment, reason))

    def action_cancel(self) -> None:
        self.dismiss(None)
