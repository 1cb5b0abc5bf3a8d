"""X and Z reports on a real SQLite file: figures that add up whatever was sold, refunded and moved
(property test), the day close (gapless Z numbers, business day and cutoff, the blind count and its
tolerance, the day.closed event, reprints), receipt-number gaps, cash movements and counts, and
`till report x|z` as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, text
from sqlmodel import Session, select

from app.config import Settings, load_settings
from app.devices.receipt_layout import layout_report
from app.tui import place_from_settings
from data.cart import Cart
from data.cash import CashError, count_total, record_movement
from data.db import make_engine
from data.models import (
    CashMovement,
    DayClose,
    DomainEvent,
    Product,
    ReceiptSeries,
    Shift,
)
from data.money import ZERO, round_money
from data.operators import by_code
from data.payments import CARD, CASH, PaymentState
from data.pricing import price_cart
from data.reports import (
    VarianceNeedsApproval,
    business_date,
    close_day,
    report_from_json,
    report_json,
    x_report,
    z_report,
)
from data.sales import commit_refund, commit_sale, refund_amounts, refundable
from tests import carts
from tests.conftest import COFFEE, DEMO_TOML, GREENS, HIGHLIGHTER, MILK, WATER

D = Decimal
ROOT = Path(__file__).parents[1]
BKK = ZoneInfo("Asia/Bangkok")
TOLERANCE = D("20")  # Settings().cash.variance_tolerance, the demo store's too


def receipt(n: int) -> str:
    return f"BKK01-T1-{n:06d}"


def sell(engine, place, cashier, items=((COFFEE, 1),), tender: str = CASH, at: datetime | None = None) -> str:
    cart, payment = carts.paid_cart(engine, place, items, tender)
    return commit_sale(engine, place, cashier, cart, payment, at=at)


def count_rows(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def next_z(engine, place) -> int:
    with Session(engine) as s:
        return s.get(ReceiptSeries, place.terminal_id).next_z


# -- property: the figures add up ---------------------------------------------------------------------

@contextmanager
def fresh_till(template: Path):
    """A private copy of the seeded demo database per hypothesis example (fixtures are per test)."""
    with tempfile.TemporaryDirectory(prefix="till-reports-") as folder:
        home = Path(folder)
        (home / "till.toml").write_text(DEMO_TOML, encoding="utf-8")
        shutil.copy(template, home / "till.db")
        settings = load_settings(home)
        engine = make_engine(settings.database_url)
        try:
            yield engine, place_from_settings(settings, engine)
        finally:
            engine.dispose()


@dataclass
class Period:
    """What the report since the last Z must show, kept independently of data.reports."""

    sales_count: int = 0
    refunds_count: int = 0
    sales_total: Decimal = ZERO
    refunds_total: Decimal = ZERO
    sales_rounding: Decimal = ZERO
    refunds_rounding: Decimal = ZERO
    sales_vat: Decimal = ZERO
    refunds_vat: Decimal = ZERO
    line_totals: Decimal = ZERO  # sale lines minus refund lines
    tenders: dict[str, Decimal] = field(default_factory=dict)  # signed: refunds negative
    moves: dict[str, Decimal] = field(default_factory=dict)  # signed by kind
    receipts: list[str] = field(default_factory=list)

    def pay(self, payment: PaymentState, sign: int) -> None:
        for t in payment.tenders:
            self.tenders[t.tender] = self.tenders.get(t.tender, ZERO) + sign * t.amount

    @property
    def expected_cash(self) -> Decimal:
        return self.tenders.get(CASH, ZERO) + sum(self.moves.values(), ZERO)


def assert_figures(doc, period: Period) -> None:
    assert doc.sales_count == period.sales_count
    assert doc.refunds_count == period.refunds_count
    assert doc.sales_total == period.sales_total
    assert doc.refunds_total == period.refunds_total
    assert doc.rounding_total == period.sales_rounding - period.refunds_rounding
    tendered = sum((v for _, v in doc.tenders), ZERO)
    assert tendered == doc.sales_total + doc.rounding_total - doc.refunds_total
    assert {t: v for t, v in doc.tenders if v != 0} == {t: v for t, v in period.tenders.items() if v != 0}
    assert dict(doc.cash_movements) == period.moves
    assert doc.expected_cash == period.expected_cash
    # Prices include VAT: each line's base plus its VAT is the line total.
    assert sum((base + vat for _, base, vat in doc.vat), ZERO) == period.line_totals
    assert sum((vat for _, _, vat in doc.vat), ZERO) == period.sales_vat - period.refunds_vat
    assert doc.receipt_gaps == ()
    assert doc.first_receipt == (period.receipts[0] if period.receipts else None)
    assert doc.last_receipt == (period.receipts[-1] if period.receipts else None)
    assert doc.discounts_total == 0


line_picks = st.lists(st.tuples(st.integers(0, 9), st.integers(1, 3)), min_size=1, max_size=4)
tenders = st.sampled_from(["cash", "card", "card_then_cash", "cash_then_card", "cash_with_change"])
sale_op = st.tuples(st.just("sale"), line_picks, tenders, st.integers(1, 99))
refund_op = st.tuples(st.just("refund"), st.integers(0, 10_000), st.lists(st.integers(0, 3), min_size=1, max_size=4),
                      st.sampled_from([CASH, CARD]))
move_op = st.tuples(st.just("move"), st.sampled_from(["float", "cash_in", "cash_out", "safe_drop"]),
                    st.integers(1, 40_000).map(lambda n: D(n) / 4))
z_op = st.tuples(st.just("z"))
operations = st.lists(st.one_of(sale_op, sale_op, refund_op, move_op, z_op), min_size=1, max_size=12)


def pay_sale(total: Decimal, place, how: str, pct: int) -> PaymentState:
    payment = PaymentState(total, place.currency, place.cash_rounding)
    part = max(D("0.01"), min(total - D("0.01"), round_money(total * pct / 100, place.currency)))
    if how == "card":
        payment.apply(CARD)
    elif how == "card_then_cash" and total > D("0.01"):
        payment.apply(CARD, part)
        payment.apply(CASH)
    elif how == "cash_then_card" and total > D("0.01"):
        payment.apply(CASH, part)
        payment.apply(CARD)
    elif how == "cash_with_change":
        payment.apply(CASH, payment.cash_due() + D(pct))
    else:
        payment.apply(CASH)
    assert payment.complete
    return payment


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_report_figures_add_up(demo_template, ops):
    with fresh_till(demo_template) as (engine, place):
        cashier, manager = by_code(engine, "1"), by_code(engine, "9")
        with engine.connect() as conn:
            products = conn.execute(select(Product.id, Product.sku, Product.name, Product.price, Product.vat_rate)
                                    .where(Product.id <= 10).order_by(Product.id)).all()
        period = Period()
        sold: list[str] = []
        numbers: list[str] = []
        z_count = 0
        for n, op in enumerate(ops):
            if op[0] == "sale":
                _, picks, how, pct = op
                cart = Cart(uid=f"prop-sale-{n}")
                for index, qty in picks:
                    pid, sku, name, price, vat = products[index]
                    cart.add(product_id=pid, sku=sku, name=name, price=price, vat_rate=vat, quantity=D(qty))
                totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
                payment = pay_sale(totals.total, place, how, pct)
                number = commit_sale(engine, place, cashier, cart, payment)
                sold.append(number)
                period.sales_count += 1
                period.sales_total += totals.total
                period.sales_rounding += payment.rounding
                period.sales_vat += totals.vat
                period.line_totals += sum((lt.total for lt in totals.lines), ZERO)
                period.pay(payment, +1)
            elif op[0] == "refund":
                _, which, qty_picks, tender = op
                if not sold:
                    continue
                original = refundable(engine, sold[which % len(sold)])
                quantities = {}
                for i, line in enumerate(original.lines):
                    q = min(D(qty_picks[i % len(qty_picks)]), line.refundable_qty)
                    if q > 0:
                        quantities[line.line_id] = q
                if not quantities:
                    left = [line for line in original.lines if line.refundable_qty > 0]
                    if not left:
                        continue
                    quantities[left[0].line_id] = left[0].refundable_qty
                by_id = {line.line_id: line for line in original.lines}
                amounts = [refund_amounts(by_id[lid], q, original.currency) for lid, q in quantities.items()]
                total = sum((a for a, _ in amounts), round_money(ZERO, place.currency))
                payment = PaymentState(total, place.currency, place.cash_rounding)
                payment.apply(tender)
                number = commit_refund(engine, place, cashier, manager, original.receipt_number, quantities, payment,
                                       uid=f"prop-refund-{n}", reason="customer changed their mind")
                period.refunds_count += 1
                period.refunds_total += total
                period.refunds_rounding += payment.rounding
                period.refunds_vat += sum((v for _, v in amounts), ZERO)
                period.line_totals -= total
                period.pay(payment, -1)
            elif op[0] == "move":
                _, kind, amount = op
                signed = record_movement(engine, place, cashier, kind, amount, reason="till float change")
                assert signed == (amount if kind in ("float", "cash_in") else -amount)
                period.moves[kind] = period.moves.get(kind, ZERO) + signed
                continue
            else:
                doc = close_day(engine, place, cashier, {}, period.expected_cash, tolerance=ZERO)
                z_count += 1
                assert doc.number == z_count
                assert doc.variance == 0
                assert_figures(doc, period)
                period = Period()
                continue
            numbers.append(number)
            period.receipts.append(number)
        assert numbers == [receipt(i) for i in range(1, len(numbers) + 1)]
        assert_figures(x_report(engine, place), period)
        with Session(engine) as s:
            assert [r.z_number for r in s.exec(select(DayClose).order_by(DayClose.id))] == list(range(1, z_count + 1))


# -- the day close ------------------------------------------------------------------------------------

def test_z_numbers_run_without_gaps_and_later_sales_belong_to_the_next_z(engine, place, cashier):
    sell(engine, place, cashier, [(COFFEE, 2)])
    sell(engine, place, cashier, [(WATER, 1)], tender=CARD)
    first = close_day(engine, place, cashier, {}, D("90.00"), tolerance=TOLERANCE)
    assert (first.kind, first.number, first.sales_count) == ("Z", 1, 2)
    assert first.sales_total == D("97.00")
    assert (first.first_receipt, first.last_receipt) == (receipt(1), receipt(2))
    assert x_report(engine, place).sales_count == 0  # the Z took them

    later = sell(engine, place, cashier, [(MILK, 1)])
    second = close_day(engine, place, cashier, {}, D("52.25"), tolerance=TOLERANCE)
    assert (second.number, second.sales_count, second.sales_total) == (2, 1, D("52.25"))
    assert second.first_receipt == second.last_receipt == later == receipt(3)
    assert second.tenders == (("cash", D("52.25")),)
    assert second.receipt_gaps == ()

    third = close_day(engine, place, cashier, {}, ZERO, tolerance=TOLERANCE)
    assert (third.number, third.sales_count, third.sales_total, third.first_receipt) == (3, 0, ZERO, None)
    with Session(engine) as s:
        rows = list(s.exec(select(DayClose).order_by(DayClose.id)))
    assert [r.z_number for r in rows] == [1, 2, 3]
    assert next_z(engine, place) == 4
    # Three Zs on one calendar day: each takes the day after the one before.
    days = [date.fromisoformat(d.business_date) for d in (first, second, third)]
    assert days[1] == days[0] + timedelta(days=1) and days[2] == days[1] + timedelta(days=1)
    assert [r.business_date for r in rows] == [d.isoformat() for d in days]


def test_a_z_right_after_a_z_takes_the_next_day(engine, place, cashier):
    at = datetime(2025, 3, 14, 10, 0, tzinfo=BKK)
    sell(engine, place, cashier, at=at)
    first = close_day(engine, place, cashier, {}, D("45.00"), tolerance=TOLERANCE, now=at + timedelta(hours=1))
    sell(engine, place, cashier, at=at + timedelta(hours=2))
    second = close_day(engine, place, cashier, {}, D("45.00"), tolerance=TOLERANCE, now=at + timedelta(hours=3))
    assert (first.business_date, second.business_date) == ("2025-03-14", "2025-03-15")


LATE = datetime(2025, 3, 14, 23, 59, 59, tzinfo=BKK)
MIDNIGHT = datetime(2025, 3, 15, 0, 0, 0, tzinfo=BKK)


def test_business_date_with_and_without_a_cutoff():
    tz = "Asia/Bangkok"
    assert business_date(LATE, tz) == date(2025, 3, 14)
    assert business_date(MIDNIGHT, tz) == date(2025, 3, 15)
    assert business_date(LATE, tz, time(4, 0)) == date(2025, 3, 14)
    assert business_date(MIDNIGHT, tz, time(4, 0)) == date(2025, 3, 14)
    assert business_date(datetime(2025, 3, 15, 3, 59, 59, tzinfo=BKK), tz, time(4, 0)) == date(2025, 3, 14)
    assert business_date(datetime(2025, 3, 15, 4, 0, tzinfo=BKK), tz, time(4, 0)) == date(2025, 3, 15)
    # The same instants given in UTC (as the database returns them) land on the same days.
    assert business_date(LATE.astimezone(UTC), tz) == date(2025, 3, 14)
    assert business_date(MIDNIGHT.astimezone(UTC), tz) == date(2025, 3, 15)
    assert business_date(MIDNIGHT.astimezone(UTC), tz, time(4, 0)) == date(2025, 3, 14)


@pytest.mark.parametrize("at, cutoff, day", [
    (LATE, time(0, 0), "2025-03-14"), (LATE, time(4, 0), "2025-03-14"),
    (MIDNIGHT, time(0, 0), "2025-03-15"), (MIDNIGHT, time(4, 0), "2025-03-14"),
], ids=["23:59:59-cutoff-00", "23:59:59-cutoff-04", "00:00:00-cutoff-00", "00:00:00-cutoff-04"])
def test_the_z_takes_the_business_day_of_its_first_sale(engine, place, cashier, at, cutoff, day):
    sell(engine, place, cashier, at=at)
    assert x_report(engine, place, cutoff=cutoff, now=at + timedelta(minutes=1)).business_date == day
    doc = close_day(engine, place, cashier, {}, D("45.00"), tolerance=TOLERANCE, cutoff=cutoff,
                    now=at + timedelta(minutes=1))
    assert doc.business_date == day
    with Session(engine) as s:
        assert s.exec(select(DayClose.business_date)).one() == day


@pytest.mark.parametrize("cutoff, days", [(time(0, 0), ("2025-03-14", "2025-03-15")),
                                          (time(4, 0), ("2025-03-14", "2025-03-15"))])
def test_a_sale_after_the_close_belongs_to_the_next_day(engine, place, cashier, cutoff, days):
    """23:59:59 then a Z, then a sale at 00:00:00: with the 04:00 cutoff that sale's own business day
    is the day just closed, so it moves on to the next one."""
    sell(engine, place, cashier, at=LATE)
    first = close_day(engine, place, cashier, {}, D("45.00"), tolerance=TOLERANCE, cutoff=cutoff,
                      now=LATE + timedelta(milliseconds=500))
    sell(engine, place, cashier, [(WATER, 1)], at=MIDNIGHT)
    second = close_day(engine, place, cashier, {}, D("7.00"), tolerance=TOLERANCE, cutoff=cutoff,
                       now=MIDNIGHT + timedelta(hours=1))
    assert (first.business_date, second.business_date) == days
    assert (first.sales_total, second.sales_total) == (D("45.00"), D("7.00"))


@pytest.mark.parametrize("off", [TOLERANCE, -TOLERANCE, D("0.25"), ZERO])
def test_a_variance_within_tolerance_closes_without_a_manager(engine, place, cashier, off):
    sell(engine, place, cashier, [(COFFEE, 1), (MILK, 1)])  # 97.25 in cash
    record_movement(engine, place, cashier, "float", D("500"))
    expected = x_report(engine, place).expected_cash
    assert expected == D("597.25")
    doc = close_day(engine, place, cashier, {}, expected + off, tolerance=TOLERANCE)
    assert (doc.counted_cash, doc.expected_cash, doc.variance) == (expected + off, expected, off)
    with Session(engine) as s:
        row = s.exec(select(DayClose)).one()
    assert (row.counted_cash, row.expected_cash, row.variance) == (expected + off, expected, off)
    assert row.approved_by_id is None and row.reason == ""


def test_a_variance_beyond_tolerance_needs_a_manager_and_a_reason(engine, place, cashier, manager):
    sell(engine, place, cashier, [(COFFEE, 1)])
    record_movement(engine, place, cashier, "float", D("1000"))
    counted = D("1045.00") - TOLERANCE - D("0.25")
    refusals = [{}, {"approver": manager}, {"approver": manager, "reason": "   "}, {"reason": "till was short"}]
    for extra in refusals:
        with pytest.raises(VarianceNeedsApproval) as info:
            close_day(engine, place, cashier, {"1000": 1}, counted, tolerance=TOLERANCE, **extra)
        assert info.value.variance == D("-20.25")
        assert info.value.expected == D("1045.00")
    # Nothing was written: no Z, no number used, no event, the shift still open.
    assert count_rows(engine, DayClose) == 0
    assert count_rows(engine, DomainEvent) == 0
    assert next_z(engine, place) == 1
    with Session(engine) as s:
        assert [sh.status for sh in s.exec(select(Shift))] == ["open"]
    assert x_report(engine, place).sales_count == 1

    doc = close_day(engine, place, cashier, {"1000": 1}, counted, tolerance=TOLERANCE, approver=manager,
                    reason="  coins went to the safe  ")
    assert (doc.number, doc.variance) == (1, D("-20.25"))
    with Session(engine) as s:
        row = s.exec(select(DayClose)).one()
    assert row.approved_by_id == manager.id
    assert row.operator_id == cashier.id
    assert row.reason == "coins went to the safe"
    assert row.counts == {"1000": 1}
    assert row.variance == D("-20.25")


def test_the_z_writes_one_day_closed_event_and_closes_the_shift(engine, place, cashier):
    record_movement(engine, place, cashier, "float", D("500"))
    sell(engine, place, cashier, [(HIGHLIGHTER, 2)])
    with Session(engine) as s:
        assert [sh.status for sh in s.exec(select(Shift))] == ["open"]
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    doc = close_day(engine, place, cashier, {}, D("570.00"), tolerance=TOLERANCE, now=now)
    with Session(engine) as s:
        events = list(s.exec(select(DomainEvent)))
        shifts = list(s.exec(select(Shift)))
    assert [e.kind for e in events] == ["day.closed"]
    assert events[0].reference == "BKK01-T1-Z000001"
    assert events[0].payload == report_json(doc)
    assert [(sh.status, sh.closed_at) for sh in shifts] == [("closed", now)]
    # The next float opens a new shift; the next Z adds one more event.
    record_movement(engine, place, cashier, "float", D("500"))
    close_day(engine, place, cashier, {}, D("500"), tolerance=TOLERANCE, now=now + timedelta(hours=1))
    with Session(engine) as s:
        assert [e.reference for e in s.exec(select(DomainEvent).order_by(DomainEvent.id))] == [
            "BKK01-T1-Z000001", "BKK01-T1-Z000002"]
        assert [sh.status for sh in s.exec(select(Shift).order_by(Shift.id))] == ["closed", "closed"]


def test_z_report_reprints_the_kept_z(engine, place, cashier, manager):
    at = datetime(2025, 6, 1, 9, 30, tzinfo=BKK)
    number = sell(engine, place, cashier, [(COFFEE, 1), (GREENS, 2)], at=at)
    sell(engine, place, cashier, [(MILK, 1)], tender=CARD, at=at + timedelta(minutes=5))
    original = refundable(engine, number)
    payment = PaymentState(D("15.00"), place.currency, place.cash_rounding)
    payment.apply(CASH)
    commit_refund(engine, place, cashier, manager, number, {original.lines[1].line_id: D(1)}, payment,
                  uid="reprint-refund", at=at + timedelta(minutes=10))
    record_movement(engine, place, cashier, "safe_drop", D("20"), at=at + timedelta(minutes=11))
    first = close_day(engine, place, cashier, {"50": 1}, D("60.00"), tolerance=TOLERANCE,
                      now=at + timedelta(hours=8))
    sell(engine, place, cashier, [(WATER, 3)], at=at + timedelta(hours=9))
    second = close_day(engine, place, cashier, {}, D("21.00"), tolerance=TOLERANCE, now=at + timedelta(hours=10))

    kept = z_report(engine, place, first.business_date)
    assert kept == first
    assert report_from_json(report_json(first)) == first
    assert layout_report(kept) == layout_report(first)
    assert z_report(engine, place, second.business_date) == second
    assert z_report(engine, place) == second  # the latest
    assert z_report(engine, place, "1999-01-01") is None
    assert (first.sales_count, first.refunds_count, first.refunds_total) == (2, 1, D("15.00"))
    assert dict(first.tenders) == {"card": D("52.25"), "cash": D("60.00")}  # 75.00 sold, 15.00 refunded
    assert first.expected_cash == D("40.00") and first.variance == D("20.00")


def test_z_report_equals_what_close_day_returned_with_real_clock_times(engine, place, cashier):
    sell(engine, place, cashier)
    doc = close_day(engine, place, cashier, {}, D("45.00"), tolerance=TOLERANCE)
    assert z_report(engine, place, doc.business_date) == doc


def skip_a_receipt_number(engine, place) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE receipt_series SET next_number = next_number + 1 WHERE terminal_id = :t"),
                     {"t": place.terminal_id})


def test_a_gap_in_receipt_numbers_shows_in_the_report(engine, place, cashier):
    sell(engine, place, cashier)
    sell(engine, place, cashier)
    skip_a_receipt_number(engine, place)
    assert sell(engine, place, cashier) == receipt(4)
    doc = x_report(engine, place)
    assert doc.receipt_gaps == (receipt(3),)
    assert (doc.first_receipt, doc.last_receipt, doc.sales_count) == (receipt(1), receipt(4), 3)
    assert any("GAPS IN RECEIPT NUMBERS" in line and receipt(3) in line for line in layout_report(doc, 80))
    z = close_day(engine, place, cashier, {}, D("135.00"), tolerance=TOLERANCE)
    assert z.receipt_gaps == (receipt(3),)
    # A number lost right after a Z is a gap of the next period.
    skip_a_receipt_number(engine, place)
    assert sell(engine, place, cashier) == receipt(6)
    assert x_report(engine, place).receipt_gaps == (receipt(5),)


def test_a_gap_after_an_empty_z_still_shows(engine, place, cashier):
    sell(engine, place, cashier)
    close_day(engine, place, cashier, {}, D("45.00"), tolerance=TOLERANCE)
    close_day(engine, place, cashier, {}, ZERO, tolerance=TOLERANCE)  # nothing sold in between
    skip_a_receipt_number(engine, place)
    assert sell(engine, place, cashier) == receipt(3)
    assert x_report(engine, place).receipt_gaps == (receipt(2),)



@pytest.mark.parametrize("empty_z_first", [False, True])
def test_a_lost_first_receipt_number_shows_as_a_gap(engine, place, cashier, empty_z_first):
    """Numbers start at 000001 on every terminal: a first period starting at 000002 lacks one."""
    if empty_z_first:
        close_day(engine, place, cashier, {}, ZERO, tolerance=TOLERANCE)
    skip_a_receipt_number(engine, place)
    assert sell(engine, place, cashier) == receipt(2)
    assert x_report(engine, place).receipt_gaps == (receipt(1),)
    z = close_day(engine, place, cashier, {}, D("45.00"), tolerance=TOLERANCE)
    assert z.receipt_gaps == (receipt(1),)
    sell(engine, place, cashier)
    assert x_report(engine, place).receipt_gaps == ()

# -- cash ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [ZERO, D("-5"), D("-0.25")])
@pytest.mark.parametrize("kind", ["float", "cash_in", "cash_out", "safe_drop"])
def test_a_movement_must_be_more_than_zero(engine, place, cashier, kind, amount):
    with pytest.raises(CashError, match="more than zero"):
        record_movement(engine, place, cashier, kind, amount, reason="change")
    assert count_rows(engine, CashMovement) == 0


@pytest.mark.parametrize("kind", ["cash_in", "cash_out"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_cash_in_and_out_need_a_reason(engine, place, cashier, kind, reason):
    with pytest.raises(CashError, match="reason"):
        record_movement(engine, place, cashier, kind, D("100"), reason=reason)
    assert count_rows(engine, CashMovement) == 0


def test_a_float_and_a_safe_drop_need_no_reason(engine, place, cashier):
    assert record_movement(engine, place, cashier, "float", D("500")) == D("500")
    assert record_movement(engine, place, cashier, "safe_drop", D("300")) == D("-300")
    assert dict(x_report(engine, place).cash_movements) == {"float": D("500"), "safe_drop": D("-300")}
    assert x_report(engine, place).expected_cash == D("200")


def test_an_unknown_movement_is_refused(engine, place, cashier):
    with pytest.raises(CashError, match="unknown"):
        record_movement(engine, place, cashier, "tip", D("10"), reason="x")
    assert count_rows(engine, CashMovement) == 0


@pytest.mark.parametrize("kind", ["cash_in", "cash_out"])
def test_above_the_limit_needs_a_manager(engine, place, cashier, manager, kind):
    limit = Settings().cash.movement_limit
    with pytest.raises(CashError, match="needs a manager"):
        record_movement(engine, place, cashier, kind, limit + D("0.25"), reason="bank run", limit=limit)
    assert count_rows(engine, CashMovement) == 0
    record_movement(engine, place, cashier, kind, limit, reason="at the limit", limit=limit)
    record_movement(engine, place, cashier, kind, limit + D("0.25"), reason="bank run", limit=limit,
                    approver=manager)
    with Session(engine) as s:
        rows = list(s.exec(select(CashMovement).order_by(CashMovement.id)))
    sign = 1 if kind == "cash_in" else -1
    assert [(r.amount, r.approved_by_id) for r in rows] == [(sign * limit, None),
                                                            (sign * (limit + D("0.25")), manager.id)]
    assert [r.reason for r in rows] == ["at the limit", "bank run"]


def test_count_total_with_the_configured_denominations():
    denominations = Settings().cash.denominations
    assert count_total({}, denominations) == 0
    counts = {"1000": 2, "500": 1, "100": 3, "20": 4, "5": 1, "1": 7, "0.50": 3, "0.25": 1}
    assert count_total(counts, denominations) == D("2893.75")
    assert count_total({str(d): 1 for d in denominations}, denominations) == D("1688.75")


@pytest.mark.parametrize("counts", [{"3": 1}, {"0.10": 2}, {"2000": 1}, {"abc": 1}, {"100": 1, "25": 1}])
def test_count_total_refuses_unknown_denominations(counts):
    with pytest.raises(CashError, match="not a note or coin"):
        count_total(counts, Settings().cash.denominations)


def test_count_total_refuses_negative_counts():
    with pytest.raises(CashError, match="negative"):
        count_total({"100": -1}, Settings().cash.denominations)


# -- till report x|z ----------------------------------------------------------------------------------

def till(home: Path, *args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TILL_")}
    clean["COLUMNS"] = "100"
    return subprocess.run([sys.executable, "-m", "app", *args, "--home", str(home)], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=timeout, input=stdin, check=False)


def assert_one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("till: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_cli_report_x_json(home, engine, place, cashier):
    sell(engine, place, cashier, [(COFFEE, 1), (MILK, 1)])
    sell(engine, place, cashier, [(WATER, 2)], tender=CARD)
    proc = till(home, "report", "x", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["kind"], data["number"], data["sales_count"]) == ("X", None, 2)
    assert D(data["sales_total"]) == D("111.25")
    assert {k: D(v) for k, v in data["tenders"].items()} == {"card": D("14.00"), "cash": D("97.25")}
    assert count_rows(engine, DayClose) == 0


def test_cli_report_z_needs_the_count(home, engine):
    assert "--counted" in assert_one_error_line(till(home, "report", "z"))
    assert count_rows(engine, DayClose) == 0


def test_cli_report_z_closes_and_reprints(home, engine, place, cashier):
    sell(engine, place, cashier, [(COFFEE, 1)])
    proc = till(home, "report", "z", "--counted", "45.00", "--operator", "1", stdin="1111\n")
    assert proc.returncode == 0, proc.stderr
    assert "Z REPORT #1" in proc.stdout
    kept = z_report(engine, place)
    assert kept is not None and kept.number == 1 and kept.counted_cash == D("45.00")
    assert kept.business_date in proc.stdout
    again = till(home, "report", "z", "--date", kept.business_date, "--json")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert (data["kind"], data["number"], data["business_date"]) == ("Z", 1, kept.business_date)
    assert D(data["sales_total"]) == D("45.00") and D(data["variance"]) == 0
    assert report_from_json(data) == kept
    assert count_rows(engine, DayClose) == 1


def test_cli_report_z_with_a_wrong_pin(home, engine, place, cashier):
    sell(engine, place, cashier)
    line = assert_one_error_line(till(home, "report", "z", "--counted", "45", "--operator", "1", stdin="0000\n"))
    assert "PIN" in line
    assert count_rows(engine, DayClose) == 0
    assert next_z(engine, place) == 1


def test_the_days_rows_name_a_refunds_sale_from_an_earlier_day_and_show_no_negative_zero(engine, place, cashier,
                                                                                           manager):
    """The file drop's CSV rows: a refund today of yesterday's sale still names the sale it refunds, and
    a refund's zero figures read 0.00 (its signs are flipped, and -0.00 is no amount)."""
    from data.reports import period_rows

    number = sell(engine, place, cashier, [(COFFEE, 1)])
    close_day(engine, place, cashier, {}, D("45.00"), tolerance=TOLERANCE)
    original = refundable(engine, number)
    [line] = original.lines
    amount, _ = refund_amounts(line, line.refundable_qty, original.currency)
    payment = PaymentState(amount, place.currency, place.cash_rounding)
    payment.apply(CARD)
    refund = commit_refund(engine, place, cashier, manager, number, {line.line_id: line.refundable_qty}, payment,
                           uid="refund-of-yesterday", reason="faulty")
    second = close_day(engine, place, cashier, {}, ZERO, tolerance=TOLERANCE)
    [row] = period_rows(engine, f"{place.store_id}-{place.terminal_code}-Z{second.number:06d}")
    assert (row["receipt_number"], row["kind"], row["refund_of"]) == (refund, "refund", number)
    assert row["total"] == row["card"] == "-45.00" and row["cash"] == row["discount"] == "0.00"
    assert not any(str(v) == "-0.00" for v in row.values())
