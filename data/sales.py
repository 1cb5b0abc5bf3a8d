"""Committing sales and refunds. One transaction holds the sale, its lines, payments, stock moves,
the receipt number and the removal of the open-cart draft: all of it lands or none of it does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, func, select

from data import audit, outbox, payloads, spool
from data.cart import Cart
from data.db import dialect_insert, read_session, write_session, writer
from data.models import (
    CartDraft,
    Member,
    Operator,
    Payment,
    PrintJob,
    ReceiptSeries,
    Sale,
    SaleLine,
    StockLevel,
    StockMove,
    Store,
    Terminal,
)
from data.money import ZERO, round_money
from data.operators import OperatorInfo
from data.outbox import ExportTarget
from data.payments import PaymentState
from data.places import Place
from data.pricing import price_cart
from data.types import utcnow


class SaleError(ValueError):
    pass


def format_receipt_number(store_id: str, terminal: str, number: int) -> str:
    return f"{store_id}-{terminal}-{number:06d}"


# Statements built once: the commit runs them with parameters only, so SQLAlchemy neither rebuilds nor
# recompiles anything per sale (the ORM's .values() on entities costs more than SQLite's work here).
_T = {t.__tablename__: t.__table__ for t in (Sale, SaleLine, Payment, StockMove, StockLevel, ReceiptSeries,
                                             CartDraft, PrintJob)}
_NEXT_NUMBER = (update(_T["receipt_series"]).where(_T["receipt_series"].c.terminal_id == bindparam("b_terminal"))
                .values(next_number=_T["receipt_series"].c.next_number + 1)
                .returning(_T["receipt_series"].c.next_number))
_EXISTING = select(_T["sale"].c.receipt_number).where(_T["sale"].c.uid == bindparam("b_uid"))
_INSERT_SALE = _T["sale"].insert().returning(_T["sale"].c.id)
_INSERT_LINE = _T["sale_line"].insert()
_INSERT_PAYMENT = _T["payment"].insert()
_INSERT_MOVE = _T["stock_move"].insert()
_DELETE_DRAFT = delete(_T["cart_draft"]).where(_T["cart_draft"].c.uid == bindparam("b_uid"))
_STOCK_UPSERT: dict[str, object] = {}


def stock_upsert(dialect: str):
    """INSERT … ON CONFLICT DO UPDATE on_hand = on_hand + delta: one statement whether or not the item
    has a stock row at this store yet."""
    if dialect not in _STOCK_UPSERT:
        stmt = dialect_insert(dialect)(_T["stock_level"])
        _STOCK_UPSERT[dialect] = stmt.on_conflict_do_update(
            index_elements=[_T["stock_level"].c.store_id, _T["stock_level"].c.product_id],
            set_={"on_hand": _T["stock_level"].c.on_hand + stmt.excluded.on_hand})
    return _STOCK_UPSERT[dialect]


def next_receipt_number(conn: Connection | Session, place: Place) -> str:
    """Allocate inside the caller's transaction: a rollback gives the number back, so no gaps."""
    number = conn.execute(_NEXT_NUMBER, {"b_terminal": place.terminal_id}).scalar_one()
    return format_receipt_number(place.store_id, place.terminal_code, number - 1)


def move_stock(conn: Connection | Session, store_id: str, moves: list[tuple[int, Decimal]], reason: str,
               sale_id: int, at: datetime) -> None:
    """Change on-hand stock for (product, signed quantity) pairs and journal each move."""
    if not moves:
        return
    if isinstance(conn, Session):
        conn = conn.connection()  # Core, not ORM bulk semantics, inside the session's transaction
    deltas: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for pid, qty in moves:
        deltas[pid] += qty
    conn.execute(stock_upsert(conn.dialect.name), [
        {"store_id": store_id, "product_id": pid, "on_hand": qty, "reserved": ZERO} for pid, qty in sorted(deltas.items())])
    conn.execute(_INSERT_MOVE, [{"store_id": store_id, "product_id": pid, "quantity": qty, "reason": reason,
                                 "sale_id": sale_id, "created_at": at} for pid, qty in moves])


