"""Customer orders meet the till: deposits, pickups and deposit refunds touch two records, the order
(in the orders database, which may be the shared site database) and the till's own sale (in this
till's database, where the drawer and the X/Z count it).

Order of writes: a pickup claims the order first (so of two tills only one hands the goods over),
then commits the sale; a deposit commits the till's receipt first (the money is in this drawer) and
then notes it on the order, idempotently by the sale's uid, so a retry after a site outage adds it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import select

from data import orders
from data.db import read_session
from data.models import Product
from data.operators import OperatorInfo
from data.orders import OrderError, OrderView
from data.outbox import ExportTarget
from data.payments import PaymentState
from data.places import Place
from data.pricing import price_cart
from data.sales import SaleError, commit_deposit, commit_sale, refund_deposit


def local_products(engine: Engine, skus: Iterable[str]) -> dict[str, int]:
    skus = sorted(set(skus))
    if not skus:
        return {}
    with read_session(engine) as s:
        return {sku: pid for sku, pid in s.exec(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all()}


@dataclass(frozen=True)
class Pickup:
    """What the sale screen holds while an order is recalled: the order as read, and its sale."""

    order: OrderView
    picks: dict[int, Decimal]

    def payment(self, currency: str, cash_unit: Decimal, total: Decimal) -> PaymentState:
        """The pickup's payment with the order's credit already tendered (deposit counted)."""
        state = PaymentState(total, currency, cash_unit)
        for tender, amount in orders.credit_tenders(self.order, total):
            state.apply(tender, amount, reference=self.order.number)
        return state


def take_deposit(local: Engine, orders_db: Engine, place: Place, operator: OperatorInfo, order: OrderView,
                 payment: PaymentState, *, uid: str | None = None, print_receipt: bool = False,
                 open_drawer: bool = False, exports: tuple[ExportTarget, ...] = ()) -> tuple[str, OrderView]:
    orders.check_deposit(order, payment.total)
    uid = uid or str(uuid.uuid4())
    receipt = commit_deposit(local, place, operator, order.number, payment, uid=uid, print_receipt=print_receipt,
                             open_drawer=open_drawer, exports=exports)
    cash = next((t.tender for t in payment.tenders), "cash")
    view = orders.record_deposit(orders_db, order.number, payment.total, tender=cash, receipt_number=receipt,
                                 uid=uid, store_id=place.store_id, operator=operator.code)
    return receipt, view


def link_deposits(local: Engine, orders_db: Engine, *, since_days: int = 30) -> int:
    """Deposits whose receipt is in this till but not yet on their order (the site database was
    offline when they were taken): note them now. Idempotent by the sale's uid; returns how many."""
    from datetime import timedelta

    from data.models import Operator, OrderPayment, Payment, Sale
    from data.types import utcnow

    since = utcnow() - timedelta(days=since_days)
    with read_session(local) as s:
        deposits = s.exec(select(Sale).where(Sale.kind == "deposit", Sale.created_at >= since)).all()
        if not deposits:
            return 0
        tenders = {p.sale_id: p.tender for p in s.exec(select(Payment).where(
            Payment.sale_id.in_([d.id for d in deposits])))}
        codes = {o.id: o.code for o in s.exec(select(Operator))}
    with read_session(orders_db) as s:
        known = set(s.exec(select(OrderPayment.uid).where(OrderPayment.uid.in_([d.uid for d in deposits]))).all())
    linked = 0
    for d in deposits:
        if d.uid in known:
            continue
        try:
            orders.record_deposit(orders_db, d.reason, d.total, tender=tenders.get(d.id, "cash"),
                                  receipt_number=d.receipt_number, uid=d.uid, store_id=d.store_id,
                                  operator=codes.get(d.operator_id, ""), at=d.created_at)
            linked += 1
        except OrderError:
            continue  # the order is gone or closed: the receipt stands; a manager refunds it
    return linked


