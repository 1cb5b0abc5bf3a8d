"""Customer orders on a real SQLite file: creating reserves, changes journal, deposits count in the
X report and print as deposits, pickups consume (partly, then the rest) with the deposit counted,
cancel releases and gives deposits back, stale copies are refused, and the list filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.devices.receipt_layout import layout_receipt
from data import orders, pickups
from data.orders import OrderConflict, OrderDetails, OrderError, OrderFilter
from data.payments import CASH, PaymentState
from data.pricing import price_cart
from data.reports import x_report
from data.sales import receipt_doc
from tests.conftest import COFFEE, GREENS, HIGHLIGHTER, MILK, WATER
from tests.order_helpers import ANONG, D, details, journal_sums, keep_lines, make_order, stock


def cash(place, amount) -> PaymentState:
    p = PaymentState(D(amount), place.currency, place.cash_rounding)
    p.apply(CASH)
    return p


def deposit(engine, place, op, order, amount, **kw):
    return pickups.take_deposit(engine, engine, place, op, order, cash(place, amount), **kw)


def pick_up(engine, place, op, order, picks, *, tender=CASH, **kw):
    """Recall `order`, hand over `picks` (line id → qty), pay what the credit leaves in `tender`."""
    products = pickups.local_products(engine, [l.sku for l in order.lines])
    cart = orders.pickup_cart(order, picks, products)
    total = price_cart(cart, currency=order.currency, prices_include_vat=order.prices_include_vat).total
    pickup = pickups.Pickup(order, picks)
    payment = pickup.payment(place.currency, place.cash_rounding, total)
    if not payment.complete:
        payment.apply(tender)
    return pickups.complete_pickup(engine, engine, place, op, pickup, cart, payment, **kw), payment


def line_of(order, code_sku):
    return next(l for l in order.lines if l.sku == code_sku)


# -- creating -------------------------------------------------------------------------------------

def test_create_reserves_each_line_and_numbers_gaplessly(engine, place):
    before = stock(engine, place, COFFEE)
    o = make_order(engine, place)
    assert o.number == f"ORD-{place.store_id}-000001" and o.status == "open" and o.version == 1
    assert o.total == D("142.25") and o.paid == 0 and o.balance == D("142.25")
    assert [(l.sku, l.quantity, l.open_qty) for l in o.lines] == [("CF-001", 2, 2), ("MK-001", 1, 1)]
    assert stock(engine, place, COFFEE) == (before[0], before[1] + 2)
    assert orders.reserved_of(engine, place.store_id, "CF-001") == 2
    assert orders.reserved_by_line(engine, o.number) == {l.id: l.quantity for l in o.lines}
    assert [(j.kind, j.sku, j.quantity, j.operator) for j in orders.journal_of(engine, o.number)] == [
        ("reserve", "CF-001", 2, "9"), ("reserve", "MK-001", 1, "9")]
    inv = orders.inventory(engine, COFFEE)  # by barcode
    assert inv.sku == "CF-001"
    st = next(s for s in inv.stores if s.store_id == place.store_id)
    assert (st.on_hand, st.reserved, st.available) == (before[0], 2, before[0] - 2)
    assert [(h.number, h.reserved, h.customer) for h in inv.holdings] == [(o.number, 2, "Anong")]
    assert make_order(engine, place).number == f"ORD-{place.store_id}-000002"


@pytest.mark.parametrize("kw, items, message", [
    (dict(customer_name="", customer_phone=""), ((COFFEE, 1),), "customer"),
    (dict(delivery_method="ship"), ((COFFEE, 1),), "address"),
    (dict(delivery_method="teleport"), ((COFFEE, 1),), "delivery method"),
    (dict(expected_date="31/12/2026"), ((COFFEE, 1),), "not a date"),
    (dict(source="fax"), ((COFFEE, 1),), "source"),
    ({}, ((COFFEE, 0),), "more than 0"),
    ({}, (), "at least one item"),
])
def test_create_refuses_bad_orders_and_reserves_nothing(engine, place, kw, items, message):
    with pytest.raises(OrderError, match=message):
        make_order(engine, place, items, **kw)
    assert journal_sums(engine) == {}
    assert orders.list_orders(engine)[1] == 0


def test_online_payment_more_than_total_rolls_back(engine, place):
    with pytest.raises(OrderError, match="more than the order total"):
        make_order(engine, place, ((WATER, 1),), online=[("PAY-1", D("8.00"))])
    assert journal_sums(engine) == {} and orders.list_orders(engine)[1] == 0
    o = make_order(engine, place, ((WATER, 1),), online=[("PAY-1", D("7.00"))], external_id="WEB-1")
    assert (o.paid, o.balance, o.credit_by_kind()["online"]) == (D("7.00"), 0, D("7.00"))
    again = make_order(engine, place, ((WATER, 5),), external_id="WEB-1")
    assert again.number == o.number and again.total == o.total, "a known external id returns the order"
    assert orders.find_by_external_id(engine, "WEB-1").number == o.number


# -- changing -------------------------------------------------------------------------------------

def test_update_up_down_add_and_remove_lines_journal(engine, place):
    o = make_order(engine, place)
    coffee_before, milk_before = stock(engine, place, COFFEE)[1], stock(engine, place, MILK)[1]
    o2 = orders.update_order(engine, o.number, o.version, "9",
                             keep_lines(o, {"CF-001": D(3), "MK-001": None}, engine, add=[(WATER, 4)]),
                             details(comments="call first"))
    assert o2.version == o.version + 1 and o2.details.comments == "call first"
    assert [(l.sku, l.quantity, l.status) for l in o2.lines] == [
        ("CF-001", 3, "open"), ("MK-001", 1, "voided"), ("WT-001", 4, "open")]
    assert o2.total == D("163.00")
    o3 = orders.update_order(engine, o2.number, o2.version, "9", keep_lines(o2, {"CF-001": D(1)}), o2.details)
    assert [(j.kind, j.sku, j.quantity, j.note) for j in orders.journal_of(engine, o.number)][2:] == [
        ("reserve", "CF-001", 1, "quantity up"), ("reserve", "WT-001", 4, "line added"),
        ("release", "MK-001", 1, "line voided"), ("release", "CF-001", 2, "quantity down")]
    assert stock(engine, place, COFFEE)[1] == coffee_before - 1
    assert stock(engine, place, MILK)[1] == milk_before - 1
    assert orders.reserved_by_line(engine, o.number) == {l.id: l.open_qty for l in o3.lines}
    assert o3.total == D("73.00")
    with pytest.raises(OrderError, match="cancel it instead"):
        orders.update_order(engine, o3.number, o3.version, "9", [], o3.details)
    with pytest.raises(OrderError, match="more than 0"):
        orders.update_order(engine, o3.number, o3.version, "9", keep_lines(o3, {"CF-001": D(0)}), o3.details)
    assert orders.get_order(engine, o.number).version == o3.version, "refused changes leave no trace"


def test_stale_version_is_refused_with_a_reason(engine, place, cashier):
    o = make_order(engine, place)
    orders.update_order(engine, o.number, o.version, "9", keep_lines(o), details(comments="x"))
    with pytest.raises(OrderConflict, match="changed meanwhile"):
        orders.update_order(engine, o.number, o.version, "9", keep_lines(o), details())
    with pytest.raises(OrderConflict, match="changed meanwhile"):
        pick_up(engine, place, cashier, o, {o.lines[0].id: D(1)})
    assert stock(engine, place, COFFEE)[1] >= 2, "nothing consumed by the refused pickup"
    assert orders.reserved_of(engine, place.store_id, "CF-001") == 2


# -- deposits -------------------------------------------------------------------------------------

def test_deposit_counts_in_the_x_report_and_prints_as_a_deposit(engine, place, cashier):
    o = make_order(engine, place)
    before = x_report(engine, place)
    receipt, view = deposit(engine, place, cashier, o, "50", uid="dep-1")
    assert (view.paid, view.credit, view.balance) == (D("50"), D("50"), D("92.25"))
    assert [(p.kind, p.amount, p.tender, p.receipt_number) for p in view.payments] == [
        ("deposit", D("50"), CASH, receipt)]
    x = x_report(engine, place)
    assert x.deposits_total == before.deposits_total + 50
    assert dict(x.tenders)[CASH] == dict(before.tenders).get(CASH, D(0)) + 50
    assert x.expected_cash == before.expected_cash + 50
    assert x.sales_count == before.sales_count, "a deposit is not a sale"
    doc = receipt_doc(engine, receipt)
    assert doc.kind == "deposit" and doc.order_number == o.number
    text = "\n".join(layout_receipt(doc, 42))
    assert "DEPOSIT" in text and f"customer order {o.number}" in text
    # A retry with the same uid adds nothing, on the till or on the order.
    again, view2 = deposit(engine, place, cashier, view, "50", uid="dep-1")
    assert again == receipt and view2.paid == D("50")
    assert x_report(engine, place).deposits_total == x.deposits_total
    with pytest.raises(OrderError, match="more than the 92.25 still to pay"):
        deposit(engine, place, cashier, view2, "100")
    with pytest.raises(OrderError, match="more than 0"):
        orders.check_deposit(view2, D(0))


# -- pickups --------------------------------------------------------------------------------------

def test_partial_pickup_then_the_rest_with_the_deposit_counted(engine, place, cashier):
    o = make_order(engine, place)
    _, o = deposit(engine, place, cashier, o, "50")
    coffee, milk = line_of(o, "CF-001"), line_of(o, "MK-001")
    on_hand, reserved = stock(engine, place, COFFEE)
    (receipt, v1), pay1 = pick_up(engine, place, cashier, o, {coffee.id: D(1)})
    assert [(t.tender, t.amount) for t in pay1.tenders] == [("deposit", D("45.00"))], "the deposit pays it all"
    assert v1.status == "partial" and v1.applied == D("45.00") and v1.credit == D("5.00")
    assert stock(engine, place, COFFEE) == (on_hand - 1, reserved - 1)
    doc = receipt_doc(engine, receipt)
    assert doc.kind == "sale" and doc.order_number == o.number and doc.total == D("45.00")
    notes = [j.note for j in orders.journal_of(engine, o.number) if j.kind == "consume"]
    assert notes == [f"picked up on {receipt}"], "note_receipt wrote the receipt number in"
    assert orders.credit_tenders(v1, D("97.25")) == [("deposit", D("5.00"))]
    (receipt2, v2), pay2 = pick_up(engine, place, cashier, v1, {coffee.id: D(1), milk.id: D(1)})
    assert [(t.tender, t.amount) for t in pay2.tenders] == [("deposit", D("5.00")), (CASH, D("92.25"))]
    assert v2.status == "delivered" and v2.balance == 0 and v2.credit == 0
    assert all(l.open_qty == 0 for l in v2.lines)
    assert orders.reserved_by_line(engine, o.number) == {coffee.id: 0, milk.id: 0}
    assert stock(engine, place, COFFEE) == (on_hand - 2, reserved - 2)
    assert receipt_doc(engine, receipt2).total == D("97.25")
    assert orders.inventory(engine, "CF-001").holdings == ()
    with pytest.raises(OrderConflict, match="delivered, cannot pick it up"):
        pick_up(engine, place, cashier, v2, {})


def test_pickup_voids_what_the_customer_no_longer_wants(engine, place, cashier):
    o = make_order(engine, place, ((COFFEE, 2), (MILK, 1), (WATER, 3)))
    coffee, milk, water = (line_of(o, s) for s in ("CF-001", "MK-001", "WT-001"))
    (_, v), _ = pick_up(engine, place, cashier, o, {coffee.id: D(1)}, voids=[milk.id])
    assert [(l.sku, l.status, l.open_qty) for l in v.lines] == [
        ("CF-001", "open", 1), ("MK-001", "voided", 0), ("WT-001", "open", 3)]
    assert v.status == "partial"
    (_, v2), _ = pick_up(engine, place, cashier, v, {water.id: D(3)}, void_rest=True)
    assert v2.status == "delivered"
    assert [(l.sku, l.status, l.quantity) for l in v2.lines] == [
        ("CF-001", "delivered", 1), ("MK-001", "voided", 1), ("WT-001", "delivered", 3)]
    assert v2.total == D("66.00")
    assert set(orders.reserved_by_line(engine, o.number).values()) == {0}
    assert journal_sums(engine)[(place.store_id, "MK-001")] == 0


def test_pickup_refuses_more_than_is_open_and_the_wrong_store(engine, place, cashier):
    o = make_order(engine, place, ((COFFEE, 1),))
    with pytest.raises(OrderError, match="only 1 left"):
        orders.pickup_cart(o, {o.lines[0].id: D(2)}, {"CF-001": 1})
    elsewhere = make_order(engine, place, ((COFFEE, 1),), fulfil_store="BKK02")
    with pytest.raises(OrderError, match="handed over at BKK02"):
        pick_up(engine, place, cashier, elsewhere, {elsewhere.lines[0].id: D(1)})
    assert orders.get_order(engine, elsewhere.number).status == "open"


def test_credit_tenders_use_online_money_first(engine, place, cashier):
    o = make_order(engine, place, online=[("PAY-9", D("30.00"))])
    _, o = deposit(engine, place, cashier, o, "20")
    assert o.credit == D("50.00")
    assert orders.credit_tenders(o, D("40")) == [("online", D("30.00")), ("deposit", D("10"))]
    assert orders.credit_tenders(o, D("500")) == [("online", D("30.00")), ("deposit", D("20"))]


def test_deliver_paid_refuses_an_unpaid_order_and_delivers_a_paid_one(engine, place, cashier):
    unpaid = make_order(engine, place, ((COFFEE, 1),))
    with pytest.raises(OrderError, match=r"not paid \(45.00 due\), not delivered"):
        pickups.deliver_paid(engine, engine, place, cashier, unpaid.number)
    assert orders.get_order(engine, unpaid.number).status == "open"
    paid = make_order(engine, place, ((COFFEE, 1), (WATER, 2)), online=[("PAY-1", D("59.00"))])
    on_hand = stock(engine, place, WATER)[0]
    receipt, view = pickups.deliver_paid(engine, engine, place, cashier, paid.number)
    assert view.status == "delivered" and view.credit == 0
    doc = receipt_doc(engine, receipt)
    assert [(p.tender, p.amount) for p in doc.payments] == [("online", D("59.00"))]
    assert stock(engine, place, WATER)[0] == on_hand - 2
    with pytest.raises(OrderError, match="delivered, not delivered"):
        pickups.deliver_paid(engine, engine, place, cashier, paid.number)


# -- cancelling -----------------------------------------------------------------------------------

def test_cancel_releases_and_deposits_are_given_back_on_the_x(engine, place, cashier, manager):
    reserved = stock(engine, place, COFFEE)[1]
    o = make_order(engine, place)
    _, o = deposit(engine, place, cashier, o, "50")
    with pytest.raises(OrderError, match="reason"):
        orders.cancel_order(engine, o.number, operator="9", reason=" ")
    x_before = x_report(engine, place)
    c = orders.cancel_order(engine, o.number, operator="9", reason="customer changed mind", approved_by="9")
    assert c.status == "cancelled" and all(l.status == "voided" for l in c.lines) and c.total == 0
    assert stock(engine, place, COFFEE)[1] == reserved
    assert [j.kind for j in orders.journal_of(engine, o.number)] == ["reserve", "reserve", "release", "release"]
    assert orders.inventory(engine, "CF-001").holdings == ()
    refunds = pickups.give_back_deposits(engine, engine, place, cashier, manager, c, reason="order cancelled")
    assert len(refunds) == 1
    after = orders.get_order(engine, o.number)
    assert after.paid == 0 and after.credit == 0
    assert [p.kind for p in after.payments] == ["deposit", "refund"]
    x = x_report(engine, place)
    assert x.refunds_count == x_before.refunds_count + 1
    assert x.refunds_total == x_before.refunds_total + 50
    assert dict(x.tenders)[CASH] == dict(x_before.tenders)[CASH] - 50
    assert x.expected_cash == x_before.expected_cash - 50
    assert receipt_doc(engine, refunds[0]).kind == "refund"
    # Twice gives nothing more back.
    assert pickups.give_back_deposits(engine, engine, place, cashier, manager, after, reason="again") == []
    with pytest.raises(OrderConflict, match="cancelled, cannot cancel it"):
        orders.cancel_order(engine, o.number, operator="9", reason="again")


def test_mark_ready_reports_per_order(engine, place, cashier):
    a, b = make_order(engine, place, ((COFFEE, 1),)), make_order(engine, place, ((WATER, 1),))
    orders.cancel_order(engine, b.number, operator="9", reason="x")
    results = orders.mark_ready(engine, [a.number, b.number, "ORD-NOPE-1", a.number], operator="9")
    assert [(r.number, r.ok) for r in results] == [(a.number, True), (b.number, False), ("ORD-NOPE-1", False),
                                                   (a.number, True)]
    assert [r.message for r in results] == ["ready for pickup", f"{b.number}: cancelled, cannot mark it ready",
                                            "no order ORD-NOPE-1", "already ready"]
    ready = orders.get_order(engine, a.number)
    assert ready.status == "ready"
    (_, v), _ = pick_up(engine, place, cashier, ready, {ready.lines[0].id: D(1)})
    assert v.status == "delivered"


def test_can_manage_by_role():
    assert orders.can_manage("manager") and orders.can_manage("supervisor")
    assert not orders.can_manage("cashier")
    assert orders.can_manage("cashier", ["cashier", "manager"])
    assert not orders.can_manage("supervisor", ["manager"])


# -- the list -------------------------------------------------------------------------------------

def test_list_orders_filters(engine, place, cashier):
    now = datetime.now(UTC)
    a = make_order(engine, place, ((COFFEE, 1),), at=now - timedelta(days=10))
    b = make_order(engine, place, ((WATER, 1),), customer_name="Boonsri", customer_phone="+66812345671",
                   fulfil_store="BKK02", at=now - timedelta(days=3))
    c = make_order(engine, place, ((MILK, 1),), customer_name="Chai Somchai", customer_phone="",
                   at=now - timedelta(days=1))
    orders.cancel_order(engine, c.number, operator="9", reason="x")
    d = make_order(engine, place, ((GREENS, 1),), customer_name="Dao", customer_phone="+66898765432", at=now)
    orders.mark_ready(engine, [d.number], operator="9")

    def numbers(query="", **kw):
        rows, count = orders.list_orders(engine, OrderFilter.parse(query), **kw)
        assert count >= len(rows)
        return [r.number for r in rows]

    assert numbers() == [d.number, c.number, b.number, a.number], "newest first"
    assert numbers("status:open") == [b.number, a.number]
    assert numbers("status:active") == [d.number, b.number, a.number]
    assert numbers("status:cancelled") == [c.number]
    assert numbers("status:all") == numbers()
    assert numbers("store:bkk02") == [b.number]
    assert numbers(f"store:{place.store_id}") == [d.number, c.number, b.number, a.number], "taken here"
    day = lambda delta: (now + timedelta(days=delta)).date().isoformat()  # noqa: E731
    assert numbers(f"from:{day(-4)} to:{day(-1)}") == [c.number, b.number]
    assert numbers(f"from:{day(-4)} to:{day(-1)} status:open") == [b.number]
    assert numbers(a.number.lower()) == [a.number]
    assert numbers("000002") == [b.number]
    assert numbers("somchai") == [c.number]
    assert numbers("boon") == [b.number]
    # Phones are stored E.164; people type them the local way.
    assert numbers("0812345670") == [a.number]
    assert numbers("081-234-5671") == [b.number]
    assert numbers("+66898765432") == [d.number]
    assert numbers("5432") == [d.number]
    assert numbers("nobody") == []
    rows, count = orders.list_orders(engine, OrderFilter(), limit=2)
    assert [r.number for r in rows] == [d.number, c.number] and count == 4
    row = rows[0]
    assert (row.status, row.customer_name, row.total, row.fulfil_store) == ("ready", "Dao", D("15.00"),
                                                                             place.store_id)


def test_filter_parse_tokens_and_errors():
    f = OrderFilter.parse("status:Open store:bkk01 from:2026-11-01 to:2026-11-30 somchai  jai", status="active")
    assert f == OrderFilter(status="open", store="BKK01", date_from=date(2026, 11, 1), date_to=date(2026, 11, 30),
                            text="somchai jai")
    assert OrderFilter.parse("", status="active").status == "active"
    with pytest.raises(OrderError, match="status 'shipped'"):
        OrderFilter.parse("status:shipped")
    with pytest.raises(OrderError, match="not a date"):
        OrderFilter.parse("from:yesterday")


def test_inventory_of_unknown_item_and_of_one_no_order_holds(engine, place):
    with pytest.raises(OrderError, match="no item NOPE"):
        orders.inventory(engine, "NOPE")
    inv = orders.inventory(engine, HIGHLIGHTER)
    assert inv.holdings == () and inv.journal == ()
    assert all(s.reserved == 0 and s.available == s.on_hand for s in inv.stores)


def test_phone_number_helper_is_e164():
    assert ANONG.startswith("+66")
    assert OrderDetails(customer_phone=ANONG).customer_phone == ANONG