def commit_sale(engine: Engine, place: Place, operator: OperatorInfo, cart: Cart, payment: PaymentState,
                *, at: datetime | None = None, print_receipt: bool = False, open_drawer: bool = False,
                exports: Sequence[ExportTarget] = (), reference: str = "") -> str:
    """Commit a paid cart (`reference`: the customer order it hands over, if any); returns its receipt number. Committing the same cart twice (a double Enter,
    a retry after a crash) returns the first receipt number and adds nothing. With print_receipt, the
    receipt's print job is spooled in the same transaction. Core statements, one per table: this is
    the till's hottest write."""
    if cart.is_empty:
        raise SaleError("the cart is empty")
    totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
    if totals.total != payment.total:
        raise SaleError("the cart changed while paying; take the payment again")
    if not payment.complete:
        raise SaleError(f"{payment.remaining} is still due")
    at = at or utcnow()
    try:
        return _insert_sale(engine, place, operator, cart, payment, totals, at, print_receipt, open_drawer, exports,
                            reference)
    except IntegrityError:
        # Most likely this cart was committed already (Sale.uid is unique): the whole transaction,
        # receipt number included, rolled back, and the first receipt stands.
        with engine.connect() as conn:
            existing = conn.execute(_EXISTING, {"b_uid": cart.uid}).scalar()
        if existing is None:
            raise
        return existing


def _insert_sale(engine: Engine, place: Place, operator: OperatorInfo, cart: Cart, payment: PaymentState,
                 totals, at: datetime, print_receipt: bool, open_drawer: bool,
                 exports: Sequence[ExportTarget], reference: str = "") -> str:
    with writer(engine).begin() as conn:
        receipt = next_receipt_number(conn, place)
        sale_id = conn.execute(_INSERT_SALE, {
            "uid": cart.uid, "kind": "sale", "receipt_number": receipt, "store_id": place.store_id,
            "terminal_id": place.terminal_id, "operator_id": operator.id, "member_id": cart.member_id,
            "refund_of_id": None, "authorised_by_id": None, "reason": reference, "created_at": at,
            "currency": place.currency, "prices_include_vat": place.prices_include_vat,
            "subtotal": totals.subtotal, "discount_total": totals.discount_total, "vat_total": totals.vat,
            "total": totals.total, "rounding": payment.rounding, "paid_total": payment.paid,
            "change_total": payment.change,
        }).scalar_one()
        conn.execute(_INSERT_LINE, [
            {"sale_id": sale_id, "line_no": no, "product_id": line.product_id, "sku": line.sku,
             "barcode": line.barcode, "name": line.name, "quantity": line.quantity, "unit_price": line.unit_price,
             "original_price": line.original_price, "line_discount": lt.line_discount,
             "basket_discount": lt.basket_discount, "vat_rate": line.vat_rate, "vat_amount": lt.vat,
             "total": lt.total, "refund_of_line_id": None}
            for no, (line, lt) in enumerate(zip(cart.lines, totals.lines), start=1)])
        move_stock(conn, place.store_id, [(line.product_id, -line.quantity) for line in cart.lines], "sale",
                   sale_id, at)
        conn.execute(_INSERT_PAYMENT, [
            {"sale_id": sale_id, "tender": t.tender, "amount": t.amount, "tendered": t.tendered, "change": t.change,
             "reference": t.reference} for t in payment.tenders])
        conn.execute(_DELETE_DRAFT, {"b_uid": cart.uid})
        if print_receipt:
            spool.add(conn, place.terminal_id, "receipt", receipt, open_drawer=open_drawer, at=at)
        if exports:
            outbox.enqueue(conn, exports, "sale.completed", "sale", receipt,
                           payloads.sale_completed(receipt, place, operator.code, cart, totals, payment, at), at=at)
        return receipt


# -- refunds ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RefundableLine:
    line_id: int
    line_no: int
    product_id: int
    sku: str
    name: str
    sold_qty: Decimal
    refunded_qty: Decimal
    unit_price: Decimal
    total: Decimal
    vat: Decimal
    vat_rate: Decimal
    refunded_total: Decimal
    refunded_vat: Decimal
    prices_include_vat: bool = True  # the sale's basis: exclusive lines hold their VAT beside the total

    @property
    def refundable_qty(self) -> Decimal:
        return self.sold_qty - self.refunded_qty


