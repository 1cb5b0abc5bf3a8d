"""Customer orders and their stock reservation journal.

An order's lines reserve stock at the fulfilling store; every change to a reservation is a journal
row (reserve, release, consume), and what is reserved is the sum of those rows, nothing else. The
order may live in this till's database or in the shared site database: rows refer to stores,
products and operators by code, and every change bumps the order's version so that a till working
on a stale copy (two tills picking up the same order) is refused with the reason.

Money on an order (deposits taken at a till, payments taken online) is `paid`; pickups use it up
(`applied`). The till's own sale and deposit records live in the till's database (data.sales), so
they count in the drawer and the X/Z reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from data import audit, outbox
from data.cart import Cart, CartLine, Discount, _discount, _discount_dict
from data.db import dialect_insert, read_session, write_session
from data.models import (
    CustomerOrder,
    CustomerOrderLine,
    OrderPayment,
    OrderSeries,
    Product,
    ReservationEntry,
    StockLevel,
    Store,
)
from data.money import ZERO, round_money
from data.pricing import price_cart
from data.types import utcnow

STATUSES = ("open", "ready", "partial", "delivered", "cancelled")
OPEN_STATUSES = ("open", "ready", "partial")  # still holding stock
DELIVERY_METHODS = ("pickup", "deliver", "ship")
SOURCES = ("till", "phone", "ecommerce")
CREDIT_KINDS = ("deposit", "online")  # order money a pickup can use
MANAGE_DEFAULT = ("supervisor", "manager")


class OrderError(ValueError):
    pass


class OrderConflict(OrderError):
    """The order changed since it was read (another till picked it up, cancelled it, …)."""


def format_order_number(store_id: str, number: int) -> str:
    return f"ORD-{store_id}-{number:06d}"


def can_manage(role: str, manage_roles: Iterable[str] = MANAGE_DEFAULT, permissions: Iterable[str] = ()) -> bool:
    """Create, change and cancel need the "manage customer orders" right: a role in `[orders]
    manage_roles`, or the operator's own "manage_orders" permission. Pickup needs neither."""
    return role in set(manage_roles) or "manage_orders" in set(permissions)


