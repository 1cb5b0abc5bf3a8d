"""Customer orders from an e-commerce site: `till import orders FILE.json`.

The file is `{"orders": [...]}` or a bare list; each order is

    {"external_id": "WEB-1001",                      required, unique per site: a second import is a no-op
     "customer": {"name": "Anong", "phone": "0812345670"},      a name or a phone (stored E.164)
     "lines": [{"sku": "CF-001", "quantity": 2},                 sku or barcode; quantity > 0
               {"barcode": "8850000000072", "quantity": 1, "unit_price": "50.00"}],
                                                               unit_price defaults to the catalogue's
     "delivery": {"method": "pickup", "store": "BKK01", "address": ""},   pickup | deliver | ship
     "expected_date": "2026-11-30", "comments": "gift wrap",
     "payments": [{"reference": "PAY-778", "amount": "95.00"}],  already taken online
     "source": "ecommerce"}                                    till | phone | ecommerce (default)

Amounts are exact: JSON numbers are read as Decimal (never float), strings such as "95.00" too.
Every order is checked on its own; a bad one is rejected with its external id and the reason, the
others import. Headless: no terminal UI imports here.
"""

from __future__ import annotations

import json
from datetime import date
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from data import orders
from data.catalog import find_by_code
from data.db import read_session
from data.models import Member
from data.money import COMMA_HINT, MoneyError, minor_units, to_decimal
from data.orders import NewLine, OrderDetails, OrderError
from data.phones import PhoneError, normalise_phone
from data.text import printable

