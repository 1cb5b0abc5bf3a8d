"""Catalogue, prices, barcodes and operators pulled from the site database into a till.

Head office changes products and operators at the site; each change bumps the row's `updated_at`.
A till remembers (in sync_state) the newest `updated_at` it has taken and asks for rows from there on,
in keyset pages, so a first pull of 100,000 products and a pull of one price change are the same code.
A change is stamped when it is made and becomes visible when its transaction commits, so a slow
writer (or a back-office machine whose clock runs behind) can commit a row stamped before rows a till
has already taken: each pull therefore reads again the OVERLAP before its mark and takes from there
what it does not have at that time stamp.
The site is the truth for what it sends: a product's barcodes become the site's set for it.
Rows the site made itself from till records (placeholders) are never sent back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.engine import Connection, Engine

from data.catalog import search_text_for
from data.db import writer
from data.models import Barcode, Operator, Product, SyncState
from data.site_sync import NOT_PULLED, PLACEHOLDER_PIN
from data.types import as_utc, utcnow

PAGE = 2000
OVERLAP = timedelta(minutes=5)
"""How far before its mark a pull reads again (longer than a site write transaction takes)."""
_PR, _BC, _OP, _SS = Product.__table__, Barcode.__table__, Operator.__table__, SyncState.__table__
PRODUCTS_MARK, OPERATORS_MARK = "pull.products", "pull.operators"
Progress = Callable[[str, int, int], None]


@dataclass
class PullResult:
    products: int = 0
    barcodes: int = 0
    operators: int = 0

    @property
    def changed(self) -> int:
        return self.products + self.operators


def _mark(conn: Connection, name: str) -> tuple[datetime, int]:
    value = conn.execute(select(_SS.c.value).where(_SS.c.name == name)).scalar()
    if not value:
        # Nothing pulled yet: everything changed after the epoch. Rows stamped at the epoch are the ones
        # the site made from till records (and rows from before change times were kept): not sent.
        return NOT_PULLED, 2**31 - 1
    at, _, last_id = value.partition("|")
    return datetime.fromisoformat(at).replace(tzinfo=UTC), int(last_id or 0)


def _set_mark(conn: Connection, name: str, at: datetime, last_id: int) -> None:
    value = f"{at.astimezone(UTC).replace(tzinfo=None).isoformat()}|{last_id}"
    done = conn.execute(update(_SS).where(_SS.c.name == name).values(value=value, updated_at=utcnow()))
    if not done.rowcount:
        conn.execute(_SS.insert().values(name=name, value=value, updated_at=utcnow()))


def _after(table, at: datetime, last_id: int):
    """Keyset: rows changed after the mark, (updated_at, id) strictly greater."""
    return or_(table.c.updated_at > at, and_(table.c.updated_at == at, table.c.id > last_id))


def _window(at: datetime, last_id: int) -> tuple[datetime, int]:
    """Where a pull starts reading: OVERLAP before its mark, never down to the epoch rows (placeholders)."""
    if at <= NOT_PULLED:
        return at, last_id
    start = at - OVERLAP
    return (start, 0) if start > NOT_PULLED else (NOT_PULLED, 2**31 - 1)


def _unseen(conn: Connection, table, key, rows, mark: tuple[datetime, int]) -> list:
    """The rows to apply: those past the mark, and those before it (read again in the overlap) that
    the till does not have at the same time stamp, i.e. ones committed late."""
    again = [r for r in rows if _key(r) <= mark]
    if not again:
        return list(rows)
    have = {k: as_utc(at) for k, at in conn.execute(select(table.c[key], table.c.updated_at)
                                                   .where(table.c[key].in_([getattr(r, key) for r in again])))}
    return [r for r in rows if _key(r) > mark or have.get(getattr(r, key)) != as_utc(r.updated_at)]


def _key(row) -> tuple[datetime, int]:
    return as_utc(row.updated_at), row.id


def pull(site: Engine, till: Engine, *, progress: Progress | None = None, page: int = PAGE) -> PullResult:
    result = PullResult()
    _pull_products(site, till, result, progress, page)
    _pull_operators(site, till, result)
    return result


def pending_products(site: Engine, till: Engine) -> int:
    """How many products the next pull would take (for a progress bar's total)."""
    from sqlalchemy import func

    with till.connect() as conn:
        at, last_id = _mark(conn, PRODUCTS_MARK)
    with site.connect() as conn:
        return conn.execute(select(func.count()).select_from(_PR).where(_after(_PR, at, last_id))).scalar_one()


def _pull_products(site: Engine, till: Engine, result: PullResult, progress: Progress | None, page: int) -> None:
    with till.connect() as conn:
        mark = _mark(conn, PRODUCTS_MARK)
    at, last_id = _window(*mark)
    total = pending_products(site, till) if progress else 0
    columns = (_PR.c.id, _PR.c.sku, _PR.c.name, _PR.c.name_en, _PR.c.price, _PR.c.vat_rate, _PR.c.active,
               _PR.c.external_ids, _PR.c.updated_at)
    while True:
        with site.connect() as conn:
            rows = conn.execute(select(*columns).where(_after(_PR, at, last_id))
                                .order_by(_PR.c.updated_at, _PR.c.id).limit(page)).all()
            if not rows:
                return
            codes: dict[int, list[str]] = {r.id: [] for r in rows}
            for pid, code in conn.execute(select(_BC.c.product_id, _BC.c.code)
                                          .where(_BC.c.product_id.in_(list(codes))).order_by(_BC.c.id)):
                codes[pid].append(code)
        with writer(till).begin() as conn:
            fresh = _unseen(conn, _PR, "sku", rows, mark)
            if fresh:
                result.barcodes += _apply_products(conn, fresh, codes)
            at, last_id = _key(rows[-1])
            if (at, last_id) > mark:
                _set_mark(conn, PRODUCTS_MARK, at, last_id)
        result.products += len(fresh)
        if progress:
            progress("products", result.products, max(total, result.products))
        if len(rows) < page:
            return


_UPDATE_PRODUCT = (update(_PR).where(_PR.c.id == bindparam("b_id"))
                   .values(name=bindparam("name"), name_en=bindparam("name_en"), price=bindparam("price"),
                           vat_rate=bindparam("vat_rate"), active=bindparam("active"),
                           external_ids=bindparam("external_ids"), updated_at=bindparam("updated_at")))
_UPDATE_SEARCH = update(_PR).where(_PR.c.id == bindparam("b_id")).values(search_text=bindparam("search_text"))
_MOVE_BARCODE = update(_BC).where(_BC.c.code == bindparam("b_code")).values(product_id=bindparam("b_product"))
_DROP_BARCODE = delete(_BC).where(_BC.c.product_id == bindparam("b_product"), _BC.c.code == bindparam("b_code"))


def _apply_products(conn: Connection, rows, codes: dict[int, list[str]]) -> int:
    """Upsert a page by sku, set-based; each product's barcodes become the site's set (a code moved to
    another product at the site moves here too). The search text, and so the FTS index, is written only
    where it changed. Returns how many barcodes were added."""
    skus = [r.sku for r in rows]
    local = {sku: (pid, text) for pid, sku, text in conn.execute(
        select(_PR.c.id, _PR.c.sku, _PR.c.search_text).where(_PR.c.sku.in_(skus)))}
    fresh = [r for r in rows if r.sku not in local]
    if fresh:
        conn.execute(_PR.insert(), [{"sku": r.sku, "name": r.name, "name_en": r.name_en, "price": r.price,
                                     "vat_rate": r.vat_rate, "active": r.active, "external_ids": r.external_ids or {},
                                     "updated_at": r.updated_at, "search_text": ""} for r in fresh])
        local.update({sku: (pid, "") for pid, sku in conn.execute(
            select(_PR.c.id, _PR.c.sku).where(_PR.c.sku.in_([r.sku for r in fresh])))})
    fresh_skus = {r.sku for r in fresh}
    known = [r for r in rows if r.sku not in fresh_skus]
    if known:
        conn.execute(_UPDATE_PRODUCT, [
            {"b_id": local[r.sku][0], "name": r.name, "name_en": r.name_en, "price": r.price, "vat_rate": r.vat_rate,
             "active": r.active, "external_ids": r.external_ids or {}, "updated_at": r.updated_at} for r in known])
    texts = [{"b_id": local[r.sku][0], "search_text": search_text_for(r.sku, r.name, r.name_en, codes[r.id])}
             for r in rows]
    changed = [t for t, r in zip(texts, rows) if t["search_text"] != local[r.sku][1]]
    if changed:
        conn.execute(_UPDATE_SEARCH, changed)

    # Barcodes: the site's set per product.
    pids = {r.id: local[r.sku][0] for r in rows}
    have: dict[int, set[str]] = {pid: set() for pid in pids.values()}
    for pid, code in conn.execute(select(_BC.c.product_id, _BC.c.code).where(_BC.c.product_id.in_(list(have)))):
        have[pid].add(code)
    drop, wanted = [], {}
    for r in rows:
        pid = pids[r.id]
        site_codes = set(codes[r.id])
        drop += [{"b_product": pid, "b_code": c} for c in sorted(have[pid] - site_codes)]
        wanted.update({c: pid for c in codes[r.id] if c not in have[pid]})
    if drop:
        conn.execute(_DROP_BARCODE, drop)
    if not wanted:
        return 0
    elsewhere = set(conn.execute(select(_BC.c.code).where(_BC.c.code.in_(list(wanted)))).scalars())
    if elsewhere:
        conn.execute(_MOVE_BARCODE, [{"b_code": c, "b_product": wanted[c]} for c in sorted(elsewhere)])
    new_codes = [{"code": c, "product_id": pid} for c, pid in wanted.items() if c not in elsewhere]
    if new_codes:
        conn.execute(_BC.insert(), new_codes)
    return len(wanted)


def _pull_operators(site: Engine, till: Engine, result: PullResult) -> None:
    with till.connect() as conn:
        mark = _mark(conn, OPERATORS_MARK)
    at, last_id = _window(*mark)
    columns = (_OP.c.id, _OP.c.code, _OP.c.name, _OP.c.role, _OP.c.pin_hash, _OP.c.discount_limit_pct,
               _OP.c.active, _OP.c.permissions, _OP.c.locked_until, _OP.c.updated_at)
    with site.connect() as conn:
        rows = conn.execute(select(*columns).where(_after(_OP, at, last_id))
                            .order_by(_OP.c.updated_at, _OP.c.id)).all()
    if not rows:
        return
    with writer(till).begin() as conn:
        for r in _unseen(conn, _OP, "code", rows, mark):
            if r.pin_hash == PLACEHOLDER_PIN:
                continue  # the site knows this operator only from a till's records
            values = {"name": r.name, "role": r.role, "pin_hash": r.pin_hash, "discount_limit_pct": r.discount_limit_pct,
                      "active": r.active, "permissions": r.permissions or [], "locked_until": r.locked_until,
                      "updated_at": r.updated_at}
            done = conn.execute(update(_OP).where(_OP.c.code == r.code).values(**values)).rowcount
            if not done:
                conn.execute(_OP.insert().values(code=r.code, failed_attempts=0, **values))
            result.operators += 1
        if _key(rows[-1]) > mark:
            _set_mark(conn, OPERATORS_MARK, *_key(rows[-1]))
