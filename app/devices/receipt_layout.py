"""Receipt layout: a pure function from a receipt record to lines at the printer's width.

Widths are terminal/printer cells, not characters: Thai tone and vowel marks take no cell of their
own, CJK takes two. Only printer.py turns these lines into ESC/POS bytes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from rich.cells import cell_len, chop_cells

from data.money import ZERO, fmt_money, fmt_qty, round_money
from data.documents import PickingListDoc, ReportDoc
from data.sales import ReceiptDoc
from data.text import printable

TENDER_NAMES = {"cash": "Cash", "card": "Card", "deposit": "Deposit paid", "online": "Paid online"}


def fit(text: str, width: int) -> str:
    """Cut `text` to at most `width` cells, never inside a character cluster (emoji, Thai marks)."""
    if cell_len(text) <= width:
        return text
    return chop_cells(text, width)[0] if width > 0 else ""


def wrap(text: str, width: int) -> list[str]:
    """Word-wrap by cells; words longer than the line are cut."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if cell_len(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while cell_len(word) > width:
            part = fit(word, width)
            lines.append(part)
            word = word[len(part):]
        current = word
    if current or not lines:
        lines.append(current)
    return lines


def left_right(left: str, right: str, width: int) -> str:
    right = fit(right, width)
    room = width - cell_len(right) - 1
    left = fit(left, max(room, 0))
    return left + " " * (width - cell_len(left) - cell_len(right)) + right


def center(text: str, width: int) -> str:
    text = fit(text, width)
    pad = (width - cell_len(text)) // 2
    return " " * pad + text


def tender_name(tender: str) -> str:
    return TENDER_NAMES.get(tender, tender)


def layout_receipt(doc: ReceiptDoc, width: int = 42, *, copy: bool = False) -> list[str]:
    m = lambda v: fmt_money(v, doc.currency)  # noqa: E731
    rule = "-" * width
    out: list[str] = []
    if copy:
        out += [center("*** COPY ***", width), ""]
    out.append(center(printable(doc.store_name), width))
    out.append(center(f"{doc.store_id} / {doc.terminal}", width))
    if doc.kind == "refund":
        out += ["", center("*** REFUND ***", width)]
        if doc.refund_of:
            out.append(center(f"for receipt {doc.refund_of}", width))
    elif doc.kind == "deposit":
        out += ["", center("*** DEPOSIT ***", width)]
    if doc.order_number:
        out.append(center(f"customer order {doc.order_number}", width))
    local = doc.created_at.astimezone(ZoneInfo(doc.timezone))
    out += [rule, left_right("Receipt", doc.receipt_number, width),
            left_right("Date", local.strftime("%Y-%m-%d %H:%M"), width),
            left_right("Cashier", printable(doc.operator), width)]
    if doc.member_phone:
        out.append(left_right("Member", doc.member_phone, width))
    out.append(rule)
    for line in doc.lines:
        out += wrap(printable(line.name), width)
        qty = f"  {fmt_qty(line.quantity)} x {m(line.unit_price)}"
        if line.unit_price != line.original_price:
            qty += f" (was {m(line.original_price)})"
        vat_mark = "" if line.vat_rate else " N"
        out.append(left_right(qty, m(line.total + line.discount) + vat_mark, width))
        if line.discount:
            out.append(left_right("  Discount", m(-line.discount), width))
    out.append(rule)
    out.append(left_right("Subtotal", m(doc.subtotal), width))
    if doc.discount_total:
        out.append(left_right("Discounts", m(-doc.discount_total), width))
    if not doc.prices_include_vat:
        out.append(left_right("VAT", m(doc.vat_total), width))
    if doc.rounding:
        out.append(left_right("Rounding", m(doc.rounding), width))
    label = {"refund": "REFUND TOTAL", "deposit": "DEPOSIT"}.get(doc.kind, "TOTAL")
    out.append(left_right(label, f"{doc.currency} {m(doc.total + doc.rounding)}", width))
    out.append(rule)
    for p in doc.payments:
        name = tender_name(p.tender) + (f" {printable(p.reference)}" if p.reference else "")
        out.append(left_right(name, m(p.tendered), width))
    if doc.change_total:
        out.append(left_right("Change", m(doc.change_total), width))
    if doc.vat_by_rate:
        out.append(rule)
        basis = "incl." if doc.prices_include_vat else "excl."
        for rate, base, vat in doc.vat_by_rate:
            label = f"VAT {fmt_qty(Decimal(rate))}% {basis}" if rate else "N = no VAT"
            out.append(left_right(label, f"{m(base)}  {m(vat)}", width))
    out += ["", center("Thank you", width)]
    return out


CHARACTER_SETS = [
    ("ASCII", "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789 !#$%&()*+,-./:;<=>?@[]_{}"),
    ("Thai", "กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ ร้านกาแฟ ๑๒๓"),
    ("Cyrillic", "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ абвгд ЄєІіЇї"),
    ("Finnish", "ÅÄÖ åäö Hyvää päivää"),
    ("Euro", "€ 3,50"),
    ("Chinese", "咖啡 茶 谢谢"),
]


