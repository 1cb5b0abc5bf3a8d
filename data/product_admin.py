"""Products, for managers: search (inactive ones too), one product with its barcodes and external ids,
and changes to price, name, VAT rate, active, barcodes and external ids per connector.

Every change is one transaction with its audit rows (the acting manager's code), keeps
`Product.search_text` right (the SQLite FTS index follows it by trigger) and bumps
`Product.updated_at`, which is what tills pull from the site database by; a barcode added or removed
bumps its product. A price change is audited as `price.change` with the old and the new price.

`save_product` applies a whole edit (the product dialog's) at once: only what differs from the
database is changed and audited, so two managers editing different fields do not undo each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from data import audit, catalog
from data.barcodes import BarcodeError, other_spellings, validate_gtin
from data.db import read_session, write_session
from data.models import Barcode, Operator, Product
from data.money import MoneyError, to_decimal
from data.text import printable
from data.types import utcnow

NAME_MAX = 120
EXTERNAL_ID_MAX = 64
PRICE_MAX = Decimal("9999999")


class ProductError(ValueError):
    """A change refused: bad input, a barcode of another product, an unknown connector. Shown as it is."""


@dataclass(frozen=True)
class ProductRow:
    """A search result on the manager's product screen."""

    id: int
    sku: str
    name: str
    name_en: str
    price: Decimal
    vat_rate: Decimal
    barcode: str | None
    active: bool

    @property
    def display_name(self) -> str:
        return catalog.display_name(self.name, self.name_en)


@dataclass(frozen=True)
class ProductDetail:
    id: int
    sku: str
    name: str
    name_en: str
    price: Decimal
    vat_rate: Decimal
    active: bool
    barcodes: tuple[str, ...]
    external_ids: Mapping[str, str]
    updated_at: datetime


@dataclass(frozen=True)
class ProductEdit:
    """What the product dialog asks for; None leaves a field as it is."""

    name: str | None = None
    name_en: str | None = None
    price: Decimal | None = None
    vat_rate: Decimal | None = None
    active: bool | None = None
    add_barcodes: tuple[str, ...] = ()
    remove_barcodes: tuple[str, ...] = ()
    external_ids: Mapping[str, str] = field(default_factory=dict)  # connector -> id; "" clears


# -- checking what is typed ---------------------------------------------------------------------------

def parse_price(text: str | Decimal) -> Decimal:
    """'45', '45.50', '1,250.00'; not negative, at most 2 decimal places."""
    try:
        value = to_decimal(text)
    except MoneyError:
        raise ProductError(f"price {printable(text)!r} is not an amount, e.g. 45.50") from None
    if value < 0:
        raise ProductError("a price cannot be negative")
    if value != value.quantize(Decimal("0.01")):
        raise ProductError("a price has at most 2 decimal places")
    if value > PRICE_MAX:
        raise ProductError("that price is too high; check it")
    return value


def parse_vat_rate(text: str | Decimal) -> Decimal:
    """A VAT rate in percent: '7', '0', '7%'."""
    raw = text if isinstance(text, Decimal) else text.strip().rstrip("%").strip()
    try:
        if isinstance(raw, str) and "," in raw:
            raise MoneyError("a rate has no commas")
        value = to_decimal(raw)
    except MoneyError:
        raise ProductError(f"VAT rate {printable(text)!r} is not a number, e.g. 7 or 0") from None
    if not 0 <= value <= 100:
        raise ProductError("a VAT rate is from 0 to 100 %")
    if value != value.quantize(Decimal("0.01")):
        raise ProductError("a VAT rate has at most 2 decimal places")
    return value


def check_name(name: str, *, required: bool = True) -> str:
    name = " ".join(printable(name).split())
    if required and not name:
        raise ProductError("a product needs a name")
    if len(name) > NAME_MAX:
        raise ProductError(f"a name has at most {NAME_MAX} characters")
    return name


def check_barcode(code: str) -> str:
    try:
        return validate_gtin(printable(code))
    except BarcodeError as exc:
        raise ProductError(str(exc)) from None


def check_external_id(value: str) -> str:
    value = printable(value).strip()
    if len(value) > EXTERNAL_ID_MAX:
        raise ProductError(f"an external id has at most {EXTERNAL_ID_MAX} characters")
    return value


