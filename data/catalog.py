"""Products: lookup by barcode or SKU, substring search, and upserts that keep the search text right.

Search on SQLite uses the FTS5 trigram index (substrings in Thai, CJK and Latin, three characters or
more); shorter queries scan the same text. PostgreSQL uses pg_trgm on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, func, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from data.barcodes import other_spellings, validate_gtin
from data.db import is_sqlite
from data.models import Barcode, Product
from data.text import printable
from data.types import utcnow

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class ProductInfo:
    id: int
    sku: str
    name: str
    name_en: str
    price: Decimal
    vat_rate: Decimal
    barcode: str | None = None  # the code it was found by, or its first barcode

    @property
    def display_name(self) -> str:
        return display_name(self.name, self.name_en)


def display_name(name: str, name_en: str) -> str:
    """The name a cashier or manager sees: both languages when the English one differs."""
    if name_en and name_en != name:
        return f"{name} / {name_en}"
    return name


def search_text_for(sku: str, name: str, name_en: str, barcodes: list[str]) -> str:
    return " ".join(part for part in (name, name_en, sku, *barcodes) if part)


_COLUMNS = (Product.id, Product.sku, Product.name, Product.name_en, Product.price, Product.vat_rate)


def _info(row, barcode: str | None) -> ProductInfo:
    return ProductInfo(row[0], row[1], row[2], row[3], row[4], row[5], barcode)


# Built once: on every scan only parameters change.
_BY_BARCODE = (select(*_COLUMNS, Barcode.code).join_from(Barcode, Product, Barcode.product_id == Product.id)
               .where(Barcode.code == bindparam("b_code"), Product.active.is_(True)))
_BY_SKU = select(*_COLUMNS).where(Product.sku == bindparam("b_code"), Product.active.is_(True))
_BY_SPELLINGS = (select(*_COLUMNS, Barcode.code).join_from(Barcode, Product, Barcode.product_id == Product.id)
                 .where(Barcode.code.in_(bindparam("b_codes", expanding=True)), Product.active.is_(True))
                 .order_by(Barcode.id).limit(1))
_FIRST_BARCODE = (select(Barcode.code).where(Barcode.product_id == bindparam("b_product"))
                  .order_by(Barcode.id).limit(1))


def find_by_code(conn: Connection | Session, code: str) -> ProductInfo | None:
    """A scanned or typed code: a barcode first, then a SKU, then the barcode in another spelling
    (036000291452 for 0036000291452). Active products only. Core queries on
    indexed columns: this runs on every scan."""
    code = code.strip()
    if not code:
        return None
    if isinstance(conn, Session):
        conn = conn.connection()
    row = conn.execute(_BY_BARCODE, {"b_code": code}).first()
    if row:
        return _info(row, row[6])
    for sku in dict.fromkeys((code, code.upper())):  # SKUs are kept upper-case; "abc-1" means "ABC-1"
        row = conn.execute(_BY_SKU, {"b_code": sku}).first()
        if row:
            return _info(row, first_barcode(conn, row[0]))
    spellings = other_spellings(code)  # a UPC-A sent as EAN-13 (a leading 0), and so on
    if spellings:
        row = conn.execute(_BY_SPELLINGS, {"b_codes": list(spellings)}).first()
        if row:
            return _info(row, row[6])
    return None


def first_barcode(conn: Connection | Session, product_id: int) -> str | None:
    return conn.execute(_FIRST_BARCODE, {"b_product": product_id}).scalar()


def lookup(engine: Engine, code: str) -> ProductInfo | None:
    with engine.connect() as conn:
        return find_by_code(conn, code)


def _fts_phrase(query: str) -> str:
    return '"' + query.replace('"', '""') + '"'


def _like_contains(query: str) -> str:
    return "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(engine: Engine, query: str, limit: int = SEARCH_LIMIT, *, include_inactive: bool = False) -> list[ProductInfo]:
    """Active products whose name, English name, SKU or barcode contains `query`, in catalogue order
    (inactive ones too with `include_inactive`: the manager's product screen).

    SQLite: three characters or more go through the FTS5 trigram index (unranked: ranking would score
    every match of "885…" before the LIMIT); shorter ones scan search_text in id order and stop at
    `limit` matches. PostgreSQL: the pg_trgm index on lower(search_text).
    """
    query = " ".join(printable(query).split())
    if not query:
        return []
    with engine.connect() as conn:
        if is_sqlite(engine) and len(query) >= 3:
            ids = list(conn.execute(text("SELECT rowid FROM product_fts WHERE product_fts MATCH :q LIMIT :n"),
                                    {"q": _fts_phrase(query), "n": limit + 10}).scalars())
            if not ids:
                return []
            wanted = select(*_COLUMNS).where(Product.id.in_(ids))
            if not include_inactive:
                wanted = wanted.where(Product.active.is_(True))
            rows = {r[0]: r for r in conn.execute(wanted)}
            ordered = [rows[i] for i in ids if i in rows][:limit]
        else:
            column = Product.search_text if is_sqlite(engine) else func.lower(Product.search_text)
            pattern = _like_contains(query if is_sqlite(engine) else query.lower())
            wanted = select(*_COLUMNS).where(column.like(pattern, escape="\\"))
            if not include_inactive:
                wanted = wanted.where(Product.active.is_(True))
            ordered = list(conn.execute(wanted.order_by(Product.id).limit(limit)))
        barcodes = _first_barcodes(conn, [r[0] for r in ordered])
        return [_info(r, barcodes.get(r[0])) for r in ordered]


def _first_barcodes(conn: Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    out: dict[int, str] = {}
    for pid, code in conn.execute(select(Barcode.product_id, Barcode.code).where(Barcode.product_id.in_(ids))
                                  .order_by(Barcode.id)):
        out.setdefault(pid, code)
    return out


def upsert_product(session: Session, *, sku: str, name: str, price: Decimal, vat_rate: Decimal,
                   name_en: str = "", barcodes: list[str] | None = None, active: bool = True,
                   external_ids: dict | None = None) -> Product:
    """Insert or update by SKU; barcodes are validated (GTIN check digits) and added, never stolen
    silently from another product."""
    codes = [validate_gtin(c) for c in (barcodes or [])]
    product = session.exec(select(Product).where(Product.sku == sku)).first()
    if product is None:
        product = Product(sku=sku, name=name, price=price, vat_rate=vat_rate)
        session.add(product)
    product.name, product.name_en, product.price, product.vat_rate = name, name_en, price, vat_rate
    product.active = active
    if external_ids is not None:
        product.external_ids = {**(product.external_ids or {}), **external_ids}
    product.updated_at = utcnow()
    session.flush()
    existing = set(session.exec(select(Barcode.code).where(Barcode.product_id == product.id)))
    for code in codes:
        if code in existing:
            continue
        owner = session.exec(select(Barcode).where(Barcode.code == code)).first()
        if owner is not None:
            raise ValueError(f"barcode {code} already belongs to another product")
        session.add(Barcode(code=code, product_id=product.id))
        existing.add(code)
    product.search_text = search_text_for(sku, name, name_en, sorted(existing))
    session.flush()
    return product

