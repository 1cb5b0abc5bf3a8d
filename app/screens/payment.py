"""F10 payment: cash (rounded to the smallest coin, change), card with its terminal's reference, other
tenders from [payment], and any split of them. The dialog works on the sale's PaymentState, so Escape
keeps tenders already taken for when the cashier comes back."""

from __future__ import annotations

from decimal import Decimal

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from app.config import PaymentSettings
from app.devices.receipt_layout import tender_name
from data.money import MoneyError, fmt_money, fmt_qty, to_decimal
from data.payments import CASH, PaymentState, TenderError
from data.text import printable


def tender_id(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum()) or "other"


class PaymentScreen(ModalScreen[PaymentState | None]):
    BINDINGS = [
        Binding("f1", "tender('cash')", "Cash", id="tender_cash"),
        Binding("f2", "tender('card')", "Card", id="tender_card"),
        Binding("f3", "other", "Other", id="tender_other"),
        Binding("f5", "note(0)", "Note 1", id="note_1", show=False),
        Binding("f6", "note(1)", "Note 2", id="note_2", show=False),
        Binding("f7", "note(2)", "Note 3", id="note_3", show=False),
        Binding("f8", "note(3)", "Note 4", id="note_4", show=False),
        Binding("f9", "note(4)", "Note 5", id="note_5", show=False),
        # priority: the amount field has focus, and an Input's own Ctrl+U (delete to the left) would take it
        Binding("ctrl+u", "untender", "Undo tender", id="untender", priority=True),
        Binding("escape", "cancel", "Back", id="pay_back"),
    ]

    tender: reactive[str] = reactive(CASH, init=False)

    def __init__(self, state: PaymentState, settings: PaymentSettings) -> None:
        super().__init__()
        self.state = state
        self.others = [(tender_id(n), n) for n in settings.other_tenders]
        self.notes = list(settings.quick_cash)[:5]
        self._other_index = -1

    def compose(self) -> ComposeResult:
        with Vertical(id="pay-box"):
            yield Label("Payment", id="pay-title")
            yield Static(id="pay-figures")
            yield Label("", id="pay-tender")
            yield Input(placeholder="amount · Enter on empty = exactly what is due", id="pay-amount",
                        restrict=r"[0-9.,]*")
            yield Input(placeholder="reference from the card terminal (optional)", id="pay-reference", max_length=64)
            yield Static("", id="pay-notes")
            yield Static("", id="pay-message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        names = " · ".join(f"F{5 + i} {fmt_qty(n)}" for i, n in enumerate(self.notes))
        self.query_one("#pay-notes", Static).update(Text(f"Quick cash: {names}" if names else ""))
        self._paint()
        self.query_one("#pay-amount", Input).focus()

    # -- display ---------------------------------------------------------------------------------
    def tender_label(self) -> str:
        for tid, name in self.others:
            if tid == self.tender:
                return name
        return tender_name(self.tender)

    def _paint(self) -> None:
        s = self.state
        m = lambda v: fmt_money(v, s.currency)  # noqa: E731
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1)
        grid.add_column(justify="right")
        grid.add_row("Total", m(s.total))
        for t in s.tenders:
            ref = f" {printable(t.reference)}" if t.reference else ""
            grid.add_row(Text(f"  {self._tender_display(t.tender)}{ref}"), m(t.tendered))
        if s.rounding:
            grid.add_row("  Rounding", m(s.rounding))
        if s.complete:
            grid.add_row(Text("CHANGE", style="bold"), Text(m(s.change), style="bold"))
        else:
            grid.add_row(Text("Due", style="bold"), Text(m(s.remaining), style="bold"))
            if self.tender == CASH and s.cash_due() != s.remaining:
                grid.add_row("Due in cash (rounded)", m(s.cash_due()))
        self.query_one("#pay-figures", Static).update(grid)
        self.query_one("#pay-tender", Label).update(Text(f"Tender: {self.tender_label()}", style="bold"))
        self.query_one("#pay-reference", Input).display = self.tender != CASH

    def _tender_display(self, tender: str) -> str:
        return dict(self.others).get(tender, tender_name(tender))

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#pay-message", Static)
        msg.update(Text(printable(text)))
        msg.set_class(error, "-error")
        if error:
            self.app.bell()

    @property
    def message(self) -> str:
        return str(self.query_one("#pay-message", Static).render())

    def watch_tender(self) -> None:
        self._paint()
        self.query_one("#pay-amount", Input).focus()

    # -- actions ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "note":
            return parameters[0] < len(self.notes)
        if action == "other":
            return bool(self.others)
        if action == "untender":
            return bool(self.state.tenders) or None
        return True

    def action_tender(self, tender: str) -> None:
        self.tender = tender
        self._other_index = -1

    def action_other(self) -> None:
        if not self.others:
            self._say("no other tenders are set up ([payment] other_tenders)", error=True)
            return
        self._other_index = (self._other_index + 1) % len(self.others)
        self.tender = self.others[self._other_index][0]

    def action_note(self, index: int) -> None:
        if index < len(self.notes):
            self.tender = CASH
            self._take(self.notes[index])

    def action_untender(self) -> None:
        removed = self.state.remove_last()
        if removed:
            self._say(f"removed {self._tender_display(removed.tender)} {fmt_money(removed.tendered, self.state.currency)}")
        self._paint()
        self.refresh_bindings()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = self.query_one("#pay-amount", Input).value.strip()
        if not text:
            self._take(None)
            return
        try:
            amount = to_decimal(text)
        except MoneyError:
            self._say(f"{text!r} is not an amount", error=True)
            self._select_amount()
            return
        self._take(amount)

    def _select_amount(self) -> None:
        """A refused amount stays for a correction, selected: the next amount typed replaces it."""
        self.query_one("#pay-amount", Input).select_all()

    def _take(self, amount: Decimal | None) -> None:
        reference = self.query_one("#pay-reference", Input).value.strip() if self.tender != CASH else ""
        try:
            entry = self.state.apply(self.tender, amount, reference=reference)
        except TenderError as exc:
            self._say(str(exc), error=True)
            self._select_amount()
            return
        self.query_one("#pay-amount", Input).value = ""
        self.query_one("#pay-reference", Input).value = ""
        self._paint()
        self.refresh_bindings()
        if self.state.complete:
            self.dismiss(self.state)
            return
        self._say(f"{self._tender_display(entry.tender)} {fmt_money(entry.tendered, self.state.currency)} taken; "
                  f"{fmt_money(self.state.remaining, self.state.currency)} still due")

    def action_cancel(self) -> None:
        self.dismiss(None)



