"""Products: lookup by barcode or SKU, substring search, and upserts that keep the search text right.

Search on SQLite uses the FTS5 trigram index (substrings in Thai, CJK and Latin, three characters or
more); shorter queries match the start of a SKU or barcode. PostgreSQL uses pg_trgm on the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from data.barcodes import validate_gtin
from data.db import is_sqlite, read_session
from data.models import Barcode, Product, StockLevel
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
        if self.name_en and self.name_en != self.name:
            return f"{self.name} / {self.name_en}"
        return self.name


def search_text_for(sku: str, name: str, name_en: str, barcodes: list[str]) -> str:
    return " ".join(part for part in (name, name_en, sku, *barcodes) if part)


def _info(p: Product, barcode: str | None) -> ProductInfo:
    return ProductInfo(p.id, p.sku, p.name, p.name_en, p.price, p.vat_rate, barcode)


def find_by_code(session: Session, code: str) -> ProductInfo | None:
    """A scanned or typed code: a barcode first, then a SKU (case-insensitive). Active products only."""
    code = code.strip()
    if not code:
        return None
    row = session.exec(
        select(Product, Barcode.code).join(Barcode, Barcode.product_id == Product.id)
        .where(Barcode.code == code, Product.active == True)  # noqa: E712
    ).first()
    if row:
        return _info(row[0], row[1])
    product = session.exec(select(Product).where(Product.sku == code, Product.active == True)).first()  # noqa: E712
    if product is None and code != code.upper():
        # SKUs are kept upper-case; a cashier typing "abc-1" means "ABC-1" (and this stays indexed).
        product = session.exec(select(Product).where(Product.sku == code.upper(), Product.active == True)).first()  # noqa: E712
    if product is None:
        return None
    return _info(product, first_barcode(session, product.id))


def first_barcode(session: Session, product_id: int) -> str | None:
    return session.exec(select(Barcode.code).where(Barcode.product_id == product_id).order_by(Barcode.id)).first()


def lookup(engine: Engine, code: str) -> ProductInfo | None:
    with read_session(engine) as s:
        return find_by_code(s, code)


def _fts_phrase(query: str) -> str:
    return '"' + query.replace('"', '""') + '"'


def search(engine: Engine, query: str, limit: int = SEARCH_LIMIT) -> list[ProductInfo]:
    """Active products whose name, English name, SKU or barcode contains `query`."""
    query = " ".join(query.split())
    if not query:
        return []
    with read_session(engine) as s:
        if is_sqlite(engine) and len(query) >= 3:
            ids = [r[0] for r in s.connection().execute(
                text("SELECT rowid FROM product_fts WHERE product_fts MATCH :q ORDER BY rank LIMIT :n"),
                {"q": _fts_phrase(query), "n": limit * 2},
            )]
            if not ids:
                return []
            products = {p.id: p for p in s.exec(select(Product).where(Product.id.in_(ids), Product.active == True))}  # noqa: E712
            ordered = [products[i] for i in ids if i in products][:limit]
        elif is_sqlite(engine):
            like = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            ordered = list(s.exec(
                select(Product).where(
                    Product.active == True,  # noqa: E712
                    or_(Product.sku.like(like, escape="\\"), Product.name.like(like, escape="\\"),
                        Product.name_en.like(like, escape="\\")),
                ).order_by(Product.sku).limit(limit)
            ))
        else:
            like = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            ordered = list(s.exec(
                select(Product).where(Product.active == True, func.lower(Product.search_text).like(like, escape="\\"))  # noqa: E712
                .order_by(Product.sku).limit(limit)
            ))
        barcodes = _first_barcodes(s, [p.id for p in ordered])
        return [_info(p, barcodes.get(p.id)) for p in ordered]


def _first_barcodes(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    out: dict[int, str] = {}
    for pid, code in session.exec(select(Barcode.product_id, Barcode.code).where(Barcode.product_id.in_(ids)).order_by(Barcode.id)):
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


def stock_of(session: Session, store_id: str, product_id: int) -> StockLevel | None:
    return session.get(StockLevel, (store_id, product_id))
