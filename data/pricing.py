"""Totals, discounts and VAT for a cart. Pure functions: the sale screen, the payment dialog, the
committed sale and the receipt all use these numbers, so they can never disagree.

Rules: each line's gross is qty × unit price rounded to the currency; a line discount is capped at the
gross; a basket discount is capped at what is left and spread over the lines in proportion to their
net, to the last minor unit (largest remainder), never taking a line below zero. VAT is per line:
inclusive prices hold net × r/(100+r); exclusive prices add net × r/100.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from data.cart import Cart, Discount
from data.money import HUNDRED, ZERO, quantum, round_money, round_to_unit


@dataclass(frozen=True)
class LineTotals:
    line_id: str
    gross: Decimal
    line_discount: Decimal
    basket_discount: Decimal
    total: Decimal  # what the line costs after discounts, in the store's price basis
    vat: Decimal

    @property
    def discount(self) -> Decimal:
        return self.line_discount + self.basket_discount


@dataclass(frozen=True)
class CartTotals:
    lines: tuple[LineTotals, ...]
    subtotal: Decimal  # Σ gross
    line_discounts: Decimal
    basket_discount: Decimal
    vat: Decimal
    total: Decimal  # what the customer pays (before cash rounding)
    prices_include_vat: bool

    @property
    def discount_total(self) -> Decimal:
        return self.line_discounts + self.basket_discount

    def for_line(self, line_id: str) -> LineTotals:
        for lt in self.lines:
            if lt.line_id == line_id:
                return lt
        raise KeyError(line_id)


def discount_amount(discount: Discount, base: Decimal, currency: str) -> Decimal:
    """The amount a discount takes off `base`, never more than `base`, never negative."""
    if discount.percent is not None:
        amount = round_money(base * discount.percent / HUNDRED, currency)
    else:
        amount = round_money(discount.amount, currency)  # 10.50 typed in a yen store is 11 yen
    return max(ZERO, min(amount, base))


def discount_percent_of(amount: Decimal, base: Decimal) -> Decimal:
    """How big a discount is relative to its base, for checking the operator's limit."""
    if base <= 0:
        return ZERO if amount <= 0 else HUNDRED
    return amount * HUNDRED / base


def allocate(amount: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split `amount` over `weights` proportionally, exactly to the minor unit (largest remainder).
    Each share is at most its weight, so no line goes below zero."""
    q = quantum(currency)
    total_weight = sum(weights, ZERO)
    if amount <= 0 or total_weight <= 0:
        return [ZERO for _ in weights]
    amount = min(amount, total_weight)
    raw = [amount * w / total_weight for w in weights]
    shares = [r.quantize(q, rounding=ROUND_DOWN) for r in raw]
    left = int(((amount - sum(shares, ZERO)) / q).to_integral_value())
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - shares[i]), i))
    for i in order:
        if left <= 0:
            break
        if shares[i] + q <= weights[i]:
            shares[i] += q
            left -= 1
    return shares


def line_vat(net: Decimal, rate: Decimal, prices_include_vat: bool, currency: str) -> Decimal:
    if rate == 0:
        return round_money(ZERO, currency)
    if prices_include_vat:
        return round_money(net * rate / (HUNDRED + rate), currency)
    return round_money(net * rate / HUNDRED, currency)


def price_cart(cart: Cart, *, currency: str, prices_include_vat: bool) -> CartTotals:
    grosses = [round_money(line.quantity * line.unit_price, currency) for line in cart.lines]
    line_discounts = [discount_amount(line.discount, gross, currency) for line, gross in zip(cart.lines, grosses)]
    nets = [g - d for g, d in zip(grosses, line_discounts)]
    basket_amount = discount_amount(cart.basket_discount, sum(nets, ZERO), currency)
    basket_shares = allocate(basket_amount, nets, currency)
    results = []
    for line, gross, ld, net, share in zip(cart.lines, grosses, line_discounts, nets, basket_shares):
        total = net - share
        results.append(LineTotals(line.line_id, gross, ld, share, total,
                                  line_vat(total, line.vat_rate, prices_include_vat, currency)))
    zero = round_money(ZERO, currency)
    subtotal = sum(grosses, zero)
    vat = sum((r.vat for r in results), zero)
    lines_total = sum((r.total for r in results), zero)
    return CartTotals(
        lines=tuple(results),
        subtotal=subtotal,
        line_discounts=sum(line_discounts, zero),
        basket_discount=sum(basket_shares, zero),
        vat=vat,
        total=lines_total if prices_include_vat else lines_total + vat,
        prices_include_vat=prices_include_vat,
    )


def cash_due(amount: Decimal, cash_unit: Decimal, currency: str) -> Decimal:
    """What a customer pays in cash for `amount` when the smallest coin is `cash_unit`."""
    return round_money(round_to_unit(amount, cash_unit), currency)