# -- reading ------------------------------------------------------------------------------------------

def search_products(engine: Engine, query: str, limit: int = catalog.SEARCH_LIMIT) -> list[ProductRow]:
    """The catalogue search (indexed: quick on 100,000 products), inactive products included."""
    found = catalog.search(engine, query, limit, include_inactive=True)
    if not found:
        return []
    with engine.connect() as conn:
        active = dict(conn.execute(select(Product.id, Product.active).where(Product.id.in_([p.id for p in found]))).all())
    return [ProductRow(p.id, p.sku, p.name, p.name_en, p.price, p.vat_rate, p.barcode, bool(active.get(p.id, True)))
            for p in found]


def _barcodes(s: Session, product_id: int) -> list[str]:
    return list(s.exec(select(Barcode.code).where(Barcode.product_id == product_id).order_by(Barcode.id)))


def _detail(s: Session, p: Product) -> ProductDetail:
    return ProductDetail(p.id, p.sku, p.name, p.name_en, p.price, p.vat_rate, p.active, tuple(_barcodes(s, p.id)),
                         dict(p.external_ids or {}), p.updated_at)


def get_product(engine: Engine, product_id: int) -> ProductDetail | None:
    with read_session(engine) as s:
        p = s.get(Product, product_id)
        return _detail(s, p) if p else None


def barcode_owner(engine: Engine, code: str) -> tuple[int, str] | None:
    """(product id, sku) of the product a barcode belongs to, if any."""
    with engine.connect() as conn:
        row = conn.execute(select(Barcode.product_id, Product.sku).join_from(Barcode, Product, Barcode.product_id == Product.id)
                           .where(Barcode.code == code)).first()
        return (row[0], row[1]) if row else None


# -- changing -----------------------------------------------------------------------------------------

def _actor(s: Session, by: str) -> None:
    actor = s.exec(select(Operator).where(Operator.code == by)).first()
    if actor is None or not actor.active or actor.role != "manager":
        raise ProductError("only an active manager may change products")


def _product(s: Session, product_id: int) -> Product:
    p = s.exec(select(Product).where(Product.id == product_id).with_for_update()).first()
    if p is None:
        raise ProductError(f"no product {product_id}")
    return p


def save_product(engine: Engine, product_id: int, edit: ProductEdit, *, by: str, connectors: Iterable[str] | None = None,
                 terminal: str | None = None, store: str | None = None) -> tuple[ProductDetail, list[str]]:
    """Apply `edit` in one transaction; returns the product as saved and what changed, in words.
    `connectors` are the configured connector names (`settings.connectors`); an external id for any
    other connector is refused. None accepts any name (scripts)."""
    name = None if edit.name is None else check_name(edit.name)
    name_en = None if edit.name_en is None else check_name(edit.name_en, required=False)
    price = None if edit.price is None else parse_price(edit.price)
    vat = None if edit.vat_rate is None else parse_vat_rate(edit.vat_rate)
    adding = list(dict.fromkeys(check_barcode(c) for c in edit.add_barcodes))
    removing = [c for c in dict.fromkeys(edit.remove_barcodes) if c not in adding]
    known = None if connectors is None else set(connectors)
    ext: dict[str, str] = {}
    for connector, value in edit.external_ids.items():
        if known is not None and connector not in known:
            raise ProductError(f"{printable(connector)!r} is not a configured connector")
        ext[connector] = check_external_id(value)
    where = {"operator": by, "store": store, "terminal": terminal}
    with write_session(engine) as s:
        _actor(s, by)
        p = _product(s, product_id)
        said: list[str] = []
        changes: dict[str, list] = {}
        if price is not None and price != p.price:
            audit.record(s, "price.change", subject=p.sku, old=str(p.price), new=str(price), **where)
            said.append(f"price {p.price} → {price}")
            p.price = price
        for column, value in (("name", name), ("name_en", name_en), ("vat_rate", vat), ("active", edit.active)):
            if value is not None and value != getattr(p, column):
                old = getattr(p, column)
                changes[column] = [str(old) if isinstance(old, Decimal) else old,
                                   str(value) if isinstance(value, Decimal) else value]
                setattr(p, column, value)
        if changes:
            audit.record(s, "product.change", subject=p.sku, changes=changes, **where)
            said.extend(_said(column, new) for column, (_, new) in changes.items())
        for code in removing:
            row = s.exec(select(Barcode).where(Barcode.code == code, Barcode.product_id == p.id)).first()
            if row is None:
                continue  # not (or no longer) on this product: nothing to remove
            s.delete(row)
            audit.record(s, "barcode.remove", subject=p.sku, barcode=code, **where)
            said.append(f"barcode {code} removed")
        s.flush()
        for code in adding:
            owners = set(s.exec(select(Barcode.product_id).where(Barcode.code.in_([code, *other_spellings(code)]))))
            if p.id in owners:  # this code, or the same GTIN at another length (a UPC-A as EAN-13)
                continue
            owner = min(owners) if owners else None
            if owner is not None:
                other = s.get(Product, owner)
                raise ProductError(f"barcode {code} belongs to {other.sku} {printable(other.name)}; "
                                   "remove it there first")
            s.add(Barcode(code=code, product_id=p.id))
            audit.record(s, "barcode.add", subject=p.sku, barcode=code, **where)
            said.append(f"barcode {code} added")
        s.flush()
        codes = _barcodes(s, p.id)
        ids = dict(p.external_ids or {})
        for connector, value in ext.items():
            old = ids.get(connector, "")
            if value == old:
                continue
            if value:
                ids[connector] = value
                audit.record(s, "external_id.set", subject=p.sku, connector=connector, old=old, new=value, **where)
                said.append(f"{connector} id {value}")
            else:
                ids.pop(connector, None)
                audit.record(s, "external_id.clear", subject=p.sku, connector=connector, old=old, **where)
                said.append(f"{connector} id cleared")
        if ids != (p.external_ids or {}):
            p.external_ids = ids  # a new dict: the JSON column sees the assignment
        if said:
            p.search_text = catalog.search_text_for(p.sku, p.name, p.name_en, codes)
            p.updated_at = utcnow()
        s.flush()
        return _detail(s, p), said


