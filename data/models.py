"""SQLModel tables. Committed sales are never edited: voids and refunds are new rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from data.types import JSONText, Money, Quantity, Rate, UTCDateTime, utcnow


def _now_field(**kw: Any):
    return Field(default_factory=utcnow, sa_type=UTCDateTime(), **kw)


class Store(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)
    name: str
    currency: str = Field(default="THB", max_length=3)
    locale: str = "th_TH"
    timezone: str = "Asia/Bangkok"
    prices_include_vat: bool = True
    cash_rounding: Decimal = Field(default=Decimal("0.01"), sa_type=Money())
    created_at: datetime = _now_field()


class Terminal(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("store_id", "code"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    store_id: str = Field(foreign_key="store.id", index=True)
    code: str = Field(max_length=16)


class ReceiptSeries(SQLModel, table=True):
    """Next receipt number per terminal; bumped inside the sale's own transaction, so gapless."""

    __tablename__ = "receipt_series"
    terminal_id: int = Field(foreign_key="terminal.id", primary_key=True)
    next_number: int = 1
    next_z: int = 1  # Z reports are numbered without gaps too


class Operator(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=16)
    name: str
    role: str = Field(default="cashier", max_length=16)  # cashier | supervisor | manager
    pin_hash: str
    discount_limit_pct: Decimal = Field(default=Decimal("10"), sa_type=Rate())
    failed_attempts: int = 0
    locked_until: Optional[datetime] = Field(default=None, sa_type=UTCDateTime())
    active: bool = True
    permissions: list = Field(default_factory=list, sa_column=Column(JSONText(), nullable=False, default=list))
    """Grants beyond the role, e.g. "manage_orders" (manage customer orders)."""
    updated_at: datetime = _now_field()
    """Bumped on every change at the site: tills pull operators changed since their last pull."""


class Product(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    sku: str = Field(unique=True, max_length=64)
    name: str
    name_en: str = ""
    price: Decimal = Field(sa_type=Money())
    vat_rate: Decimal = Field(default=Decimal("7"), sa_type=Rate())
    active: bool = True
    external_ids: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False, default=dict))
    # name, English name, sku and barcodes in one string: what product search matches on.
    search_text: str = ""
    updated_at: datetime = _now_field(index=True)