@dataclass(frozen=True)
class RefundableSale:
    sale_id: int
    receipt_number: str
    created_at: datetime
    currency: str
    total: Decimal
    member_id: int | None
    tenders: tuple[str, ...]
    lines: tuple[RefundableLine, ...]
    prices_include_vat: bool = True


def refundable(engine: Engine, receipt_number: str) -> RefundableSale:
    typed = receipt_number.strip()
    receipt_number = typed.upper()  # typed in lower case; a store id of lower case letters is kept below
    with read_session(engine) as s:
        sale = s.exec(select(Sale).where(Sale.receipt_number.in_({typed, receipt_number}))).first()
        if sale is None:
            raise SaleError(f"no receipt {receipt_number}")
        if sale.kind != "sale":
            raise SaleError(f"{receipt_number} is a refund; refund the original sale")
        lines = list(s.exec(select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.line_no)))
        done: dict[int, tuple[Decimal, Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO, ZERO))
        for rl in s.exec(select(SaleLine).where(SaleLine.refund_of_line_id.in_([l.id for l in lines]))):
            q, t, v = done[rl.refund_of_line_id]
            done[rl.refund_of_line_id] = (q + rl.quantity, t + rl.total, v + rl.vat_amount)
        tenders = tuple(dict.fromkeys(p.tender for p in s.exec(select(Payment).where(Payment.sale_id == sale.id))))
        return RefundableSale(
            sale.id, sale.receipt_number, sale.created_at, sale.currency, sale.total, sale.member_id, tenders,
            tuple(RefundableLine(l.id, l.line_no, l.product_id, l.sku, l.name, l.quantity, done[l.id][0],
                                 l.unit_price, l.total, l.vat_amount, l.vat_rate, done[l.id][1], done[l.id][2],
                                 sale.prices_include_vat)
                  for l in lines),
            sale.prices_include_vat,
        )


def refund_amounts(line: RefundableLine, qty: Decimal, currency: str) -> tuple[Decimal, Decimal]:
    """(money back, VAT in it) for `qty` of a sold line: its share of what was paid, discounts included
    (and, on a VAT-exclusive sale, the VAT that was added on top). The last units refunded take whatever
    is left, so a line refunded in parts returns exactly what was paid."""
    if qty == line.refundable_qty:
        total, vat = line.total - line.refunded_total, line.vat - line.refunded_vat
    else:
        total = round_money(line.total * qty / line.sold_qty, currency)
        vat = round_money(line.vat * qty / line.sold_qty, currency)
    return (total if line.prices_include_vat else total + vat), vat


def _line_total(line: RefundableLine, amounts: tuple[Decimal, Decimal]) -> Decimal:
    """A refund line's total in the sale's price basis, as the sale's own lines are kept."""
    back, vat = amounts
    return back if line.prices_include_vat else back - vat


