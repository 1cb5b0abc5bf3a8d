"""Money is Decimal end to end; these helpers keep rounding in one place."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0")
HUNDRED = Decimal("100")

# ISO 4217 minor units for the currencies that differ from the usual two.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


class MoneyError(ValueError):
    """An amount typed or imported that is not a valid amount of money."""


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
"""A comma in an amount only groups thousands ("1,234.50"): "35,50" is refused, not read as 3550."""
COMMA_HINT = " (commas group thousands only: 1,234.50)"


def to_decimal(value: object) -> Decimal:
    """Parse user or file input; floats are refused so no binary fraction sneaks in."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f"not an exact amount: {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if "," in text:
            if not THOUSANDS.fullmatch(text):
                raise MoneyError(f"not a number: {value!r}{COMMA_HINT}")
            text = text.replace(",", "")
        if not text:
            raise MoneyError("empty amount")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"not a number: {value!r}") from None
    else:
        raise MoneyError(f"not an amount: {value!r}")
    if not result.is_finite():
        raise MoneyError(f"not a finite number: {value!r}")
    return result


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def round_to_unit(amount: Decimal, unit: Decimal) -> Decimal:
    """Round to the smallest cash unit (e.g. 0.25 THB), half up, keeping the unit's exponent."""
    if unit <= 0:
        return amount
    steps = (amount / unit).to_integral_value(rounding=ROUND_HALF_UP)
    return (steps * unit).quantize(unit if unit.as_tuple().exponent < 0 else Decimal(1))


def fmt_money(amount: Decimal, currency: str) -> str:
    """Plain grouping for screens and receipts; locale-specific symbols stay off the 42-column paper."""
    places = minor_units(currency)
    return f"{round_money(amount, currency):,.{places}f}"


def fmt_qty(quantity: Decimal) -> str:
    """Whole quantities without decimals, weighed ones as typed."""
    if quantity == quantity.to_integral_value():
        return str(quantity.quantize(Decimal(1)))
    return format(quantity.normalize(), "f")