class Barcode(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    product_id: int = Field(foreign_key="product.id", index=True)


class Member(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    phone: str = Field(unique=True, max_length=20)  # E.164
    name: str = ""
    created_at: datetime = _now_field()


class Sale(SQLModel, table=True):
    """A completed sale or a refund (kind), with the totals the receipt printed."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uid: str = Field(unique=True, max_length=36)
    kind: str = Field(default="sale", max_length=8)  # sale | refund
    receipt_number: str = Field(unique=True, max_length=48)
    store_id: str = Field(foreign_key="store.id", index=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    operator_id: int = Field(foreign_key="operator.id")
    member_id: Optional[int] = Field(default=None, foreign_key="member.id")
    refund_of_id: Optional[int] = Field(default=None, foreign_key="sale.id", index=True)
    authorised_by_id: Optional[int] = Field(default=None, foreign_key="operator.id")
    reason: str = ""
    created_at: datetime = _now_field(index=True)
    currency: str = Field(max_length=3)
    prices_include_vat: bool = True
    subtotal: Decimal = Field(sa_type=Money())
    discount_total: Decimal = Field(sa_type=Money())
    vat_total: Decimal = Field(sa_type=Money())
    total: Decimal = Field(sa_type=Money())
    rounding: Decimal = Field(default=Decimal(0), sa_type=Money())
    paid_total: Decimal = Field(sa_type=Money())
    change_total: Decimal = Field(default=Decimal(0), sa_type=Money())


class SaleLine(SQLModel, table=True):
    __tablename__ = "sale_line"
    id: Optional[int] = Field(default=None, primary_key=True)
    sale_id: int = Field(foreign_key="sale.id", index=True)
    line_no: int
    product_id: int = Field(foreign_key="product.id", index=True)
    sku: str
    barcode: Optional[str] = None
    name: str
    quantity: Decimal = Field(sa_type=Quantity())
    unit_price: Decimal = Field(sa_type=Money())
    original_price: Decimal = Field(sa_type=Money())
    line_discount: Decimal = Field(default=Decimal(0), sa_type=Money())
    basket_discount: Decimal = Field(default=Decimal(0), sa_type=Money())
    vat_rate: Decimal = Field(sa_type=Rate())
    vat_amount: Decimal = Field(sa_type=Money())
    total: Decimal = Field(sa_type=Money())
    refund_of_line_id: Optional[int] = Field(default=None, foreign_key="sale_line.id", index=True)


class Payment(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    sale_id: int = Field(foreign_key="sale.id", index=True)
    tender: str = Field(max_length=32)
    amount: Decimal = Field(sa_type=Money())  # what counts against the sale
    tendered: Decimal = Field(sa_type=Money())  # what was handed over (cash)
    change: Decimal = Field(default=Decimal(0), sa_type=Money())
    reference: str = ""


class CartDraft(SQLModel, table=True):
    """The open cart (saved on every change) and parked carts; they survive a restart."""

    __tablename__ = "cart_draft"
    id: Optional[int] = Field(default=None, primary_key=True)
    uid: str = Field(unique=True, max_length=36)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    operator_id: Optional[int] = Field(default=None, foreign_key="operator.id")
    status: str = Field(default="open", max_length=8, index=True)  # open | parked
    label: str = ""
    data: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class StockLevel(SQLModel, table=True):
    __tablename__ = "stock_level"
    store_id: str = Field(foreign_key="store.id", primary_key=True)
    product_id: int = Field(foreign_key="product.id", primary_key=True)
    on_hand: Decimal = Field(default=Decimal(0), sa_type=Quantity())
    reserved: Decimal = Field(default=Decimal(0), sa_type=Quantity())


class StockMove(SQLModel, table=True):
    __tablename__ = "stock_move"
    id: Optional[int] = Field(default=None, primary_key=True)
    store_id: str = Field(foreign_key="store.id", index=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    quantity: Decimal = Field(sa_type=Quantity())  # signed: negative leaves the shelf
    reason: str = Field(max_length=16)  # sale | refund | adjust
    sale_id: Optional[int] = Field(default=None, foreign_key="sale.id", index=True)
    created_at: datetime = _now_field()


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = _now_field(index=True)
    store_id: Optional[str] = None
    terminal: Optional[str] = None
    operator_code: Optional[str] = None
    action: str = Field(max_length=32, index=True)
    subject: str = ""
    detail: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))


class PrintJob(SQLModel, table=True):
    """The print spool. A sale's receipt job is written in the sale's own transaction, so a printer
    that is off, out of paper or unplugged delays the paper, never the sale, and loses nothing."""

    __tablename__ = "print_job"
    id: Optional[int] = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    kind: str = Field(max_length=16)  # receipt | copy | test
    reference: str = Field(default="", max_length=48)  # the receipt number
    open_drawer: bool = False
    status: str = Field(default="pending", max_length=8, index=True)  # pending | printed
    attempts: int = 0
    last_error: str = ""
    created_at: datetime = _now_field()
    printed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime())


class Shift(SQLModel, table=True):
    """A terminal's cash drawer in one operator's hands, from the counted float to the day close."""

    id: Optional[int] = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    operator_id: int = Field(foreign_key="operator.id")
    opened_at: datetime = _now_field()
    closed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime())
    status: str = Field(default="open", max_length=8, index=True)  # open | closed


class CashMovement(SQLModel, table=True):
    """Cash into or out of the drawer that is not a sale: float, cash in, cash out, safe drop."""

    __tablename__ = "cash_movement"
    id: Optional[int] = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    shift_id: Optional[int] = Field(default=None, foreign_key="shift.id", index=True)
    kind: str = Field(max_length=12)  # float | cash_in | cash_out | safe_drop
    amount: Decimal = Field(sa_type=Money())  # signed: positive goes into the drawer
    counts: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))
    reason: str = ""
    operator_id: int = Field(foreign_key="operator.id")
    approved_by_id: Optional[int] = Field(default=None, foreign_key="operator.id")
    at: datetime = _now_field(index=True)


class DayClose(SQLModel, table=True):
    """A Z report: numbered without gaps per terminal, kept as printed (report holds every figure)."""

    __tablename__ = "day_close"
    __table_args__ = (UniqueConstraint("terminal_id", "z_number", name="uq_day_close_terminal_z"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    z_number: int
    business_date: str = Field(max_length=10, index=True)
    opened_at: datetime = Field(sa_type=UTCDateTime())
    closed_at: datetime = _now_field()
    last_sale_id: int = 0  # the Z covers sales after the previous Z's last_sale_id up to this one
    last_movement_id: int = 0
    counted_cash: Decimal = Field(sa_type=Money())
    expected_cash: Decimal = Field(sa_type=Money())
    variance: Decimal = Field(sa_type=Money())
    counts: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))
    operator_id: int = Field(foreign_key="operator.id")
    approved_by_id: Optional[int] = Field(default=None, foreign_key="operator.id")
    reason: str = ""
    report: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))


class SyncState(SQLModel, table=True):
    """What this till last pulled from the site database (catalogue watermark and the like)."""

    __tablename__ = "sync_state"
    name: str = Field(primary_key=True, max_length=64)
    value: str = ""
    updated_at: datetime = _now_field()


class TillStatus(SQLModel, table=True):
    """At the site: what each till last said of its outbox, per connector (the back office's view of
    every till's integration health). Written by the site connector about once a minute."""

    __tablename__ = "till_status"
    store_id: str = Field(primary_key=True, max_length=32)
    terminal: str = Field(primary_key=True, max_length=16)
    connector: str = Field(primary_key=True, max_length=64)
    kind: str = Field(default="", max_length=16)
    waiting: int = 0
    failed: int = 0  # dead, blocked or uncertain: someone has to look
    oldest_waiting: Optional[datetime] = Field(default=None, sa_type=UTCDateTime())
    last_error: str = ""
    reported_at: datetime = _now_field()


class DomainEvent(SQLModel, table=True):
    """Facts other parts pick up (the exports outbox): written in the transaction that made them true."""

    __tablename__ = "domain_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)  # day.closed
    reference: str = Field(default="", max_length=64)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))
    created_at: datetime = _now_field()


class ExportPayload(SQLModel, table=True):
    """What an event sends, written once and shared by the jobs of every connector that takes it: a
    sale with three connectors writes its ~1 KB body once, not three times (migration 0007)."""

    __tablename__ = "export_payload"
    id: Optional[int] = Field(default=None, primary_key=True)
    body: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))