def commit_refund(engine: Engine, place: Place, operator: OperatorInfo, approver: OperatorInfo,
                  receipt_number: str, quantities: dict[int, Decimal], payment: PaymentState,
                  *, uid: str, reason: str = "", at: datetime | None = None, print_receipt: bool = False,
                  open_drawer: bool = False, exports: Sequence[ExportTarget] = ()) -> str:
    """A refund is a new record referencing the sale; stock comes back. Returns its receipt number."""
    with write_session(engine) as s:
        existing = s.exec(select(Sale.receipt_number).where(Sale.uid == uid)).first()
        if existing:
            return existing
    original = refundable(engine, receipt_number)
    by_id = {l.line_id: l for l in original.lines}
    chosen = {lid: q for lid, q in quantities.items() if q > 0}
    if not chosen:
        raise SaleError("choose at least one line to refund")
    amounts: dict[int, tuple[Decimal, Decimal]] = {}
    for lid, qty in chosen.items():
        line = by_id.get(lid)
        if line is None:
            raise SaleError("that line is not on this receipt")
        if qty > line.refundable_qty:
            raise SaleError(f"{line.name}: only {line.refundable_qty} left to refund")
        amounts[lid] = refund_amounts(line, qty, original.currency)
    total = sum((a[0] for a in amounts.values()), round_money(ZERO, original.currency))
    if payment.total != total or not payment.complete:
        raise SaleError("the refund amount changed; tender it again")
    with write_session(engine) as s:
        # Re-check under the write lock: two tills refunding the same line at once get one refund.
        for lid, qty in chosen.items():
            already = s.exec(select(func.coalesce(func.sum(SaleLine.quantity), 0))
                             .where(SaleLine.refund_of_line_id == lid)).one()
            if Decimal(already) != by_id[lid].refunded_qty:
                raise SaleError("this receipt was refunded meanwhile; open it again")
        number = next_receipt_number(s, place)
        refund = Sale(
            uid=uid, kind="refund", receipt_number=number, store_id=place.store_id, terminal_id=place.terminal_id,
            operator_id=operator.id, member_id=original.member_id, refund_of_id=original.sale_id,
            authorised_by_id=approver.id, reason=reason, created_at=at or utcnow(), currency=original.currency,
            prices_include_vat=original.prices_include_vat,
            subtotal=sum((_line_total(by_id[lid], a) for lid, a in amounts.items()), ZERO), discount_total=ZERO,
            vat_total=sum((a[1] for a in amounts.values()), ZERO), total=total, rounding=payment.rounding,
            paid_total=payment.paid, change_total=payment.change,
        )
        s.add(refund)
        s.flush()
        for no, (lid, qty) in enumerate(chosen.items(), start=1):
            line = by_id[lid]
            line_total, vat = _line_total(line, amounts[lid]), amounts[lid][1]
            s.add(SaleLine(sale_id=refund.id, line_no=no, product_id=line.product_id, sku=line.sku, name=line.name,
                           quantity=qty, unit_price=line.unit_price, original_price=line.unit_price,
                           vat_rate=line.vat_rate, vat_amount=vat, total=line_total, refund_of_line_id=lid))
        s.flush()
        move_stock(s, place.store_id, [(by_id[lid].product_id, qty) for lid, qty in chosen.items()], "refund",
                   refund.id, refund.created_at)
        for t in payment.tenders:
            s.add(Payment(sale_id=refund.id, tender=t.tender, amount=t.amount, tendered=t.tendered,
                          change=t.change, reference=t.reference))
        audit.record(s, "refund", operator=operator.code, subject=number, store=place.store_id,
                     terminal=place.terminal_code, original=original.receipt_number, approved_by=approver.code,
                     amount=str(total), reason=reason)
        if print_receipt:
            spool.add(s, place.terminal_id, "receipt", number, open_drawer=open_drawer)
        if exports:
            lines = [{"sku": by_id[lid].sku, "name": by_id[lid].name, "quantity": f"{qty.normalize():f}",
                      "total": outbox.money(_line_total(by_id[lid], amounts[lid])),
                      "vat": outbox.money(amounts[lid][1])}
                     for lid, qty in chosen.items()]
            outbox.enqueue(s.connection(), exports, "sale.refunded", "refund", number, payloads.sale_refunded(
                number, original.receipt_number, place, operator.code, approver.code, lines, payment, total,
                refund.vat_total, refund.created_at, reason), at=refund.created_at)
        return number


# -- deposits on customer orders -------------------------------------------------------------------

