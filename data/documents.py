"""Printable documents other than receipts, as plain records: the layouts in app/devices turn them
into lines. Customer orders fill PickingListDoc; shifts and the day close fill ReportDoc."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class PickingLine:
    sku: str
    name: str
    quantity: Decimal
    barcode: str | None = None
    location: str = ""


@dataclass(frozen=True)
class PickingListDoc:
    order_number: str
    store_name: str
    customer: str
    phone: str
    delivery: str
    expected: datetime | date | None
    created_at: datetime
    timezone: str
    lines: tuple[PickingLine, ...]
    comments: str = ""


@dataclass(frozen=True)
class ReportDoc:
    """An X (running) or Z (closing) report of one terminal."""

    kind: str  # "X" | "Z"
    number: int | None  # Z number, gapless per terminal; None for X
    store_id: str
    store_name: str
    terminal: str
    business_date: str
    opened_at: datetime
    closed_at: datetime
    timezone: str
    currency: str
    sales_count: int
    sales_total: Decimal
    refunds_count: int
    refunds_total: Decimal
    voids_count: int
    discounts_total: Decimal
    deposits_total: Decimal
    tenders: tuple[tuple[str, Decimal], ...]
    vat: tuple[tuple[Decimal, Decimal, Decimal], ...]  # (rate, base, vat)
    expected_cash: Decimal
    first_receipt: str | None
    last_receipt: str | None
    receipt_gaps: tuple[str, ...] = ()
    counted_cash: Decimal | None = None
    variance: Decimal | None = None
    cash_movements: tuple[tuple[str, Decimal], ...] = field(default=())
    rounding_total: Decimal = Decimal(0)  # cash rounding on sales minus refunds