def complete_pickup(local: Engine, orders_db: Engine, place: Place, operator: OperatorInfo, pickup: Pickup,
                    cart, payment: PaymentState, *, void_rest: bool = False, voids: Iterable[int] = (),
                    print_receipt: bool = False, open_drawer: bool = False,
                    exports: tuple[ExportTarget, ...] = ()) -> tuple[str, OrderView]:
    """Claim the order (refused if another till got there first), then commit the sale. The sale's
    receipt number is reserved by the sale's uid: the order notes the uid, the sale follows."""
    if cart.lines:  # what commit_sale would refuse, refused before the order is claimed and handed over
        total = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat).total
        if total != payment.total:
            raise SaleError("the cart changed while paying; take the payment again")
        if not payment.complete:
            raise SaleError(f"{payment.remaining} is still due")
    applied = [(t.tender, t.amount) for t in payment.tenders if t.tender in orders.CREDIT_KINDS]
    view = orders.complete_pickup(orders_db, pickup.order.number, pickup.order.version, pickup.picks,
                                  operator=operator.code, store_id=place.store_id, receipt_number=cart.uid,
                                  uid=cart.uid, applied=applied, void_rest=void_rest, voids=voids,
                                  exports=exports)
    if not cart.lines:
        return "", view  # everything left was voided: nothing handed over, nothing to sell
    receipt = commit_sale(local, place, operator, cart, payment, print_receipt=print_receipt,
                          open_drawer=open_drawer, exports=exports, reference=pickup.order.number)
    orders.note_receipt(orders_db, cart.uid, receipt)
    return receipt, view


def deliver_paid(local: Engine, orders_db: Engine, place: Place, operator: OperatorInfo, number: str, *,
                 print_receipt: bool = False, exports: tuple[ExportTarget, ...] = ()) -> tuple[str, OrderView]:
    """Mark delivered from the orders list: allowed only when the order's credit covers everything
    still open; the goods leave with a sale paid entirely from that credit."""
    order = orders.get_order(orders_db, number)
    if order.status not in orders.OPEN_STATUSES:
        raise OrderError(f"{order.number}: {order.status}, not delivered")
    if order.balance > 0:
        raise OrderError(f"{order.number}: not paid ({order.balance} due), not delivered")
    picks = {l.id: l.open_qty for l in order.open_lines}
    products = local_products(local, [l.sku for l in order.open_lines])
    cart = orders.pickup_cart(order, picks, products)
    # Priced as this till sells (as a pickup at the till is), whatever basis the order was taken on.
    total = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat).total
    pickup = Pickup(order, picks)
    payment = pickup.payment(place.currency, place.cash_rounding, total)
    if not payment.complete:
        raise OrderError(f"{order.number}: not paid ({payment.remaining} due), not delivered")
    try:
        return complete_pickup(local, orders_db, place, operator, pickup, cart, payment,
                               print_receipt=print_receipt, exports=exports)
    except SaleError as exc:
        raise OrderError(f"{order.number}: {exc}") from None


def give_back_deposits(local: Engine, orders_db: Engine, place: Place, operator: OperatorInfo,
                       approver: OperatorInfo, order: OrderView, *, reason: str,
                       print_receipt: bool = False, exports: tuple[ExportTarget, ...] = ()) -> list[str]:
    """After a cancel: each deposit taken at this store's tills goes back in its own tender as a
    refund of its receipt. Deposits taken at other stores are refunded there (listed, not touched)."""
    done = []
    left = order.credit_by_kind().get("deposit", Decimal(0))
    for p in order.payments:
        if p.kind != "deposit" or left <= 0:
            continue
        amount = min(p.amount, left)
        state = PaymentState(amount, place.currency, Decimal("0.01"))
        state.apply(p.tender if p.tender != "cash" else "cash", amount)
        uid = f"refund:{p.receipt_number}"
        try:
            number = refund_deposit(local, place, operator, approver, p.receipt_number, state, uid=uid, reason=reason,
                                    print_receipt=print_receipt, open_drawer=p.tender == "cash", exports=exports)
        except SaleError:
            continue  # not a receipt of this till's database: the store that took it gives it back
        orders.record_deposit_refund(orders_db, order.number, amount, tender=p.tender, receipt_number=number,
                                     uid=uid, store_id=place.store_id, operator=operator.code)
        left -= amount
        done.append(number)
    return done
