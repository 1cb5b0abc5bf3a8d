"""The till's records copied into the site database (connector kind `site`).

The outbox job only names a record (a receipt number, a Z reference); the record itself is read from
the till's database when it is sent, since committed sales are never edited. A batch of jobs becomes
one transaction at the site. Every record has a key of its own there (a sale's uid, a Z's terminal and
number), so a batch applied twice — a worker that died after the site committed, a job retried by
hand — adds nothing the second time.

The site refers to stores, terminals, operators, members and products by their codes; rows it does
not know yet are created (an operator as a locked placeholder, a product as sold) so that no record
is ever refused for want of a row at the head office.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from data.catalog import search_text_for
from data.db import dialect_insert, writer
from data.models import (DayClose, Member, Operator, Payment, Product, ReceiptSeries, Sale, SaleLine, StockMove,
                         Store, Terminal)
from data.money import ZERO
from data.sales import stock_upsert

SALE_EVENTS = ("sale.completed", "sale.refunded", "deposit.taken", "deposit.refunded")
DAY_EVENTS = ("day.closed",)
EVENTS = SALE_EVENTS + DAY_EVENTS
PLACEHOLDER_PIN = "!"
"""The pin_hash of an operator the site learnt of from a record: no PIN matches it; tills never pull it."""
NOT_PULLED = datetime(1970, 1, 1, tzinfo=UTC)
"""updated_at of rows the site made from records: tills pull only what the head office changed."""

_S, _L, _P, _M = Sale.__table__, SaleLine.__table__, Payment.__table__, StockMove.__table__
_T, _O, _ST, _MEM, _PR = Terminal.__table__, Operator.__table__, Store.__table__, Member.__table__, Product.__table__
_DC = DayClose.__table__


@dataclass
class SaleRecord:
    job_id: int
    sale: dict
    store: dict
    terminal: str
    operator: tuple[str, str]  # code, name
    approver: tuple[str, str] | None
    member_phone: str | None
    refund_of_uid: str | None
    lines: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    moves: list[dict] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.sale["uid"]


@dataclass
class DayRecord:
    job_id: int
    close: dict
    store: dict
    terminal: str
    operator: tuple[str, str]
    approver: tuple[str, str] | None

    @property
    def key(self) -> str:
        return f"{self.store['id']}-{self.terminal}-Z{self.close['z_number']:06d}"


Record = SaleRecord | DayRecord


@dataclass
class Applied:
    added: int = 0
    already: int = 0
    """Records the site had already (a replayed job): nothing was changed for them."""


# -- reading at the till ----------------------------------------------------------------------------

def read_records(till: Engine, jobs: Sequence[tuple[int, str, str]]) -> tuple[list[Record], list[int]]:
    """(job id, event, source id) → the records, in the jobs' order, and the job ids whose record is
    not in this database (nothing to send: a job written by another database's till)."""
    sale_jobs = [(jid, src) for jid, ev, src in jobs if ev in SALE_EVENTS]
    day_jobs = [(jid, src) for jid, ev, src in jobs if ev in DAY_EVENTS]
    found: dict[int, Record] = {}
    with till.connect() as conn:
        stores = {r.id: dict(r._mapping) for r in conn.execute(select(_ST))}
        if sale_jobs:
            found.update(_read_sales(conn, sale_jobs, stores))
        if day_jobs:
            found.update(_read_days(conn, day_jobs, stores))
    records = [found[jid] for jid, _ev, _src in jobs if jid in found]
    missing = [jid for jid, _ev, _src in jobs if jid not in found]
    return records, missing


def _operators(conn: Connection, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    return {r.id: (r.code, r.name) for r in conn.execute(select(_O.c.id, _O.c.code, _O.c.name).where(_O.c.id.in_(ids)))}


def _read_sales(conn: Connection, jobs: list[tuple[int, str]], stores: dict) -> dict[int, SaleRecord]:
    by_number = {src: jid for jid, src in jobs}
    orig = _S.alias("orig")
    rows = conn.execute(
        select(_S, _T.c.code.label("t_code"), _MEM.c.phone.label("m_phone"), orig.c.uid.label("orig_uid"))
        .select_from(_S.join(_T, _S.c.terminal_id == _T.c.id).outerjoin(_MEM, _S.c.member_id == _MEM.c.id)
                     .outerjoin(orig, _S.c.refund_of_id == orig.c.id))
        .where(_S.c.receipt_number.in_(list(by_number)))).all()
    ops = _operators(conn, {r.operator_id for r in rows} | {r.authorised_by_id for r in rows if r.authorised_by_id})
    records: dict[int, SaleRecord] = {}
    by_sale: dict[int, SaleRecord] = {}
    for r in rows:
        sale = {c.name: r._mapping[c] for c in _S.columns}
        rec = SaleRecord(by_number[r.receipt_number], sale, stores[r.store_id], r.t_code, ops[r.operator_id],
                         ops.get(r.authorised_by_id) if r.authorised_by_id else None, r.m_phone, r.orig_uid)
        records[rec.job_id] = rec
        by_sale[r.id] = rec
    if not by_sale:
        return records
    ids = list(by_sale)
    orig_line, orig_sale = _L.alias("orig_line"), _S.alias("orig_sale")
    for r in conn.execute(
            select(_L, orig_line.c.line_no.label("o_line_no"), orig_sale.c.uid.label("o_uid"))
            .select_from(_L.outerjoin(orig_line, _L.c.refund_of_line_id == orig_line.c.id)
                         .outerjoin(orig_sale, orig_line.c.sale_id == orig_sale.c.id))
            .where(_L.c.sale_id.in_(ids)).order_by(_L.c.sale_id, _L.c.line_no)):
        line = {c.name: r._mapping[c] for c in _L.columns}
        line["refund_of"] = (r.o_uid, r.o_line_no) if r.o_uid else None
        by_sale[r.sale_id].lines.append(line)
    for r in conn.execute(select(_P).where(_P.c.sale_id.in_(ids)).order_by(_P.c.id)):
        by_sale[r.sale_id].payments.append(dict(r._mapping))
    for r in conn.execute(select(_M, _PR.c.sku).join(_PR, _M.c.product_id == _PR.c.id)
                          .where(_M.c.sale_id.in_(ids)).order_by(_M.c.id)):
        by_sale[r.sale_id].moves.append(dict(r._mapping))
    return records


def parse_day_reference(reference: str) -> tuple[str, str, int] | None:
    """"BKK01-T1-Z000003" → ("BKK01", "T1", 3). A store id may hold dashes, a terminal code cannot."""
    head, sep, number = reference.rpartition("-Z")
    store, dash, terminal = head.rpartition("-")
    if not sep or not dash or not number.isdigit():
        return None
    return store, terminal, int(number)


def _read_days(conn: Connection, jobs: list[tuple[int, str]], stores: dict) -> dict[int, DayRecord]:
    records: dict[int, DayRecord] = {}
    for jid, reference in jobs:
        parsed = parse_day_reference(reference)
        if parsed is None:
            continue
        store, terminal, number = parsed
        r = conn.execute(select(_DC).join(_T, _DC.c.terminal_id == _T.c.id).where(
            _T.c.store_id == store, _T.c.code == terminal, _DC.c.z_number == number)).first()
        if r is None:
            continue
        ops = _operators(conn, {r.operator_id} | ({r.approved_by_id} if r.approved_by_id else set()))
        records[jid] = DayRecord(jid, dict(r._mapping), stores[store], terminal, ops[r.operator_id],
                                 ops.get(r.approved_by_id) if r.approved_by_id else None)
    return records


# -- writing at the site ----------------------------------------------------------------------------

def apply_records(site: Engine, records: Sequence[Record]) -> Applied:
    """All the records in one transaction at the site; those it has already are left alone."""
    with writer(site).begin() as conn:
        return apply_in(conn, records)


def apply_in(conn: Connection, records: Sequence[Record]) -> Applied:
    applied = Applied()
    if not records:
        return applied
    stores = {r.store["id"]: r.store for r in records}
    _ensure_stores(conn, stores)
    terminals = _ensure_terminals(conn, {(r.store["id"], r.terminal) for r in records})
    people: dict[str, str] = {}
    for r in records:
        for op in (r.operator, r.approver):
            if op:
                people[op[0]] = op[1]
    operators = _ensure_operators(conn, people)
    # In the till's order: a Z covers the sales before it, not the ones rung after it in the same batch.
    run: list[SaleRecord] = []
    for r in [*records, None]:
        if isinstance(r, SaleRecord):
            run.append(r)
            continue
        if run:
            done = _apply_sales(conn, run, terminals, operators)
            applied.added += done.added
            applied.already += done.already
            run = []
        if r is not None:
            if _apply_day(conn, r, terminals, operators):
                applied.added += 1
            else:
                applied.already += 1
    return applied


_INSERT_IGNORING: dict[tuple[str, str], object] = {}


def _insert_missing(conn: Connection, table, keys: Sequence[str], rows: list[dict]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two tills making the same missing row at once both go on
    (the later one waits for the first and then finds the row there)."""
    if not rows:
        return
    cache_key = (conn.dialect.name, table.name)
    stmt = _INSERT_IGNORING.get(cache_key)
    if stmt is None:
        stmt = _INSERT_IGNORING[cache_key] = dialect_insert(conn.dialect.name)(table).on_conflict_do_nothing(
            index_elements=[table.c[k] for k in keys])
    conn.execute(stmt, rows)


def _ensure_stores(conn: Connection, stores: dict[str, dict]) -> None:
    have = set(conn.execute(select(_ST.c.id).where(_ST.c.id.in_(list(stores)))).scalars())
    _insert_missing(conn, _ST, ["id"], [v for k, v in stores.items() if k not in have])


def _ensure_terminals(conn: Connection, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    def known() -> dict[tuple[str, str], int]:
        return {(r.store_id, r.code): r.id for r in conn.execute(
            select(_T.c.id, _T.c.store_id, _T.c.code).where(_T.c.store_id.in_(sorted({s for s, _ in wanted}))))}

    have = known()
    missing = sorted(wanted - set(have))
    if missing:
        _insert_missing(conn, _T, ["store_id", "code"], [{"store_id": s, "code": c} for s, c in missing])
        have = known()
        _insert_missing(conn, ReceiptSeries.__table__, ["terminal_id"],
                        [{"terminal_id": have[k], "next_number": 1, "next_z": 1} for k in missing])
    return have


def _by_key(conn: Connection, table, key: str, values: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    values = list(values)
    for start in range(0, len(values), 1000):
        chunk = values[start:start + 1000]
        out.update({k: i for i, k in conn.execute(select(table.c.id, table.c[key]).where(table.c[key].in_(chunk)))})
    return out


def _ensure_operators(conn: Connection, people: dict[str, str]) -> dict[str, int]:
    have = _by_key(conn, _O, "code", people)
    missing = [{"code": code, "name": name, "role": "cashier", "pin_hash": PLACEHOLDER_PIN,
                "discount_limit_pct": Decimal(0), "failed_attempts": 0, "locked_until": None, "active": False,
                "permissions": [], "updated_at": NOT_PULLED}
               for code, name in sorted(people.items()) if code not in have]
    if missing:
        _insert_missing(conn, _O, ["code"], missing)
        have.update(_by_key(conn, _O, "code", [m["code"] for m in missing]))
    return have


def _ensure_members(conn: Connection, phones: set[str]) -> dict[str, int]:
    if not phones:
        return {}
    have = _by_key(conn, _MEM, "phone", sorted(phones))
    missing = [{"phone": p, "name": "", "created_at": datetime.now(UTC)} for p in sorted(phones - set(have))]
    if missing:
        _insert_missing(conn, _MEM, ["phone"], missing)
        have.update(_by_key(conn, _MEM, "phone", [m["phone"] for m in missing]))
    return have


def _ensure_products(conn: Connection, lines: dict[str, dict]) -> dict[str, int]:
    have = _by_key(conn, _PR, "sku", sorted(lines))
    missing = [{"sku": sku, "name": line["name"], "name_en": "", "price": line["original_price"],
                "vat_rate": line["vat_rate"], "active": True, "external_ids": {},
                "search_text": search_text_for(sku, line["name"], "", []), "updated_at": NOT_PULLED}
               for sku, line in sorted(lines.items()) if sku not in have]
    if missing:
        _insert_missing(conn, _PR, ["sku"], missing)
        have.update(_by_key(conn, _PR, "sku", [m["sku"] for m in missing]))
    return have


def _apply_sales(conn: Connection, sales: list[SaleRecord], terminals: dict, operators: dict) -> Applied:
    uids = [r.key for r in sales]
    present = set(conn.execute(select(_S.c.uid).where(_S.c.uid.in_(uids))).scalars())
    new, seen = [], set(present)
    for r in sales:
        if r.key not in seen:
            new.append(r)
            seen.add(r.key)
    applied = Applied(already=len(sales) - len(new))
    if not new:
        return applied
    members = _ensure_members(conn, {r.member_phone for r in new if r.member_phone})
    products = _ensure_products(conn, {line["sku"]: line for r in new for line in r.lines})
    moved_skus = {m["sku"] for r in new for m in r.moves} - set(products)
    if moved_skus:  # a move without a line (none today); its product must exist all the same
        products.update(_ensure_products(conn, {sku: {"name": sku, "original_price": ZERO, "vat_rate": ZERO}
                                                for sku in moved_skus}))

    site_ids: dict[str, int] = {}
    originals = {r.refund_of_uid for r in new if r.refund_of_uid}
    if originals:
        site_ids.update({u: i for u, i in conn.execute(select(_S.c.uid, _S.c.id).where(_S.c.uid.in_(list(originals))))})

    def sale_row(r: SaleRecord) -> dict:
        row = {k: v for k, v in r.sale.items() if k != "id"}
        row["terminal_id"] = terminals[(r.store["id"], r.terminal)]
        row["operator_id"] = operators[r.operator[0]]
        row["authorised_by_id"] = operators[r.approver[0]] if r.approver else None
        row["member_id"] = members.get(r.member_phone) if r.member_phone else None
        row["refund_of_id"] = site_ids.get(r.refund_of_uid) if r.refund_of_uid else None
        return row

    # In the till's order, so the site numbers them as the till did. A refund whose original is in this
    # very batch waits for the rows before it to be in (and so for its original's site id). Plain
    # executemany (the driver pipelines it) and one select of the new ids per group: INSERT … RETURNING
    # of thousands of rows is one huge statement to build and parse.
    def insert(group: list[SaleRecord]) -> None:
        conn.execute(_S.insert(), [sale_row(r) for r in group])
        site_ids.update(_by_key(conn, _S, "uid", [r.key for r in group]))

    group: list[SaleRecord] = []
    pending: set[str] = set()
    for r in new:
        if r.refund_of_uid in pending:
            insert(group)
            group, pending = [], set()
        group.append(r)
        pending.add(r.key)
    if group:
        insert(group)

    line_ids: dict[tuple[str, int], int] = {}

    def line_row(r: SaleRecord, line: dict) -> dict:
        row = {k: v for k, v in line.items() if k not in ("id", "refund_of")}
        row["sale_id"] = site_ids[r.key]
        row["product_id"] = products[line["sku"]]
        row["refund_of_line_id"] = line_ids.get(line["refund_of"]) if line["refund_of"] else None
        return row

    plain = [(r, line) for r in new for line in r.lines if not line["refund_of"]]
    if plain:
        conn.execute(_L.insert(), [line_row(r, line) for r, line in plain])
    refund_lines = [(r, line) for r in new for line in r.lines if line["refund_of"]]
    if refund_lines:  # the lines they refund are at the site now, from this batch or an earlier one
        originals = sorted({line["refund_of"][0] for _, line in refund_lines})
        for at in range(0, len(originals), 1000):
            line_ids.update({(u, n): i for i, u, n in conn.execute(
                select(_L.c.id, _S.c.uid, _L.c.line_no).join(_S, _L.c.sale_id == _S.c.id)
                .where(_S.c.uid.in_(originals[at:at + 1000])))})
        conn.execute(_L.insert(), [line_row(r, line) for r, line in refund_lines])

    payments = [{**{k: v for k, v in p.items() if k != "id"}, "sale_id": site_ids[r.key]} for r in new for p in r.payments]
    if payments:
        conn.execute(_P.insert(), payments)
    moves = [{"store_id": m["store_id"], "product_id": products[m["sku"]], "quantity": m["quantity"],
              "reason": m["reason"], "sale_id": site_ids[r.key], "created_at": m["created_at"]}
             for r in new for m in r.moves]
    if moves:
        conn.execute(_M.insert(), moves)
        deltas: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
        for m in moves:
            deltas[(m["store_id"], m["product_id"])] += m["quantity"]
        conn.execute(stock_upsert(conn.dialect.name), [
            {"store_id": s, "product_id": p, "on_hand": q, "reserved": ZERO} for (s, p), q in sorted(deltas.items())])
    applied.added = len(new)
    return applied


def _apply_day(conn: Connection, day: DayRecord, terminals: dict, operators: dict) -> bool:
    tid = terminals[(day.store["id"], day.terminal)]
    number = day.close["z_number"]
    if conn.execute(select(_DC.c.id).where(_DC.c.terminal_id == tid, _DC.c.z_number == number)).first():
        return False
    # Sales reach the site in the till's order, so every sale of this Z is here and none after it.
    last_sale = conn.execute(select(func.max(_S.c.id)).where(_S.c.terminal_id == tid)).scalar() or 0
    row = {k: v for k, v in day.close.items() if k != "id"}
    row.update(terminal_id=tid, operator_id=operators[day.operator[0]], last_sale_id=last_sale, last_movement_id=0,
               approved_by_id=operators[day.approver[0]] if day.approver else None)
    conn.execute(_DC.insert(), row)
    next_z = conn.execute(select(ReceiptSeries.__table__.c.next_z).where(
        ReceiptSeries.__table__.c.terminal_id == tid)).scalar()
    if next_z is not None and next_z <= number:
        conn.execute(ReceiptSeries.__table__.update().where(ReceiptSeries.__table__.c.terminal_id == tid)
                     .values(next_z=number + 1))
    return True


# -- every till's outbox, as the back office sees it ---------------------------------------------------

FAILED_STATES = ("dead", "blocked", "uncertain")
WAITING_STATES = ("pending", "retry_wait", "in_flight")


@dataclass(frozen=True)
class ConnectorStatus:
    connector: str
    kind: str
    waiting: int
    failed: int
    oldest_waiting: datetime | None
    last_error: str


def outbox_status(till: Engine, connectors: Sequence[tuple[str, str]]) -> list[ConnectorStatus]:
    """Per configured (name, kind): jobs waiting, jobs someone has to look at, the oldest waiting
    one, the latest error."""
    from data.models import ExportJob
    from data.types import as_utc

    j = ExportJob.__table__
    counts: dict[str, dict] = {}
    with till.connect() as conn:
        for name, state, n, oldest in conn.execute(
                select(j.c.connector, j.c.state, func.count(), func.min(j.c.created_at))
                .where(j.c.state.in_(WAITING_STATES + FAILED_STATES)).group_by(j.c.connector, j.c.state)):
            row = counts.setdefault(name, {"waiting": 0, "failed": 0, "oldest": None})
            if state in FAILED_STATES:
                row["failed"] += n
            else:
                row["waiting"] += n
                oldest = as_utc(oldest)
                row["oldest"] = oldest if row["oldest"] is None else min(row["oldest"], oldest)
        errors: dict[str, str] = {}
        for name, err in conn.execute(
                select(j.c.connector, j.c.last_error).where(j.c.state.in_(WAITING_STATES + FAILED_STATES),
                                                            j.c.last_error != "")
                .order_by(j.c.updated_at.desc()).limit(200)):
            errors.setdefault(name, err)
    out = []
    for name, kind in connectors:
        row = counts.get(name, {"waiting": 0, "failed": 0, "oldest": None})
        out.append(ConnectorStatus(name, kind, row["waiting"], row["failed"], row["oldest"],
                                   errors.get(name, "")[:300]))
    return out


def report_status(site: Engine, store_id: str, terminal: str, statuses: Sequence[ConnectorStatus],
                  at: datetime) -> None:
    from data.models import TillStatus

    t = TillStatus.__table__
    with writer(site).begin() as conn:
        conn.execute(t.delete().where(t.c.store_id == store_id, t.c.terminal == terminal))
        if statuses:
            conn.execute(t.insert(), [
                {"store_id": store_id, "terminal": terminal, "connector": s.connector, "kind": s.kind,
                 "waiting": s.waiting, "failed": s.failed, "oldest_waiting": s.oldest_waiting,
                 "last_error": s.last_error, "reported_at": at} for s in statuses])