# -- plain views ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderDetails:
    customer_name: str = ""
    customer_phone: str = ""
    member_phone: str | None = None
    delivery_method: str = "pickup"
    fulfil_store: str = ""  # empty = the store taking the order
    delivery_address: str = ""
    source: str = "till"
    expected_date: str | None = None  # ISO date
    comments: str = ""

    def check(self) -> None:
        if not (self.customer_name.strip() or self.customer_phone.strip()):
            raise OrderError("an order needs a customer: a name or a phone")
        if self.delivery_method not in DELIVERY_METHODS:
            raise OrderError(f"delivery method {self.delivery_method!r}: use one of {', '.join(DELIVERY_METHODS)}")
        if self.delivery_method in ("deliver", "ship") and not self.delivery_address.strip():
            raise OrderError(f"{self.delivery_method}: an address is needed")
        if self.source not in SOURCES:
            raise OrderError(f"source {self.source!r}: use one of {', '.join(SOURCES)}")
        if self.expected_date:
            try:
                date.fromisoformat(self.expected_date)
            except ValueError:
                raise OrderError(f"expected date {self.expected_date!r} is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class OrderLineView:
    id: int
    line_no: int
    sku: str
    barcode: str | None
    name: str
    quantity: Decimal
    picked: Decimal
    status: str
    unit_price: Decimal
    original_price: Decimal
    vat_rate: Decimal
    discount: Discount

    @property
    def open_qty(self) -> Decimal:
        return ZERO if self.status == "voided" else self.quantity - self.picked


@dataclass(frozen=True)
class PaymentView:
    kind: str
    amount: Decimal
    tender: str
    receipt_number: str
    at: datetime


@dataclass(frozen=True)
class JournalView:
    at: datetime
    kind: str
    sku: str
    quantity: Decimal
    store_id: str
    operator: str
    note: str


@dataclass(frozen=True)
class OrderView:
    id: int
    number: str
    status: str
    store_id: str
    fulfil_store: str
    source: str
    external_id: str | None
    details: OrderDetails
    currency: str
    prices_include_vat: bool
    basket_discount: Discount
    total: Decimal
    paid: Decimal
    applied: Decimal
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    lines: tuple[OrderLineView, ...]
    payments: tuple[PaymentView, ...] = ()

    @property
    def credit(self) -> Decimal:
        """Money paid on the order that no pickup has used yet."""
        return self.paid - self.applied

    @property
    def open_lines(self) -> tuple[OrderLineView, ...]:
        return tuple(l for l in self.lines if l.open_qty > 0)

    @property
    def balance(self) -> Decimal:
        """What is still to pay for everything not yet handed over."""
        return max(self.open_value() - self.credit, ZERO)

    def open_value(self) -> Decimal:
        lines = self.open_lines
        if not lines:
            return round_money(ZERO, self.currency)
        return pickup_totals(self, {l.id: l.open_qty for l in lines}).total

    def credit_by_kind(self) -> dict[str, Decimal]:
        left = {k: ZERO for k in CREDIT_KINDS}
        for p in self.payments:
            if p.kind in CREDIT_KINDS:
                left[p.kind] += p.amount
            elif p.kind == "refund":
                left["deposit"] -= p.amount
            elif p.kind == "applied":
                left[p.tender if p.tender in left else "deposit"] -= p.amount
        return left


@dataclass(frozen=True)
class OrderRow:
    """One row of the orders list: no lines, cheap to read ten thousand of."""

    id: int
    number: str
    status: str
    store_id: str
    fulfil_store: str
    customer_name: str
    customer_phone: str
    created_at: datetime
    expected_date: str | None
    total: Decimal
    paid: Decimal
    applied: Decimal
    source: str


@dataclass(frozen=True)
class ActionResult:
    number: str
    ok: bool
    message: str


# -- reading -------------------------------------------------------------------------------------

def _line_view(l: CustomerOrderLine) -> OrderLineView:
    return OrderLineView(l.id, l.line_no, l.sku, l.barcode, l.name, l.quantity, l.picked, l.status, l.unit_price,
                         l.original_price, l.vat_rate, _discount(l.discount))


def _view(s: Session, o: CustomerOrder) -> OrderView:
    lines = s.exec(select(CustomerOrderLine).where(CustomerOrderLine.order_id == o.id)
                   .order_by(CustomerOrderLine.line_no)).all()
    pays = s.exec(select(OrderPayment).where(OrderPayment.order_id == o.id).order_by(OrderPayment.id)).all()
    details = OrderDetails(o.customer_name, o.customer_phone, o.member_phone, o.delivery_method, o.fulfil_store,
                           o.delivery_address, o.source, o.expected_date, o.comments)
    return OrderView(o.id, o.number, o.status, o.store_id, o.fulfil_store, o.source, o.external_id, details,
                     o.currency, o.prices_include_vat, _discount(o.basket_discount), o.total, o.paid, o.applied,
                     o.version, o.created_by, o.created_at, o.updated_at, tuple(_line_view(l) for l in lines),
                     tuple(PaymentView(p.kind, p.amount, p.tender, p.receipt_number, p.at) for p in pays))


def _by_number(s: Session, number: str) -> CustomerOrder:
    o = s.exec(select(CustomerOrder).where(CustomerOrder.number == number.strip().upper())).first()
    if o is None:
        raise OrderError(f"no order {number.strip()}")
    return o


def get_order(engine: Engine, number: str) -> OrderView:
    with read_session(engine) as s:
        return _view(s, _by_number(s, number))


def find_by_external_id(engine: Engine, external_id: str) -> OrderView | None:
    with read_session(engine) as s:
        o = s.exec(select(CustomerOrder).where(CustomerOrder.external_id == external_id)).first()
        return _view(s, o) if o else None


_DATE_TOKEN = re.compile(r"^(status|store|from|to):(\S+)$", re.I)


@dataclass(frozen=True)
class OrderFilter:
    status: str | None = None  # one of STATUSES, or "active" for open + ready + partial
    store: str | None = None  # fulfilling or taking store
    date_from: date | None = None  # created, store-local dates handled by the caller as UTC bounds
    date_to: date | None = None
    text: str = ""

    @classmethod
    def parse(cls, query: str, **defaults) -> OrderFilter:
        """`status:open store:BKK01 from:2026-11-01 to:2026-11-30 somchai` — tokens and free text."""
        values: dict = dict(defaults)
        words = []
        for word in query.split():
            m = _DATE_TOKEN.match(word)
            if not m:
                words.append(word)
                continue
            key, value = m.group(1).lower(), m.group(2)
            if key == "status":
                if value.lower() not in STATUSES + ("active", "all"):
                    raise OrderError(f"status {value!r}: use one of {', '.join(STATUSES)}, active or all")
                values["status"] = None if value.lower() == "all" else value.lower()
            elif key == "store":
                values["store"] = value.upper()
            else:
                try:
                    values["date_from" if key == "from" else "date_to"] = date.fromisoformat(value)
                except ValueError:
                    raise OrderError(f"{key}: {value!r} is not a date (YYYY-MM-DD)") from None
        values["text"] = " ".join(words)
        return cls(**values)


def list_orders(engine: Engine, flt: OrderFilter = OrderFilter(), *, limit: int = 200,
                tz: str = "UTC") -> tuple[list[OrderRow], int]:
    """Newest first, at most `limit` rows, and how many match in all."""
    from zoneinfo import ZoneInfo

    c = CustomerOrder
    where = []
    if flt.status == "active":
        where.append(c.status.in_(OPEN_STATUSES))
    elif flt.status:
        where.append(c.status == flt.status)
    if flt.store:
        where.append(or_(c.fulfil_store == flt.store, c.store_id == flt.store))
    zone = ZoneInfo(tz)
    if flt.date_from:
        where.append(c.created_at >= datetime.combine(flt.date_from, datetime.min.time(), zone))
    if flt.date_to:
        where.append(c.created_at < datetime.combine(flt.date_to + timedelta(days=1), datetime.min.time(), zone))
    text = flt.text.strip()
    if text:
        like = f"%{text}%"
        digits = re.sub(r"\D", "", text)
        conds = [c.number.ilike(like), c.customer_name.ilike(like)]
        if c.external_id is not None:
            conds.append(c.external_id.ilike(like))
        if len(digits) >= 3:
            # Phones are stored E.164 (+66812345678); people type 0812345678: match on the tail.
            conds.append(c.customer_phone.like(f"%{digits[1:] if digits.startswith('0') else digits}%"))
        where.append(or_(*conds))
    cols = (c.id, c.number, c.status, c.store_id, c.fulfil_store, c.customer_name, c.customer_phone, c.created_at,
            c.expected_date, c.total, c.paid, c.applied, c.source)
    with read_session(engine) as s:
        q = select(*cols).where(and_(*where)) if where else select(*cols)
        rows = [OrderRow(*r) for r in s.exec(q.order_by(c.id.desc()).limit(limit)).all()]
        if len(rows) < limit:
            count = len(rows)
        else:
            cq = select(func.count()).select_from(c)
            count = s.exec(cq.where(and_(*where)) if where else cq).one()
    return rows, count


# -- stock ---------------------------------------------------------------------------------------

_SIGN = {"reserve": 1, "release": -1, "consume": -1}


def _journal(s: Session, order: CustomerOrder, line: CustomerOrderLine, kind: str, qty: Decimal, operator: str,
             at: datetime, note: str = "") -> None:
    """One journal row, and the stock level's reserved figure moved by the same amount in the same
    transaction (the journal is the truth; stock_level.reserved is its running sum)."""
    if qty <= 0:
        return
    s.add(ReservationEntry(order_id=order.id, line_id=line.id, store_id=order.fulfil_store, sku=line.sku, kind=kind,
                           quantity=qty, operator=operator, at=at, note=note))
    product_id = s.exec(select(Product.id).where(Product.sku == line.sku)).first()
    if product_id is None or s.get(Store, order.fulfil_store) is None:
        return  # an item or store this database does not stock: the journal alone holds it
    # On-hand stock leaves with the till's pickup sale (data.sales); here only the reservation moves,
    # by this entry's amount in the database itself: tills reserving the same item at once on the
    # site database each add their own (a value read and written back would lose the others').
    delta = _SIGN[kind] * qty
    table = StockLevel.__table__
    where = (table.c.store_id == order.fulfil_store, table.c.product_id == product_id)
    conn = s.connection()
    if conn.execute(update(table).where(*where).values(reserved=table.c.reserved + delta)).rowcount:
        return
    # The item's first stock row here starts from its whole journal at the store (this entry and any
    # made while this database did not know the item or the store yet).
    s.flush()
    start = s.exec(select(func.coalesce(_signed_sum(), 0)).where(
        ReservationEntry.store_id == order.fulfil_store, ReservationEntry.sku == line.sku)).one()
    upsert = dialect_insert(conn.dialect.name)
    conn.execute(upsert(table).values(store_id=order.fulfil_store, product_id=product_id, on_hand=ZERO,
                                      reserved=_qty(start))
                 .on_conflict_do_update(index_elements=[table.c.store_id, table.c.product_id],
                                        set_={"reserved": table.c.reserved + delta}))


def reserved_of(engine: Engine, store_id: str, sku: str) -> Decimal:
    signed = _signed_sum()
    with read_session(engine) as s:
        value = s.exec(select(func.coalesce(signed, 0)).where(ReservationEntry.store_id == store_id,
                                                              ReservationEntry.sku == sku)).one()
    return _qty(value)


def _kind_sign():
    from sqlalchemy import case

    return case((ReservationEntry.kind == "reserve", 1), else_=-1)


def _signed_sum():
    """Σ of the journal's signed quantities, read back as item quantities. Arithmetic on the scaled
    column loses its type: SQLite then returns the scaled integer and PostgreSQL a numeric of it
    (which looked like an already read quantity, 1000 times too large); typed, both are read alike."""
    from sqlalchemy import type_coerce

    return type_coerce(func.sum(ReservationEntry.quantity * _kind_sign()), ReservationEntry.__table__.c.quantity.type)


_qty = ReservationEntry.__table__.c.quantity.type.of_aggregate


@dataclass(frozen=True)
class StoreStock:
    store_id: str
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Holding:
    number: str
    status: str
    store_id: str
    customer: str
    reserved: Decimal
    expected_date: str | None


@dataclass(frozen=True)
class Inventory:
    sku: str
    name: str
    stores: tuple[StoreStock, ...]
    holdings: tuple[Holding, ...]
    journal: tuple[JournalView, ...] = field(default=())


def inventory(engine: Engine, code: str, *, journal_rows: int = 50) -> Inventory:
    """On hand, reserved and available per store for one item, the open orders holding it, and the
    latest journal rows. Reserved is summed from the journal (one indexed scan per item)."""
    from data.catalog import lookup

    with read_session(engine) as s:
        product = s.exec(select(Product).where(Product.sku == code.strip())).first()
    if product is None:
        info = lookup(engine, code.strip())
        if info is None:
            raise OrderError(f"no item {code.strip()}")
        sku, name, pid = info.sku, info.name, info.id
    else:
        sku, name, pid = product.sku, product.name, product.id
    with read_session(engine) as s:
        on_hand = {st: q for st, q in s.exec(select(StockLevel.store_id, StockLevel.on_hand)
                                             .where(StockLevel.product_id == pid)).all()}
        reserved = {st: _qty(q) for st, q in s.exec(
            select(ReservationEntry.store_id, _signed_sum())
            .where(ReservationEntry.sku == sku).group_by(ReservationEntry.store_id)).all()}
        held = s.exec(
            select(CustomerOrder.number, CustomerOrder.status, CustomerOrder.fulfil_store, CustomerOrder.customer_name,
                   _signed_sum(), CustomerOrder.expected_date)
            .join(CustomerOrder, CustomerOrder.id == ReservationEntry.order_id)
            .where(ReservationEntry.sku == sku, CustomerOrder.status.in_(OPEN_STATUSES))
            .group_by(CustomerOrder.number, CustomerOrder.status, CustomerOrder.fulfil_store,
                      CustomerOrder.customer_name, CustomerOrder.expected_date)
            .order_by(CustomerOrder.number)).all()
        latest = s.exec(select(ReservationEntry).where(ReservationEntry.sku == sku)
                        .order_by(ReservationEntry.id.desc()).limit(journal_rows)).all()
    stores = sorted(set(on_hand) | set(reserved))
    return Inventory(
        sku, name,
        tuple(StoreStock(st, on_hand.get(st, ZERO), reserved.get(st, ZERO)) for st in stores),
        tuple(Holding(n, stt, st, cust, _qty(q), exp) for n, stt, st, cust, q, exp in held if _qty(q) > 0),
        tuple(JournalView(j.at, j.kind, j.sku, j.quantity, j.store_id, j.operator, j.note) for j in latest),
    )


# -- exports -------------------------------------------------------------------------------------

def _emit(s: Session, exports: Sequence, event: str, order: CustomerOrder, at: datetime) -> None:
    """order.created / order.updated into the outbox of the database that holds the order (this
    till's, or the site's), in the order's own transaction. Each change is its own export (the
    source carries the order's version), so a receiver sees every revision once."""
    if not exports:
        return
    s.flush()
    lines = s.exec(select(CustomerOrderLine).where(CustomerOrderLine.order_id == order.id)
                   .order_by(CustomerOrderLine.line_no)).all()
    money = outbox.money
    data = {
        "order_number": order.number, "version": order.version, "status": order.status, "store": order.store_id,
        "fulfil_store": order.fulfil_store, "source": order.source, "external_id": order.external_id,
        "customer": {"name": order.customer_name, "phone": order.customer_phone},
        "member_phone": order.member_phone,
        "delivery": {"method": order.delivery_method, "address": order.delivery_address,
                     "expected_date": order.expected_date},
        "comments": order.comments, "currency": order.currency,
        "lines": [{"sku": l.sku, "name": l.name, "quantity": f"{l.quantity.normalize():f}",
                   "picked": f"{l.picked.normalize():f}", "unit_price": money(l.unit_price), "status": l.status}
                  for l in lines],
        "totals": {"total": money(order.total), "paid": money(order.paid), "applied": money(order.applied)},
    }
    source = order.number if event == "order.created" else f"{order.number}:v{order.version}"
    outbox.enqueue(s.connection(), exports, event, "order", source, outbox.envelope(event, at, data), at=at)


# -- creating and changing -----------------------------------------------------------------------

@dataclass(frozen=True)
class NewLine:
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    original_price: Decimal | None = None
    barcode: str | None = None
    discount: Discount = field(default_factory=Discount)
    line_id: int | None = None  # an existing order line being changed

    @classmethod
    def from_cart(cls, line: CartLine, line_id: int | None = None) -> NewLine:
        return cls(line.sku, line.name, line.quantity, line.unit_price, line.vat_rate, line.original_price,
                   line.barcode, line.discount, line_id)


def _total(lines: Sequence[CustomerOrderLine], basket: Discount, currency: str, incl: bool) -> Decimal:
    cart = Cart(lines=[CartLine(str(i), 0, l.sku, l.name, l.quantity, l.unit_price, l.original_price, l.vat_rate,
                                l.barcode, _discount(l.discount))
                       for i, l in enumerate(lines) if l.status != "voided" and l.quantity > 0],
                basket_discount=basket)
    if not cart.lines:
        return round_money(ZERO, currency)
    return price_cart(cart, currency=currency, prices_include_vat=incl).total


def _next_number(s: Session, store_id: str) -> str:
    """The store's next order number, taken in the order's own transaction (gapless: a rollback
    gives it back). A store's first order makes its series row; two tills doing that at once on
    PostgreSQL both insert it "if not there", then take numbers one after the other."""
    conn = s.connection()
    table = OrderSeries.__table__
    bump = (update(table).where(table.c.store_id == store_id)
            .values(next_number=table.c.next_number + 1).returning(table.c.next_number))
    got = conn.execute(bump).scalar()
    if got is None:
        upsert = dialect_insert(conn.dialect.name)
        conn.execute(upsert(table).values(store_id=store_id, next_number=1).on_conflict_do_nothing())
        got = conn.execute(bump).scalar()
    return format_order_number(store_id, got - 1)


def create_order(engine: Engine, store_id: str, operator: str, lines: Sequence[NewLine], details: OrderDetails, *,
                 currency: str, prices_include_vat: bool, basket_discount: Discount = Discount(),
                 external_id: str | None = None, online_payments: Sequence[tuple[str, Decimal]] = (),
                 at: datetime | None = None, exports: Sequence = ()) -> OrderView:
    """A new order; each line reserves its quantity at the fulfilling store. `online_payments` are
    (reference, amount) taken before the order reached us (an e-commerce checkout)."""
    details.check()
    if not lines:
        raise OrderError("an order needs at least one item")
    for l in lines:
        if l.quantity <= 0:
            raise OrderError(f"{l.name}: quantity must be more than 0")
    at = at or utcnow()
    with write_session(engine) as s:
        if external_id:
            existing = s.exec(select(CustomerOrder).where(CustomerOrder.external_id == external_id)).first()
            if existing is not None:
                return _view(s, existing)
        order = CustomerOrder(
            number=_next_number(s, store_id), store_id=store_id, fulfil_store=details.fulfil_store or store_id,
            status="open", source=details.source, external_id=external_id, customer_name=details.customer_name.strip(),
            customer_phone=details.customer_phone.strip(), member_phone=details.member_phone,
            delivery_method=details.delivery_method, delivery_address=details.delivery_address.strip(),
            expected_date=details.expected_date or None, comments=details.comments.strip(), currency=currency,
            prices_include_vat=prices_include_vat, basket_discount=_discount_dict(basket_discount), total=ZERO,
            created_by=operator, created_at=at, updated_at=at)
        s.add(order)
        s.flush()
        rows = []
        for no, l in enumerate(lines, start=1):
            row = CustomerOrderLine(order_id=order.id, line_no=no, sku=l.sku, barcode=l.barcode, name=l.name,
                                    quantity=l.quantity, unit_price=l.unit_price,
                                    original_price=l.original_price if l.original_price is not None else l.unit_price,
                                    vat_rate=l.vat_rate, discount=_discount_dict(l.discount))
            s.add(row)
            rows.append(row)
        s.flush()
        for row in rows:
            _journal(s, order, row, "reserve", row.quantity, operator, at)
        order.total = _total(rows, basket_discount, currency, prices_include_vat)
        paid = ZERO
        for ref, amount in online_payments:
            if amount <= 0:
                raise OrderError("an online payment must be more than 0")
            s.add(OrderPayment(order_id=order.id, uid=f"online:{external_id or order.number}:{ref}", kind="online",
                               amount=amount, tender="online", receipt_number=ref, store_id=store_id,
                               operator=operator, at=at))
            paid += amount
        if paid > order.total:
            raise OrderError(f"paid online {paid} is more than the order total {order.total}")
        order.paid = paid
        audit.record(s, "order.create", operator=operator, subject=order.number, store=store_id,
                     total=str(order.total), lines=len(rows), source=details.source, external_id=external_id)
        _emit(s, exports, "order.created", order, at)
        s.flush()
        return _view(s, order)


def _claim(s: Session, number: str, version: int | None, allowed: Sequence[str], what: str) -> CustomerOrder:
    """Bump the version first: on PostgreSQL the UPDATE takes the row lock, so of two tills acting on
    the same order at once exactly one passes; the other sees the new version and is told why."""
    o = _by_number(s, number)
    if version is not None and o.version != version:  # read before another till changed it
        raise OrderConflict(f"{o.number} was changed meanwhile ({o.status}, by another till); open it again")
    if o.status not in allowed:
        raise OrderConflict(f"{o.number}: {o.status}, cannot {what}")
    table = CustomerOrder.__table__
    cond = [table.c.id == o.id, table.c.status.in_(list(allowed))]
    if version is not None:
        cond.append(table.c.version == version)
    res = s.connection().execute(update(table).where(*cond).values(version=table.c.version + 1))
    if res.rowcount != 1:
        s.expire(o)
        fresh = s.get(CustomerOrder, o.id)
        raise OrderConflict(f"{o.number} was changed meanwhile ({fresh.status}, by another till); open it again")
    s.refresh(o)
    return o


def update_order(engine: Engine, number: str, version: int, operator: str, lines: Sequence[NewLine],
                 details: OrderDetails, *, basket_discount: Discount | None = None,
                 at: datetime | None = None, exports: Sequence = ()) -> OrderView:
    """Change an open order: `lines` is the whole new list (existing lines carry line_id). Lines left
    out are voided (their reservation released); quantities up or down reserve or release the
    difference; new lines reserve."""
    details.check()
    at = at or utcnow()
    with write_session(engine) as s:
        order = _claim(s, number, version, ("open", "ready", "partial"), "change it")
        current = {l.id: l for l in s.exec(select(CustomerOrderLine).where(CustomerOrderLine.order_id == order.id))}
        kept: set[int] = set()
        next_no = max((l.line_no for l in current.values()), default=0) + 1
        for l in lines:
            if l.quantity <= 0:
                raise OrderError(f"{l.name}: quantity must be more than 0 (void the line instead)")
            if l.line_id is not None and l.line_id in current:
                row = current[l.line_id]
                kept.add(row.id)
                if row.status == "voided":
                    continue
                if l.quantity < row.picked:
                    raise OrderError(f"{row.name}: {row.picked} already picked up; the quantity cannot be less")
                diff = l.quantity - row.quantity
                if diff > 0:
                    _journal(s, order, row, "reserve", diff, operator, at, "quantity up")
                elif diff < 0:
                    _journal(s, order, row, "release", -diff, operator, at, "quantity down")
                row.quantity = l.quantity
                row.unit_price, row.discount = l.unit_price, _discount_dict(l.discount)
                row.status = "delivered" if row.picked >= row.quantity else "open"
                s.add(row)
            else:
                row = CustomerOrderLine(order_id=order.id, line_no=next_no, sku=l.sku, barcode=l.barcode, name=l.name,
                                        quantity=l.quantity, unit_price=l.unit_price,
                                        original_price=l.original_price if l.original_price is not None else l.unit_price,
                                        vat_rate=l.vat_rate, discount=_discount_dict(l.discount))
                next_no += 1
                s.add(row)
                s.flush()
                current[row.id] = row
                kept.add(row.id)
                _journal(s, order, row, "reserve", row.quantity, operator, at, "line added")
        for lid, row in current.items():
            if lid not in kept and row.status == "open":
                _void_line(s, order, row, operator, at)
        if not any(r.status != "voided" for r in current.values()):
            raise OrderError("an order needs at least one item; cancel it instead")
        order.customer_name, order.customer_phone = details.customer_name.strip(), details.customer_phone.strip()
        order.member_phone = details.member_phone
        order.delivery_method, order.delivery_address = details.delivery_method, details.delivery_address.strip()
        order.expected_date, order.comments = details.expected_date or None, details.comments.strip()
        if basket_discount is not None:
            order.basket_discount = _discount_dict(basket_discount)
        order.total = _total(list(current.values()), _discount(order.basket_discount), order.currency,
                             order.prices_include_vat)
        order.updated_at = at
        _settle_status(order, current.values())
        s.add(order)
        audit.record(s, "order.update", operator=operator, subject=order.number, store=order.store_id,
                     total=str(order.total))
        _emit(s, exports, "order.updated", order, at)
        s.flush()
        return _view(s, order)


def _void_line(s: Session, order: CustomerOrder, row: CustomerOrderLine, operator: str, at: datetime,
               note: str = "line voided") -> None:
    open_qty = row.quantity - row.picked
    _journal(s, order, row, "release", open_qty, operator, at, note)
    if row.picked > 0:
        row.quantity = row.picked  # what was handed over stays; the rest is gone
        row.status = "delivered"
    else:
        row.status = "voided"
    s.add(row)


def _settle_status(order: CustomerOrder, rows: Iterable[CustomerOrderLine]) -> None:
    rows = [r for r in rows if r.status != "voided"]
    if rows and all(r.picked >= r.quantity for r in rows):
        order.status, order.closed_at = "delivered", order.updated_at
    elif any(r.picked > 0 for r in rows):
        order.status = "partial"


def record_deposit(engine: Engine, number: str, amount: Decimal, *, tender: str, receipt_number: str, uid: str,
                   store_id: str, operator: str, at: datetime | None = None) -> OrderView:
    """Note a deposit taken at a till (its receipt is already committed there). Idempotent by uid."""
    if amount <= 0:
        raise OrderError("a deposit must be more than 0")
    at = at or utcnow()
    with write_session(engine) as s:
        if s.exec(select(OrderPayment.id).where(OrderPayment.uid == uid)).first() is not None:
            return _view(s, _by_number(s, number))
        order = _claim(s, number, None, OPEN_STATUSES, "take a deposit")
        s.add(OrderPayment(order_id=order.id, uid=uid, kind="deposit", amount=amount, tender=tender,
                           receipt_number=receipt_number, store_id=store_id, operator=operator, at=at))
        order.paid += amount
        order.updated_at = at
        s.add(order)
        audit.record(s, "order.deposit", operator=operator, subject=order.number, store=store_id,
                     amount=str(amount), receipt=receipt_number)
        s.flush()
        return _view(s, order)


def check_deposit(order: OrderView, amount: Decimal) -> None:
    if amount <= 0:
        raise OrderError("a deposit must be more than 0")
    if amount > order.balance:
        raise OrderError(f"a deposit of {amount} is more than the {order.balance} still to pay")


# -- pickup --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PickupTotals:
    total: Decimal
    basket_amount: Decimal


def pickup_totals(order: OrderView, picks: dict[int, Decimal]) -> PickupTotals:
    cart = pickup_cart(order, picks, {l.sku: 0 for l in order.lines})
    if not cart.lines:
        return PickupTotals(round_money(ZERO, order.currency), ZERO)
    totals = price_cart(cart, currency=order.currency, prices_include_vat=order.prices_include_vat)
    return PickupTotals(totals.total, totals.basket_discount)


def pickup_cart(order: OrderView, picks: dict[int, Decimal], product_ids: dict[str, int]) -> Cart:
    """The sale that hands `picks` (line id → quantity) over, at the order's prices and discounts.
    A basket discount in percent applies as it is; an amount is shared by the value picked now
    (rounded per pickup, so parts of one order may differ from its total by a satang or so)."""
    by_id = {l.id: l for l in order.lines}
    lines = []
    for lid, qty in picks.items():
        line = by_id.get(lid)
        if line is None:
            raise OrderError("that line is not on this order")
        if qty <= 0:
            continue
        if qty > line.open_qty:
            raise OrderError(f"{line.name}: only {line.open_qty} left to pick up")
        if line.sku not in product_ids:
            raise OrderError(f"{line.sku} ({line.name}) is not in this till's catalogue")
        # A line discount in amount is shared by quantity picked.
        disc = line.discount
        if disc.percent is None and disc.amount and qty != line.quantity:
            disc = Discount(amount=round_money(disc.amount * qty / line.quantity, order.currency))
        lines.append(CartLine(f"o{lid}", product_ids[line.sku], line.sku, line.name, qty, line.unit_price,
                              line.original_price, line.vat_rate, line.barcode, disc))
    basket = order.basket_discount
    if basket.percent is None and basket.amount:
        everything = {l.id: l.quantity for l in order.lines if l.status != "voided"}
        if picks != everything:
            share = Cart(lines=lines)
            value = price_cart(share, currency=order.currency, prices_include_vat=order.prices_include_vat).total \
                if lines else ZERO
            full = _full_value(order)
            basket = Discount(amount=round_money(basket.amount * value / full, order.currency) if full else ZERO)
    return Cart(lines=lines, member_phone=order.details.member_phone, basket_discount=basket)


def _full_value(order: OrderView) -> Decimal:
    cart = Cart(lines=[CartLine(str(l.id), 0, l.sku, l.name, l.quantity, l.unit_price, l.original_price, l.vat_rate,
                                l.barcode, l.discount) for l in order.lines if l.status != "voided"])
    if not cart.lines:
        return ZERO
    return price_cart(cart, currency=order.currency, prices_include_vat=order.prices_include_vat).total


def credit_tenders(order: OrderView, amount: Decimal) -> list[tuple[str, Decimal]]:
    """How much of the order's credit a pickup of `amount` uses, split by where it came from (online
    first: it never was in this drawer)."""
    left = order.credit_by_kind()
    use = min(amount, max(order.credit, ZERO))
    out = []
    for kind in ("online", "deposit"):
        part = min(use, max(left.get(kind, ZERO), ZERO))
        if part > 0:
            out.append((kind, part))
            use -= part
    return out


def complete_pickup(engine: Engine, number: str, version: int, picks: dict[int, Decimal], *, operator: str,
                    store_id: str, receipt_number: str, uid: str, applied: Sequence[tuple[str, Decimal]] = (),
                    void_rest: bool = False, voids: Iterable[int] = (), at: datetime | None = None,
                    exports: Sequence = ()) -> OrderView:
    """Hand over `picks`: consume their reservations, note the credit used, void what the customer no
    longer wants (releasing it). Refused if the order changed since `version` was read."""
    at = at or utcnow()
    voids = set(voids)
    with write_session(engine) as s:
        order = _claim(s, number, version, OPEN_STATUSES, "pick it up")
        rows = {l.id: l for l in s.exec(select(CustomerOrderLine).where(CustomerOrderLine.order_id == order.id))}
        if order.fulfil_store != store_id:
            raise OrderError(f"{order.number} is handed over at {order.fulfil_store}, not here ({store_id})")
        for lid, qty in picks.items():
            row = rows.get(lid)
            if row is None:
                raise OrderError("that line is not on this order")
            if qty <= 0:
                continue
            if row.status != "open" or qty > row.quantity - row.picked:
                raise OrderConflict(f"{order.number}: {row.name} was picked up meanwhile; open the order again")
            _journal(s, order, row, "consume", qty, operator, at, f"picked up on {receipt_number}")
            row.picked += qty
            if row.picked >= row.quantity:
                row.status = "delivered"
            s.add(row)
        for lid, row in rows.items():
            if row.status == "open" and (lid in voids or void_rest):
                _void_line(s, order, row, operator, at)
        for tender, amount in applied:
            if amount > 0:
                s.add(OrderPayment(order_id=order.id, uid=f"{uid}:{tender}", kind="applied", amount=amount,
                                   tender=tender, receipt_number=receipt_number, store_id=store_id, operator=operator,
                                   at=at))
                order.applied += amount
        order.total = _total(list(rows.values()), _discount(order.basket_discount), order.currency,
                             order.prices_include_vat)
        order.updated_at = at
        _settle_status(order, rows.values())
        if all(r.status == "voided" for r in rows.values()):
            order.status, order.closed_at = "cancelled", at
        s.add(order)
        audit.record(s, "order.pickup", operator=operator, subject=order.number, store=store_id,
                     receipt=receipt_number, lines=len([q for q in picks.values() if q > 0]), status=order.status)
        _emit(s, exports, "order.updated", order, at)
        s.flush()
        return _view(s, order)


# -- list actions --------------------------------------------------------------------------------

def mark_ready(engine: Engine, numbers: Sequence[str], *, operator: str, exports: Sequence = ()) -> list[ActionResult]:
    """Ready for pickup, one transaction per order; each change is an order.updated (so a shop can
    tell its customer)."""
    out = []
    for number in numbers:
        try:
            with write_session(engine) as s:
                found = _by_number(s, number)
                if found.status == "ready":  # nothing changes: no new version, no event
                    out.append(ActionResult(found.number, True, "already ready"))
                    continue
                order = _claim(s, number, None, ("open", "partial"), "mark it ready")
                at = utcnow()
                order.status, order.updated_at = "ready", at
                s.add(order)
                audit.record(s, "order.ready", operator=operator, subject=order.number, store=order.store_id)
                _emit(s, exports, "order.updated", order, at)
            out.append(ActionResult(order.number, True, "ready for pickup"))
        except OrderError as exc:
            out.append(ActionResult(number, False, str(exc)))
    return out


def cancel_order(engine: Engine, number: str, *, operator: str, reason: str, approved_by: str | None = None,
                 at: datetime | None = None, exports: Sequence = ()) -> OrderView:
    """Release every open reservation. Deposits taken at a till are given back as refunds of their
    receipts (data.sales / the till); this records them once given (record_deposit_refund)."""
    if not reason.strip():
        raise OrderError("give a reason to cancel")
    at = at or utcnow()
    with write_session(engine) as s:
        order = _claim(s, number, None, OPEN_STATUSES, "cancel it")
        for row in s.exec(select(CustomerOrderLine).where(CustomerOrderLine.order_id == order.id)):
            if row.status == "open":  # a part already handed over stays on it, delivered
                _void_line(s, order, row, operator, at, "order cancelled")
        order.status, order.updated_at, order.closed_at = "cancelled", at, at
        order.total = _total(list(s.exec(select(CustomerOrderLine).where(CustomerOrderLine.order_id == order.id))),
                             _discount(order.basket_discount), order.currency, order.prices_include_vat)
        s.add(order)
        audit.record(s, "order.cancel", operator=operator, subject=order.number, store=order.store_id,
                     reason=reason.strip(), approved_by=approved_by, paid=str(order.paid - order.applied))
        _emit(s, exports, "order.updated", order, at)
        s.flush()
        return _view(s, order)


def record_deposit_refund(engine: Engine, number: str, amount: Decimal, *, tender: str, receipt_number: str,
                          uid: str, store_id: str, operator: str, at: datetime | None = None) -> OrderView:
    at = at or utcnow()
    with write_session(engine) as s:
        order = _by_number(s, number)
        if s.exec(select(OrderPayment.id).where(OrderPayment.uid == uid)).first() is None:
            if amount > order.paid - order.applied:
                raise OrderError(f"only {order.paid - order.applied} of deposits is left on {order.number}")
            s.add(OrderPayment(order_id=order.id, uid=uid, kind="refund", amount=amount, tender=tender,
                               receipt_number=receipt_number, store_id=store_id, operator=operator, at=at))
            order.paid -= amount
            order.updated_at = at
            order.version += 1
            s.add(order)
            audit.record(s, "order.deposit_refund", operator=operator, subject=order.number, store=store_id,
                         amount=str(amount), receipt=receipt_number)
            s.flush()
        return _view(s, order)


def note_receipt(engine: Engine, uid: str, receipt_number: str) -> None:
    """A pickup claims the order before its sale has a receipt number; this writes the number in."""
    with write_session(engine) as s:
        for p in s.exec(select(OrderPayment).where(OrderPayment.uid.like(f"{uid}:%"))):
            p.receipt_number = receipt_number
            s.add(p)
        for j in s.exec(select(ReservationEntry).where(ReservationEntry.note == f"picked up on {uid}")):
            j.note = f"picked up on {receipt_number}"
            s.add(j)


def picking_doc(order: OrderView, store_name: str, timezone: str):
    """The picking list of what is still to hand over."""
    from data.documents import PickingLine, PickingListDoc

    d = order.details
    how = {"pickup": f"pick up at {order.fulfil_store}", "deliver": "deliver", "ship": "ship"}[d.delivery_method]
    if d.delivery_address:
        how += f", {d.delivery_address}"
    return PickingListDoc(
        order_number=order.number, store_name=store_name, customer=d.customer_name, phone=d.customer_phone,
        delivery=how, expected=date.fromisoformat(d.expected_date) if d.expected_date else None,
        created_at=order.created_at, timezone=timezone,
        lines=tuple(PickingLine(l.sku, l.name, l.open_qty, l.barcode) for l in order.open_lines),
        comments=d.comments)


def journal_of(engine: Engine, number: str) -> list[JournalView]:
    with read_session(engine) as s:
        order = _by_number(s, number)
        return [JournalView(j.at, j.kind, j.sku, j.quantity, j.store_id, j.operator, j.note)
                for j in s.exec(select(ReservationEntry).where(ReservationEntry.order_id == order.id)
                                .order_by(ReservationEntry.id))]


def reserved_by_line(engine: Engine, number: str) -> dict[int, Decimal]:
    """Σ journal per line of one order (what the invariant tests compare with open quantities)."""
    with read_session(engine) as s:
        order = _by_number(s, number)
        return {lid: _qty(q) for lid, q in s.exec(
            select(ReservationEntry.line_id, _signed_sum())
            .where(ReservationEntry.order_id == order.id).group_by(ReservationEntry.line_id)).all()}