def commit_deposit(engine: Engine, place: Place, operator: OperatorInfo, order_number: str, payment: PaymentState,
                   *, uid: str, at: datetime | None = None, print_receipt: bool = False,
                   open_drawer: bool = False, exports: Sequence[ExportTarget] = ()) -> str:
    """A deposit on a customer order is money into this drawer with its own receipt (kind deposit, no
    lines: the goods, their VAT and their stock leave with the pickup sale). Idempotent by uid."""
    if not payment.complete or payment.total <= 0:
        raise SaleError("the deposit is not fully tendered")
    at = at or utcnow()
    with write_session(engine) as s:
        existing = s.exec(select(Sale.receipt_number).where(Sale.uid == uid)).first()
        if existing:
            return existing
        number = next_receipt_number(s, place)
        zero = round_money(ZERO, place.currency)
        sale = Sale(uid=uid, kind="deposit", receipt_number=number, store_id=place.store_id,
                    terminal_id=place.terminal_id, operator_id=operator.id, reason=order_number, created_at=at,
                    currency=place.currency, prices_include_vat=place.prices_include_vat, subtotal=payment.total,
                    discount_total=zero, vat_total=zero, total=payment.total, rounding=payment.rounding,
                    paid_total=payment.paid, change_total=payment.change)
        s.add(sale)
        s.flush()
        for t in payment.tenders:
            s.add(Payment(sale_id=sale.id, tender=t.tender, amount=t.amount, tendered=t.tendered, change=t.change,
                          reference=t.reference))
        audit.record(s, "order.deposit_receipt", operator=operator.code, subject=number, store=place.store_id,
                     terminal=place.terminal_code, order=order_number, amount=str(payment.total))
        _enqueue_money_record(s, exports, "deposit.taken", "deposit", number, place, operator, at,
                              order=order_number, total=payment.total)
        if print_receipt:
            spool.add(s, place.terminal_id, "receipt", number, open_drawer=open_drawer, at=at)
        return number


def refund_deposit(engine: Engine, place: Place, operator: OperatorInfo, approver: OperatorInfo,
                   deposit_receipt: str, payment: PaymentState, *, uid: str, reason: str,
                   at: datetime | None = None, print_receipt: bool = False, open_drawer: bool = False,
                   exports: Sequence[ExportTarget] = ()) -> str:
    """Give a deposit back (a cancelled order): a refund record referencing the deposit's receipt."""
    at = at or utcnow()
    with write_session(engine) as s:
        existing = s.exec(select(Sale.receipt_number).where(Sale.uid == uid)).first()
        if existing:
            return existing
        deposit = s.exec(select(Sale).where(Sale.receipt_number == deposit_receipt)).first()
        if deposit is None or deposit.kind != "deposit":
            raise SaleError(f"{deposit_receipt} is not a deposit receipt")
        given = s.exec(select(func.coalesce(func.sum(Sale.total), 0)).where(Sale.refund_of_id == deposit.id)).one()
        given = Sale.__table__.c.total.type.of_aggregate(given)
        if payment.total > deposit.total - (given or ZERO):
            raise SaleError(f"only {deposit.total - (given or ZERO)} of deposit {deposit_receipt} is left to give back")
        number = next_receipt_number(s, place)
        zero = round_money(ZERO, place.currency)
        refund = Sale(uid=uid, kind="refund", receipt_number=number, store_id=place.store_id,
                      terminal_id=place.terminal_id, operator_id=operator.id, refund_of_id=deposit.id,
                      authorised_by_id=approver.id, reason=reason, created_at=at, currency=place.currency,
                      prices_include_vat=place.prices_include_vat, subtotal=payment.total, discount_total=zero,
                      vat_total=zero, total=payment.total, rounding=payment.rounding, paid_total=payment.paid,
                      change_total=payment.change)
        s.add(refund)
        s.flush()
        for t in payment.tenders:
            s.add(Payment(sale_id=refund.id, tender=t.tender, amount=t.amount, tendered=t.tendered,
                          change=t.change, reference=t.reference))
        audit.record(s, "refund", operator=operator.code, subject=number, store=place.store_id,
                     terminal=place.terminal_code, original=deposit_receipt, approved_by=approver.code,
                     amount=str(payment.total), reason=reason, order=deposit.reason)
        _enqueue_money_record(s, exports, "deposit.refunded", "refund", number, place, operator, at,
                              order=deposit.reason, total=payment.total, refund_of=deposit_receipt)
        if print_receipt:
            spool.add(s, place.terminal_id, "receipt", number, open_drawer=open_drawer, at=at)
        return number


def _enqueue_money_record(s: Session, exports: Sequence[ExportTarget], event: str, source_type: str, number: str,
                          place: Place, operator: OperatorInfo, at: datetime, *, order: str, total: Decimal,
                          refund_of: str | None = None) -> None:
    """Deposits and their refunds are receipts too: the site database copies them (connector kind site);
    other connectors take these events only if they list them."""
    if not any(t.wants(event) for t in exports):
        return
    data = {"receipt_number": number, "store": place.store_id, "terminal": place.terminal_code,
            "operator": operator.code, "order_number": order, "currency": place.currency,
            "total": outbox.money(total)}
    if refund_of:
        data["refund_of"] = refund_of
    outbox.enqueue(s.connection(), exports, event, source_type, number, outbox.envelope(event, at, data), at=at)


