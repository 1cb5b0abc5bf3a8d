"""Tendering: what is still due, cash rounding, change and split tenders. Pure, so the dialog and
the tests share one set of rules.

Cash is rounded to the store's smallest coin when it settles what is due; card and other tenders pay
exact amounts and can never exceed what is due (no cash back on a card here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from data.money import ZERO, round_money
from data.pricing import cash_due

CASH = "cash"
CARD = "card"
MAX_TENDER_FACTOR = Decimal("1000")


class TenderError(ValueError):
    pass


@dataclass(frozen=True)
class Tender:
    tender: str
    amount: Decimal  # counts against the sale
    tendered: Decimal  # handed over
    change: Decimal = ZERO
    reference: str = ""


@dataclass
class PaymentState:
    total: Decimal
    currency: str
    cash_unit: Decimal
    tenders: list[Tender] = field(default_factory=list)
    rounding: Decimal = ZERO

    @property
    def paid(self) -> Decimal:
        return sum((t.amount for t in self.tenders), round_money(ZERO, self.currency))

    @property
    def remaining(self) -> Decimal:
        return self.total + self.rounding - self.paid

    @property
    def change(self) -> Decimal:
        return sum((t.change for t in self.tenders), round_money(ZERO, self.currency))

    @property
    def complete(self) -> bool:
        return self.remaining == 0

    def cash_due(self) -> Decimal:
        return cash_due(self.remaining, self.cash_unit, self.currency)

    def due_for(self, tender: str) -> Decimal:
        return self.cash_due() if tender == CASH else self.remaining

    def apply(self, tender: str, amount: Decimal | None = None, reference: str = "") -> Tender:
        """Tender `amount` (None = exactly what is due for this tender)."""
        if self.complete:
            raise TenderError("nothing is due")
        due = self.due_for(tender)
        if amount is None:
            amount = due
        if amount < 0:
            raise TenderError("an amount cannot be negative")
        amount = round_money(amount, self.currency)
        if amount > max(due, self.remaining) * MAX_TENDER_FACTOR and amount > 0:
            raise TenderError(f"{amount} is far more than the {due} due; check the amount")
        if tender == CASH:
            if self.remaining <= amount < due:
                # Enough in exact money, short in coins the till can give change in.
                raise TenderError(f"{due} is due in cash (rounded to {self.cash_unit})")
            if amount >= due:
                self.rounding += due - self.remaining
                entry = Tender(CASH, amount=due, tendered=amount, change=amount - due, reference=reference)
            else:
                if amount == 0:
                    raise TenderError("enter the cash amount handed over")
                entry = Tender(CASH, amount=amount, tendered=amount, reference=reference)
        else:
            if amount == 0:
                raise TenderError("enter an amount")
            if amount > self.remaining:
                raise TenderError(f"{tender} cannot pay more than the {self.remaining} due")
            entry = Tender(tender, amount=amount, tendered=amount, reference=reference)
        self.tenders.append(entry)
        return entry

    def remove_last(self) -> Tender | None:
        """Undo the last tender (a card that was declined after all)."""
        if not self.tenders:
            return None
        last = self.tenders.pop()
        # Rounding belongs to the cash tender that settled the sale.
        if self.rounding and last.tender == CASH:
            self.rounding = ZERO
        return last