Progress = Callable[[int, int], None]
MAX_QUANTITY = Decimal("100000")
MAX_AMOUNT = Decimal(100_000_000)  # a unit price or a payment; as for products (data.product_import)


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (not JSON, not a list of orders)."""


class Rejected(ValueError):
    """One order is not importable; the message says why."""


@dataclass(frozen=True)
class PreparedOrder:
    external_id: str
    lines: tuple[NewLine, ...]
    details: OrderDetails
    payments: tuple[tuple[str, Decimal], ...]


@dataclass
class ImportResult:
    imported: list[tuple[str, str]] = field(default_factory=list)  # (external id, order number)
    existing: list[tuple[str, str]] = field(default_factory=list)  # already imported before
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (external id or "#n", reason)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        return (f"imported {len(self.imported)}, already imported {len(self.existing)}, "
                f"rejected {len(self.rejected)}")


def parse(text: str | bytes) -> list[Any]:
    """The orders of a file, still raw; ImportFormatError names the first problem with the file."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")  # a byte-order mark is fine
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ImportFormatError("not valid JSON: nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if isinstance(data, dict):
        if "orders" not in data:
            raise ImportFormatError('expected {"orders": [...]} or a list of orders')
        data = data["orders"]
    if not isinstance(data, list):
        raise ImportFormatError('"orders" must be a list of orders')
    return data


def _text(value: Any, what: str, *, max_len: int = 500) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise Rejected(f"{what} must be text")
    out = str(value).strip()
    if len(out) > max_len:
        raise Rejected(f"{what} is longer than {max_len} characters")
    return out


def _obj(value: Any, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected(f"{what} must be an object")
    return value


def _hint(exc: MoneyError) -> str:
    return COMMA_HINT if str(exc).endswith(COMMA_HINT) else ""


def _quantity(value: Any, where: str) -> Decimal:
    if value is None:
        raise Rejected(f"{where}: quantity is missing")
    try:
        qty = to_decimal(value)
    except MoneyError as exc:
        raise Rejected(f"{where}: quantity {value!r} is not a number{_hint(exc)}") from None
    if qty <= 0:
        raise Rejected(f"{where}: quantity {qty} must be more than 0")
    if qty > MAX_QUANTITY:
        raise Rejected(f"{where}: quantity {qty} is more than {MAX_QUANTITY}")
    if qty.as_tuple().exponent < -3:
        raise Rejected(f"{where}: quantity {qty} has more than 3 decimals")
    return qty


def _money(value: Any, where: str, currency: str, *, positive: bool) -> Decimal:
    try:
        amount = to_decimal(value)
    except MoneyError as exc:
        raise Rejected(f"{where} {value!r} is not an amount{_hint(exc)}") from None
    if amount < 0 or (positive and amount == 0):
        raise Rejected(f"{where} {amount} must be more than 0" if positive else f"{where} {amount} is negative")
    if amount > MAX_AMOUNT:
        raise Rejected(f"{where} {amount} is more than {MAX_AMOUNT:,}")
    if amount.as_tuple().exponent < -minor_units(currency):
        raise Rejected(f"{where} {amount} has more than {minor_units(currency)} decimals")
    return amount


def prepare(catalogue: Engine, raw: Any, *, store_id: str, currency: str, region: str = "TH") -> PreparedOrder:
    """Check one raw order against the till's catalogue and turn it into what create_order takes."""
    if not isinstance(raw, dict):
        raise Rejected("an order must be an object")
    ext = _text(raw.get("external_id"), "external_id", max_len=64)
    if not ext:
        raise Rejected("external_id is missing")
    if printable(ext) != ext:  # no id; and the command's report must not send it to a terminal
        raise Rejected("external_id has control characters")
    customer = _obj(raw.get("customer"), "customer")
    name = _text(customer.get("name"), "customer name", max_len=200)
    phone_raw = _text(customer.get("phone"), "customer phone", max_len=40)
    if not name and not phone_raw:
        raise Rejected("customer is missing: give a name or a phone")
    phone = ""
    if phone_raw:
        try:
            phone = normalise_phone(phone_raw, region)
        except PhoneError as exc:
            raise Rejected(f"customer phone: {exc}") from None
    raw_lines = raw.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise Rejected("lines: an order needs at least one line")
    lines = []
    with read_session(catalogue) as s:
        for n, item in enumerate(raw_lines, start=1):
            where = f"line {n}"
            if not isinstance(item, dict):
                raise Rejected(f"{where} must be an object")
            sku = _text(item.get("sku"), f"{where} sku", max_len=64)
            barcode = _text(item.get("barcode"), f"{where} barcode", max_len=32)
            if not sku and not barcode:
                raise Rejected(f"{where}: give a sku or a barcode")
            info = find_by_code(s, sku) if sku else find_by_code(s, barcode)
            if info is None or (sku and info.sku.upper() != sku.upper()):
                raise Rejected(f"{where}: unknown sku {sku!r}" if sku else f"{where}: unknown barcode {barcode!r}")
            if sku and barcode:
                other = find_by_code(s, barcode)
                if other is None or other.id != info.id:
                    raise Rejected(f"{where}: barcode {barcode!r} is not sku {sku!r}")
            qty = _quantity(item.get("quantity"), where)
            price = info.price
            if item.get("unit_price") is not None:
                price = _money(item["unit_price"], f"{where}: unit_price", currency, positive=False)
            lines.append(NewLine(info.sku, info.name, qty, price, info.vat_rate, original_price=info.price,
                                 barcode=barcode or info.barcode))
        member = s.exec(select(Member.phone).where(Member.phone == phone)).first() if phone else None
    delivery = _obj(raw.get("delivery"), "delivery")
    method = _text(delivery.get("method"), "delivery method", max_len=10).lower() or "pickup"
    store = _text(delivery.get("store"), "delivery store", max_len=32).upper() or store_id
    if not store.replace("_", "").isalnum():
        raise Rejected(f"delivery store {store!r}: letters and digits only")
    expected = raw.get("expected_date")
    if expected is not None and not isinstance(expected, str):
        raise Rejected(f"expected date {expected!r} is not a date (YYYY-MM-DD)")
    if expected and expected.strip():
        try:  # kept as YYYY-MM-DD whichever ISO form came (20261224, 2026-W52-4)
            expected = date.fromisoformat(expected.strip()).isoformat()
        except ValueError:
            raise Rejected(f"expected date {expected!r} is not a date (YYYY-MM-DD)") from None
    details = OrderDetails(
        customer_name=name, customer_phone=phone, member_phone=member, delivery_method=method, fulfil_store=store,
        delivery_address=_text(delivery.get("address"), "delivery address", max_len=500),
        source=_text(raw.get("source"), "source", max_len=12).lower() or "ecommerce",
        expected_date=(expected or "").strip() or None, comments=_text(raw.get("comments"), "comments", max_len=2000))
    try:
        details.check()
    except OrderError as exc:
        raise Rejected(str(exc)) from None
    pays = raw.get("payments") or []
    if not isinstance(pays, list):
        raise Rejected("payments must be a list")
    payments = []
    refs = set()
    for n, p in enumerate(pays, start=1):
        if not isinstance(p, dict):
            raise Rejected(f"payment {n} must be an object")
        ref = _text(p.get("reference"), f"payment {n} reference", max_len=40) or f"{n}"
        if ref in refs:
            raise Rejected(f"payment {n}: reference {ref!r} appears twice")
        refs.add(ref)
        payments.append((ref, _money(p.get("amount"), f"payment {n}: amount", currency, positive=True)))
    return PreparedOrder(ext, tuple(lines), details, tuple(payments))


def _key(raw: Any, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("external_id"), str | int) and str(raw["external_id"]).strip():
        return printable(str(raw["external_id"]).strip())[:64]
    return f"#{index}"


def import_orders(catalogue: Engine, orders_db: Engine, raw_orders: Sequence[Any], *, store_id: str, operator: str,
                  currency: str, prices_include_vat: bool, region: str = "TH",
                  progress: Progress | None = None) -> ImportResult:
    """Each order in its own transaction: a rejected one leaves no trace, the others stay imported.
    `catalogue` is the till's database (products by sku or barcode); `orders_db` where orders live."""
    result = ImportResult()
    seen: set[str] = set()
    total = len(raw_orders)
    for index, raw in enumerate(raw_orders, start=1):
        key = _key(raw, index)
        try:
            # An order taken before is "already imported" whatever the catalogue says now (an item
            # gone, a price changed): only a new one is checked against it.
            ext = _text(raw.get("external_id"), "external_id", max_len=64) if isinstance(raw, dict) else ""
            existing = orders.find_by_external_id(orders_db, ext) if ext and printable(ext) == ext else None
            if existing is not None:
                if ext in seen:
                    raise Rejected(f"appears twice in the file (imported as {existing.number})")
                result.existing.append((ext, existing.number))
                seen.add(ext)
            else:
                prepared = prepare(catalogue, raw, store_id=store_id, currency=currency, region=region)
                try:
                    view = orders.create_order(
                        orders_db, store_id, operator, list(prepared.lines), prepared.details, currency=currency,
                        prices_include_vat=prices_include_vat, external_id=prepared.external_id,
                        online_payments=list(prepared.payments))
                except IntegrityError:
                    # Another import (a second till, a cron job run twice) committed the same order
                    # a moment ago: this one rolled back whole, and the order is there once.
                    existing = orders.find_by_external_id(orders_db, prepared.external_id)
                    if existing is None:
                        raise
                    result.existing.append((prepared.external_id, existing.number))
                else:
                    result.imported.append((prepared.external_id, view.number))
                seen.add(prepared.external_id)
        except (Rejected, OrderError) as exc:
            result.rejected.append((key, str(exc)))
        if progress:
            progress(index, total)
    return result