# -- receipts --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceiptLine:
    name: str
    sku: str
    quantity: Decimal
    unit_price: Decimal
    original_price: Decimal
    discount: Decimal
    total: Decimal
    vat_rate: Decimal


@dataclass(frozen=True)
class ReceiptPayment:
    tender: str
    amount: Decimal
    tendered: Decimal
    change: Decimal
    reference: str


@dataclass(frozen=True)
class ReceiptDoc:
    """Everything a printed receipt shows, as plain values (the layout function's input)."""

    receipt_number: str
    kind: str
    store_id: str
    store_name: str
    terminal: str
    operator: str
    created_at: datetime
    timezone: str
    currency: str
    prices_include_vat: bool
    lines: tuple[ReceiptLine, ...]
    payments: tuple[ReceiptPayment, ...]
    subtotal: Decimal
    discount_total: Decimal
    vat_total: Decimal
    total: Decimal
    rounding: Decimal
    paid_total: Decimal
    change_total: Decimal
    vat_by_rate: tuple[tuple[Decimal, Decimal, Decimal], ...] = field(default=())  # (rate, base, vat)
    member_phone: str | None = None
    refund_of: str | None = None
    order_number: str | None = None  # a deposit's or a pickup's customer order


def receipt_doc(engine: Engine, receipt_number: str) -> ReceiptDoc:
    with read_session(engine) as s:
        sale = s.exec(select(Sale).where(Sale.receipt_number == receipt_number)).first()
        if sale is None:
            raise SaleError(f"no receipt {receipt_number}")
        return _doc(s, sale)


def last_receipt_number(engine: Engine, terminal_id: int) -> str | None:
    with read_session(engine) as s:
        return s.exec(select(Sale.receipt_number).where(Sale.terminal_id == terminal_id)
                      .order_by(Sale.id.desc())).first()


def _doc(s: Session, sale: Sale) -> ReceiptDoc:
    store = s.get(Store, sale.store_id)
    terminal = s.get(Terminal, sale.terminal_id)
    operator = s.get(Operator, sale.operator_id)
    member = s.get(Member, sale.member_id) if sale.member_id else None
    original = s.get(Sale, sale.refund_of_id) if sale.refund_of_id else None
    lines = list(s.exec(select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.line_no)))
    pays = list(s.exec(select(Payment).where(Payment.sale_id == sale.id).order_by(Payment.id)))
    by_rate: dict[Decimal, list[Decimal]] = {}
    for l in lines:
        acc = by_rate.setdefault(l.vat_rate, [ZERO, ZERO])
        acc[0] += l.total - (l.vat_amount if sale.prices_include_vat else ZERO)
        acc[1] += l.vat_amount
    return ReceiptDoc(
        receipt_number=sale.receipt_number, kind=sale.kind, store_id=sale.store_id,
        store_name=store.name if store else sale.store_id, terminal=terminal.code if terminal else "",
        operator=operator.name if operator else "", created_at=sale.created_at,
        timezone=store.timezone if store else "UTC", currency=sale.currency,
        prices_include_vat=sale.prices_include_vat,
        lines=tuple(ReceiptLine(l.name, l.sku, l.quantity, l.unit_price, l.original_price,
                                l.line_discount + l.basket_discount, l.total, l.vat_rate) for l in lines),
        payments=tuple(ReceiptPayment(p.tender, p.amount, p.tendered, p.change, p.reference) for p in pays),
        subtotal=sale.subtotal, discount_total=sale.discount_total, vat_total=sale.vat_total, total=sale.total,
        rounding=sale.rounding, paid_total=sale.paid_total, change_total=sale.change_total,
        vat_by_rate=tuple((rate, base, vat) for rate, (base, vat) in sorted(by_rate.items())),
        member_phone=member.phone if member else None,
        refund_of=original.receipt_number if original else None,
        order_number=sale.reason if sale.kind in ("sale", "deposit") and sale.reason.startswith("ORD-") else None,
    )