def layout_test_page(store_name: str, printer: str, width: int = 42) -> list[str]:
    """`till devices check`: what this printer can print, one character set per block."""
    out = [center("TEST PAGE", width), center(printable(store_name), width), center(printable(printer), width),
           "-" * width, left_right("Width", f"{width} characters", width), "1234567890" * (width // 10), ""]
    for name, sample in CHARACTER_SETS:
        out.append(f"{name}:")
        out += wrap(sample, width)
    out += ["-" * width, center("end of test page", width)]
    return out


def layout_picking_list(doc: PickingListDoc, width: int = 42) -> list[str]:
    """Customer-order picking list: what to take from the shelf, with boxes to tick."""
    zone = ZoneInfo(doc.timezone)
    out = [center("PICKING LIST", width), center(printable(doc.store_name), width), "-" * width,
           left_right("Order", printable(doc.order_number), width),
           left_right("Created", doc.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), width)]
    if doc.expected:
        out.append(left_right("Expected", _when(doc.expected, zone), width))
    out += [left_right("Customer", printable(doc.customer), width), left_right("Phone", printable(doc.phone), width)]
    out += wrap("Delivery: " + printable(doc.delivery), width)
    out.append("-" * width)
    for line in doc.lines:
        out += wrap(f"[ ] {fmt_qty(line.quantity)} x {printable(line.name)}", width)
        detail = "    " + printable(line.sku) + (f"  {printable(line.barcode)}" if line.barcode else "")
        out.append(left_right(detail, printable(line.location), width))
    if doc.comments:
        out += ["-" * width] + wrap("Note: " + printable(doc.comments), width)
    out += ["-" * width, left_right("Picked by", "_" * (width // 2), width)]
    return out


def _when(value, zone) -> str:
    """An expected date is a day (a customer order's) or a moment."""
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def layout_order_confirmation(order, store_name: str, timezone: str, width: int = 42, *,
                              balance: Decimal | None = None) -> list[str]:
    """What the customer takes home when ordering: the order number to come back with, the lines, what
    was paid and what is left. `order` is a data.orders.OrderView."""
    m = lambda v: fmt_money(v, order.currency)  # noqa: E731
    zone = ZoneInfo(timezone)
    d = order.details
    rule = "-" * width
    out = [center(printable(store_name), width), center("ORDER CONFIRMATION", width), rule,
           left_right("Order", order.number, width),
           left_right("Date", order.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), width)]
    if d.customer_name:
        out.append(left_right("Customer", printable(d.customer_name), width))
    if d.customer_phone:
        out.append(left_right("Phone", printable(d.customer_phone), width))
    how = {"pickup": f"pick up at {order.fulfil_store}", "deliver": "delivery", "ship": "shipping"}[d.delivery_method]
    out += wrap("Delivery: " + how + (f", {printable(d.delivery_address)}" if d.delivery_address else ""), width)
    if d.expected_date:
        out.append(left_right("Expected", d.expected_date, width))
    out.append(rule)
    gross = ZERO
    for line in order.lines:
        if line.status == "voided":
            continue
        amount = round_money(line.quantity * line.unit_price, order.currency)
        gross += amount
        out += wrap(printable(line.name), width)
        out.append(left_right(f"  {fmt_qty(line.quantity)} x {m(line.unit_price)}", m(amount), width))
    out.append(rule)
    if gross != order.total:
        out.append(left_right("Discounts", m(order.total - gross), width))
    out.append(left_right("TOTAL", f"{order.currency} {m(order.total)}", width))
    if order.paid:
        out.append(left_right("Paid", m(order.paid), width))
    out.append(left_right("To pay on pickup", m(order.balance if balance is None else balance), width))
    if d.comments:
        out += [rule] + wrap("Note: " + printable(d.comments), width)
    out += ["", center("Please bring this order number", width)]
    return out


def layout_report(doc: ReportDoc, width: int = 42) -> list[str]:
    """X or Z report at the printer's width; the same figures the screen and the JSON show."""
    m = lambda v: fmt_money(v, doc.currency)  # noqa: E731
    zone = ZoneInfo(doc.timezone)
    title = f"Z REPORT #{doc.number}" if doc.kind == "Z" else "X REPORT (running)"
    out = [center(title, width), center(printable(doc.store_name), width),
           center(f"{doc.store_id} / {doc.terminal}", width), "-" * width,
           left_right("Business day", doc.business_date, width),
           left_right("From", doc.opened_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), width),
           left_right("To", doc.closed_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), width), "-" * width,
           left_right(f"Sales ({doc.sales_count})", m(doc.sales_total), width),
           left_right(f"Refunds ({doc.refunds_count})", m(-doc.refunds_total), width),
           left_right("Discounts given", m(doc.discounts_total), width),
           left_right("Deposits", m(doc.deposits_total), width),
           left_right("Voided lines", str(doc.voids_count), width), "-" * width, "Tenders"]
    out += [left_right("  " + tender_name(t), m(v), width) for t, v in doc.tenders]
    for label, amount in doc.cash_movements:
        out.append(left_right("  " + printable(label), m(amount), width))
    out.append(left_right("Expected cash", m(doc.expected_cash), width))
    if doc.counted_cash is not None:
        out.append(left_right("Counted cash", m(doc.counted_cash), width))
        out.append(left_right("Variance", m(doc.variance if doc.variance is not None else Decimal(0)), width))
    out += ["-" * width, "VAT"]
    out += [left_right(f"  {fmt_qty(Decimal(rate))}%", f"{m(base)}  {m(vat)}", width) for rate, base, vat in doc.vat]
    out += ["-" * width, left_right("Receipts", f"{doc.first_receipt or '-'} ..", width),
            left_right("", doc.last_receipt or "-", width)]
    if doc.receipt_gaps:
        out += wrap("GAPS IN RECEIPT NUMBERS: " + ", ".join(doc.receipt_gaps), width)
    else:
        out.append(left_right("Receipt number gaps", "none", width))
    return out