class ExportJob(SQLModel, table=True):
    """The outbox: one row per (connector, event, source, revision), written in the transaction of the
    sale, refund or day close it exports. Rows change state; they are never deleted."""

    __tablename__ = "export_job"
    # Keyed by source and led by state so that one sale's jobs for several connectors share index
    # pages (migration 0007): the idempotency key is made of these four, so it stays unique.
    __table_args__ = (UniqueConstraint("source_id", "event", "revision", "connector", name="uq_export_job_source"),
                      Index("ix_export_job_due", "state", "next_attempt_at", "connector"))
    id: Optional[int] = Field(default=None, primary_key=True)
    connector: str = Field(max_length=64)
    kind: str = Field(max_length=48)  # webhook | file_drop
    event: str = Field(max_length=32)  # sale.completed | sale.refunded | day.closed
    source_type: str = Field(max_length=16)  # sale | refund | day
    source_id: str = Field(max_length=64)
    revision: int = 1
    idempotency_key: str = Field(max_length=200)
    business_date: Optional[str] = Field(default=None, max_length=10)
    payload_id: int = Field(foreign_key="export_payload.id")
    state: str = Field(default="pending", max_length=12)
    attempt_count: int = 0
    max_attempts: int = 12
    next_attempt_at: datetime = _now_field()
    lease_owner: Optional[str] = Field(default=None, max_length=64)
    lease_expires_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime())
    last_error: str = ""
    last_status: Optional[int] = None
    remote_id: str = ""
    resolution: str = ""
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()
    succeeded_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime())


class ExportAttempt(SQLModel, table=True):
    """Every delivery attempt, recorded before the request leaves (so a crash leaves evidence)."""

    __tablename__ = "export_attempt"
    id: Optional[int] = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="export_job.id", index=True)
    attempt_no: int
    started_at: datetime = _now_field()
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime())
    outcome: str = Field(default="started", max_length=16)
    status_code: Optional[int] = None
    response_body: str = ""
    error: str = ""
    request_headers: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))


class ConnectorState(SQLModel, table=True):
    """A connector paused by hand or by its receiver (HTTP 410), kept across restarts."""

    __tablename__ = "connector_state"
    name: str = Field(primary_key=True, max_length=64)
    paused: bool = False
    reason: str = ""
    updated_at: datetime = _now_field()