def _said(column: str, value) -> str:
    if column == "active":
        return "active" if value else "inactive"
    label = {"name": "name", "name_en": "English name", "vat_rate": "VAT"}[column]
    return f"{label} {value}" + (" %" if column == "vat_rate" else "")


# One change at a time (scripts, the back-office console, tests): each is save_product of one field.

def change_price(engine: Engine, product_id: int, price: Decimal | str, *, by: str, **where) -> ProductDetail:
    return save_product(engine, product_id, ProductEdit(price=parse_price(price)), by=by, **where)[0]


def rename(engine: Engine, product_id: int, name: str, *, name_en: str | None = None, by: str, **where) -> ProductDetail:
    return save_product(engine, product_id, ProductEdit(name=name, name_en=name_en), by=by, **where)[0]


def set_vat_rate(engine: Engine, product_id: int, rate: Decimal | str, *, by: str, **where) -> ProductDetail:
    return save_product(engine, product_id, ProductEdit(vat_rate=parse_vat_rate(rate)), by=by, **where)[0]


def set_active(engine: Engine, product_id: int, active: bool, *, by: str, **where) -> ProductDetail:
    return save_product(engine, product_id, ProductEdit(active=active), by=by, **where)[0]


def add_barcode(engine: Engine, product_id: int, code: str, *, by: str, **where) -> ProductDetail:
    """Validated (GTIN check digit); refused if it belongs to another product."""
    return save_product(engine, product_id, ProductEdit(add_barcodes=(code,)), by=by, **where)[0]


def remove_barcode(engine: Engine, product_id: int, code: str, *, by: str, **where) -> ProductDetail:
    detail, said = save_product(engine, product_id, ProductEdit(remove_barcodes=(code,)), by=by, **where)
    if not said:
        raise ProductError(f"barcode {printable(code)} is not on {detail.sku}")
    return detail


def set_external_id(engine: Engine, product_id: int, connector: str, value: str | None, *, by: str,
                    connectors: Iterable[str] | None = None, **where) -> ProductDetail:
    """Set (or with None / "" clear) the product's id in a connector's system, e.g. its PEAK code."""
    edit = ProductEdit(external_ids={connector: value or ""})
    return save_product(engine, product_id, edit, by=by, connectors=connectors, **where)[0]
