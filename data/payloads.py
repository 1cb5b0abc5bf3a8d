"""Export payloads (DESIGN.md "Webhook body"): money as decimal strings, times ISO 8601 UTC."""

from __future__ import annotations

from datetime import datetime

from data.cart import Cart
from data.outbox import envelope, iso, money
from data.payments import PaymentState
from data.places import Place
from data.pricing import CartTotals


def sale_completed(receipt: str, place: Place, operator_code: str, cart: Cart, totals: CartTotals,
                   payment: PaymentState, at: datetime) -> dict:
    return envelope("sale.completed", at, {
        "receipt_number": receipt, "store": place.store_id, "terminal": place.terminal_code,
        "operator": operator_code, "member_phone": cart.member_phone, "paid_at": iso(at), "currency": place.currency,
        "lines": [{"sku": line.sku, "barcode": line.barcode, "name": line.name, "quantity": f"{line.quantity.normalize():f}",
                   "unit_price": money(line.unit_price), "discount": money(lt.discount),
                   "vat_rate": f"{line.vat_rate.normalize():f}", "total": money(lt.total)}
                  for line, lt in zip(cart.lines, totals.lines)],
        "payments": [{"tender": t.tender, "amount": money(t.amount)} for t in payment.tenders],
        "totals": {"subtotal": money(totals.subtotal), "discount": money(totals.discount_total),
                   "vat": money(totals.vat), "total": money(totals.total), "rounding": money(payment.rounding)},
    })


def sale_refunded(number: str, original: str, place: Place, operator_code: str, approver_code: str,
                  lines: list[dict], payment: PaymentState, total, vat, at: datetime, reason: str) -> dict:
    return envelope("sale.refunded", at, {
        "receipt_number": number, "refund_of": original, "store": place.store_id, "terminal": place.terminal_code,
        "operator": operator_code, "approved_by": approver_code, "refunded_at": iso(at), "currency": place.currency,
        "reason": reason, "lines": lines,
        "payments": [{"tender": t.tender, "amount": money(t.amount)} for t in payment.tenders],
        "totals": {"total": money(total), "vat": money(vat), "rounding": money(payment.rounding)},
    })
