"""The open cart as a plain value: what the cashier has rung up, before anything is committed.

It is saved as JSON on every change (drafts.py), so it holds only plain data and Decimals as strings.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from data.money import ZERO

MAX_QUANTITY = Decimal("9999")


class CartError(ValueError):
    """A change the cart refuses, with the message the cashier sees."""


_PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]*)?$|^-?\.[0-9]+$")
MAX_DISCOUNT_AMOUNT = Decimal("99999999")


def parse_quantity(text: str) -> Decimal:
    """Quantities typed by a cashier: positive, at most 3 decimals, at most 9,999."""
    raw = text.strip()
    if not _PLAIN_NUMBER.match(raw):
        if re.match(r"^-?[0-9.]+[eE]", raw):
            raise CartError(f"quantity {raw!r} is not a plain number")
        raise CartError(f"quantity {raw!r} is not a number")
    qty = Decimal(raw)
    if qty <= 0:
        raise CartError("quantity must be more than zero")
    if qty > MAX_QUANTITY:
        raise CartError(f"quantity {raw} is more than {MAX_QUANTITY}")
    if qty != qty.quantize(Decimal("0.001")):
        raise CartError("quantity has more than 3 decimal places")
    return qty.quantize(Decimal("0.001")).normalize() if qty != qty.to_integral_value() else qty.quantize(Decimal(1))


@dataclass(frozen=True)
class Discount:
    """A discount as the cashier gave it: an amount, or a percentage of what it applies to."""

    amount: Decimal = ZERO
    percent: Decimal | None = None

    @property
    def is_zero(self) -> bool:
        return self.percent in (None, ZERO) and self.amount == ZERO

    def label(self) -> str:
        if self.percent is not None:
            return f"{self.percent.normalize():f}%"
        return f"{self.amount}"


def parse_discount(text: str) -> Discount:
    """'10%' is a percentage, '25' or '25.50' an amount; both must be positive."""
    raw = text.strip().replace(",", "")
    is_percent = raw.endswith("%")
    number = raw[:-1].strip() if is_percent else raw
    if not _PLAIN_NUMBER.match(number):
        raise CartError(f"discount {raw!r} is not an amount or a percentage")
    value = Decimal(number)
    if value > MAX_DISCOUNT_AMOUNT:
        raise CartError(f"discount {raw} is too large")
    if value < 0:
        raise CartError("a discount cannot be negative")
    if is_percent:
        if value > 100:
            raise CartError("a discount cannot be more than 100%")
        return Discount(percent=value)
    if value != value.quantize(Decimal("0.01")):
        raise CartError("a discount amount has at most 2 decimal places")
    return Discount(amount=value)


@dataclass(frozen=True)
class CartLine:
    line_id: str
    product_id: int
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    original_price: Decimal
    vat_rate: Decimal
    barcode: str | None = None
    discount: Discount = field(default_factory=Discount)


@dataclass
class Cart:
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    lines: list[CartLine] = field(default_factory=list)
    member_id: int | None = None
    member_phone: str | None = None
    member_name: str = ""
    basket_discount: Discount = field(default_factory=Discount)
    order_number: str | None = None  # a recalled customer order being picked up or changed

    @property
    def is_empty(self) -> bool:
        return not self.lines

    def item_count(self) -> Decimal:
        return sum((line.quantity for line in self.lines), ZERO)

    def line(self, line_id: str) -> CartLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise CartError("that line is no longer in the cart")

    def add(self, *, product_id: int, sku: str, name: str, price: Decimal, vat_rate: Decimal,
            quantity: Decimal, barcode: str | None = None) -> CartLine:
        """Scanning the same item again adds to its line unless that line was changed by hand."""
        for i, existing in enumerate(self.lines):
            if (existing.product_id == product_id and existing.unit_price == existing.original_price == price
                    and existing.discount.is_zero):
                new_qty = existing.quantity + quantity
                if new_qty > MAX_QUANTITY:
                    raise CartError(f"quantity would be more than {MAX_QUANTITY}")
                self.lines[i] = replace(existing, quantity=new_qty)
                return self.lines[i]
        line = CartLine(line_id=uuid.uuid4().hex[:12], product_id=product_id, sku=sku, name=name,
                        quantity=quantity, unit_price=price, original_price=price, vat_rate=vat_rate,
                        barcode=barcode)
        self.lines.append(line)
        return line

    def _replace(self, line_id: str, **changes: Any) -> CartLine:
        for i, existing in enumerate(self.lines):
            if existing.line_id == line_id:
                self.lines[i] = replace(existing, **changes)
                return self.lines[i]
        raise CartError("that line is no longer in the cart")

    def set_quantity(self, line_id: str, quantity: Decimal) -> CartLine:
        return self._replace(line_id, quantity=quantity)

    def set_price(self, line_id: str, price: Decimal) -> CartLine:
        if price < 0:
            raise CartError("a price cannot be negative")
        return self._replace(line_id, unit_price=price)

    def set_line_discount(self, line_id: str, discount: Discount) -> CartLine:
        return self._replace(line_id, discount=discount)

    def void(self, line_id: str) -> CartLine:
        line = self.line(line_id)
        self.lines.remove(line)
        return line

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain JSON-ready data; written out by hand because it runs on every scan."""
        return {
            "uid": self.uid, "member_id": self.member_id, "member_phone": self.member_phone,
            "member_name": self.member_name, "basket_discount": _discount_dict(self.basket_discount),
            "order_number": self.order_number,
            "lines": [{"line_id": l.line_id, "product_id": l.product_id, "sku": l.sku, "name": l.name,
                       "quantity": str(l.quantity), "unit_price": str(l.unit_price),
                       "original_price": str(l.original_price), "vat_rate": str(l.vat_rate),
                       "barcode": l.barcode, "discount": _discount_dict(l.discount)} for l in self.lines],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Cart:
        lines = [
            CartLine(
                line_id=d["line_id"], product_id=int(d["product_id"]), sku=d["sku"], name=d["name"],
                quantity=Decimal(d["quantity"]), unit_price=Decimal(d["unit_price"]),
                original_price=Decimal(d["original_price"]), vat_rate=Decimal(d["vat_rate"]),
                barcode=d.get("barcode"), discount=_discount(d.get("discount")),
            )
            for d in data.get("lines", [])
        ]
        return cls(uid=data["uid"], lines=lines, member_id=data.get("member_id"),
                   member_phone=data.get("member_phone"), member_name=data.get("member_name", ""),
                   basket_discount=_discount(data.get("basket_discount")), order_number=data.get("order_number"))


def _discount(d: dict | None) -> Discount:
    if not d:
        return Discount()
    pct = d.get("percent")
    return Discount(amount=Decimal(d.get("amount", "0")), percent=None if pct is None else Decimal(pct))


def _discount_dict(d: Discount) -> dict:
    return {"amount": str(d.amount), "percent": None if d.percent is None else str(d.percent)}