# -- customer orders ---------------------------------------------------------------------------------
# These tables live in the till's database, or in the shared site database when `[site] url` is set,
# so they refer to stores, products and operators by code (sku, store id, operator code), not by
# foreign key: the same rows must make sense to every store's till.

class OrderSeries(SQLModel, table=True):
    """Next customer-order number per store; bumped in the order's own transaction, so gapless."""

    __tablename__ = "order_series"
    store_id: str = Field(primary_key=True, max_length=32)
    next_number: int = 1


class CustomerOrder(SQLModel, table=True):
    """A customer order (LS One style): lines reserved at the fulfilling store until picked up."""

    __tablename__ = "customer_order"
    id: Optional[int] = Field(default=None, primary_key=True)
    number: str = Field(unique=True, max_length=48)
    store_id: str = Field(max_length=32, index=True)  # where it was taken
    fulfil_store: str = Field(max_length=32, index=True)  # where the stock is reserved and handed over
    status: str = Field(default="open", max_length=10, index=True)  # open | ready | partial | delivered | cancelled
    source: str = Field(default="till", max_length=12)  # till | phone | ecommerce
    external_id: Optional[str] = Field(default=None, unique=True, max_length=64)
    customer_name: str = ""
    customer_phone: str = Field(default="", max_length=20, index=True)  # E.164 when it parses
    member_phone: Optional[str] = Field(default=None, max_length=20)
    delivery_method: str = Field(default="pickup", max_length=10)  # pickup | deliver | ship
    delivery_address: str = ""
    expected_date: Optional[str] = Field(default=None, max_length=10)
    comments: str = ""
    currency: str = Field(max_length=3)
    prices_include_vat: bool = True
    basket_discount: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))
    total: Decimal = Field(sa_type=Money())  # of the lines still on the order (picked ones included)
    paid: Decimal = Field(default=Decimal(0), sa_type=Money())  # deposits and online payments, net of refunds
    applied: Decimal = Field(default=Decimal(0), sa_type=Money())  # of `paid`, what pickups have used
    version: int = 1  # bumped on every change: a pickup or edit on a stale copy is refused
    created_by: str = Field(default="", max_length=16)
    created_at: datetime = _now_field(index=True)
    updated_at: datetime = _now_field()
    closed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime())


class CustomerOrderLine(SQLModel, table=True):
    __tablename__ = "customer_order_line"
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="customer_order.id", index=True)
    line_no: int
    sku: str = Field(max_length=64)
    barcode: Optional[str] = None
    name: str
    quantity: Decimal = Field(sa_type=Quantity())  # ordered (as changed since)
    picked: Decimal = Field(default=Decimal(0), sa_type=Quantity())  # handed over so far
    status: str = Field(default="open", max_length=10)  # open | delivered | voided
    unit_price: Decimal = Field(sa_type=Money())
    original_price: Decimal = Field(sa_type=Money())
    vat_rate: Decimal = Field(sa_type=Rate())
    discount: dict = Field(default_factory=dict, sa_column=Column(JSONText(), nullable=False))


class OrderPayment(SQLModel, table=True):
    """Money on an order: a deposit taken at a till (its receipt), a payment taken online, a pickup
    using it up, or a deposit given back."""

    __tablename__ = "order_payment"
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="customer_order.id", index=True)
    uid: str = Field(unique=True, max_length=64)  # the till sale's uid: recording it twice is a no-op
    kind: str = Field(max_length=10)  # deposit | online | applied | refund
    amount: Decimal = Field(sa_type=Money())
    tender: str = Field(default="", max_length=32)
    receipt_number: str = Field(default="", max_length=48)
    store_id: str = Field(default="", max_length=32)
    operator: str = Field(default="", max_length=16)
    at: datetime = _now_field()


class ReservationEntry(SQLModel, table=True):
    """The reservation journal: reserved stock of an item at a store is the sum of these rows."""

    __tablename__ = "reservation_entry"
    __table_args__ = (Index("ix_reservation_entry_store_sku", "store_id", "sku"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="customer_order.id", index=True)
    line_id: int = Field(foreign_key="customer_order_line.id", index=True)
    store_id: str = Field(max_length=32)
    sku: str = Field(max_length=64)
    kind: str = Field(max_length=8)  # reserve | release | consume
    quantity: Decimal = Field(sa_type=Quantity())  # positive; the kind gives the sign
    operator: str = Field(default="", max_length=16)
    at: datetime = _now_field()
    note: str = ""
