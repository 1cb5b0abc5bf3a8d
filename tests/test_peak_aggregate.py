"""The PEAK documents built from the till's records (data/peak.py), without HTTP: the daily "POS
Customer" entry (day boundary, members vs others, discounts to the satang, total = sum of sales, VAT Δ),
supplements, credit notes and the diagnostics."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlmodel import Session, select

from app.exports import target_of
from data import outbox, peak
from data.models import ExportJob, Sale, SaleLine
from data.payments import CARD
from tests.conftest import COFFEE, GREENS, HIGHLIGHTER, MILK, WATER
from tests.peak_helpers import BKK, MEMBER, bkk, days_ago, map_products, peak_connector, sell

D = Decimal


@pytest.fixture
def cfg(place):
    return peak.PeakConfig(connector="peak", branch=place.store_id, timezone=place.timezone,
                           pos_customer_code="POS-CUST")


@pytest.fixture
def target():
    return target_of(peak_connector("http://127.0.0.1:9/api/v1"))


def daily_jobs(engine) -> list[ExportJob]:
    with Session(engine) as s:
        return list(s.exec(select(ExportJob).where(ExportJob.event == peak.DAILY_EVENT).order_by(ExportJob.id)))


def doc_of(engine, cfg, job: ExportJob) -> peak.PeakDoc:
    return peak.daily_document(engine, cfg, outbox.show_job(engine, job.id)[1], job.idempotency_key)


def test_business_date_edges_in_bangkok_and_with_a_cutoff():
    day = datetime(2026, 12, 1).date()
    last = bkk(day, 23, 59, 59, 999_000)
    first = bkk(day + timedelta(days=1), 0, 0, 0)
    assert peak.business_date(last, "Asia/Bangkok") == day
    assert peak.business_date(first, "Asia/Bangkok") == day + timedelta(days=1)
    assert first - last == timedelta(milliseconds=1)
    # 06:59 Bangkok is 23:59 UTC of the day before: the UTC date is no guide.
    assert bkk(day, 6, 59).date() == day - timedelta(days=1)
    assert peak.business_date(bkk(day, 3, 0), "Asia/Bangkok") == day
    assert peak.business_date(datetime(2026, 11, 30, 17, 0, tzinfo=UTC), "Asia/Bangkok") == day
    # A 04:00 cutoff: 03:59:59 belongs to the day before, 04:00:00 to the day.
    four = time(4, 0)
    assert peak.business_date(bkk(day, 3, 59, 59), "Asia/Bangkok", four) == day - timedelta(days=1)
    assert peak.business_date(bkk(day, 4, 0, 0), "Asia/Bangkok", four) == day
    start, end = peak.day_bounds(day, "Asia/Bangkok", four)
    assert start == bkk(day, 4) and end == bkk(day + timedelta(days=1), 4)
    assert peak.daily_reference("BKK01", day) == "POSDAY-BKK01-20261201"
    assert peak.daily_reference("BKK01", day, 2) == "POSDAY-BKK01-20261201-S2"
    assert peak.thai_phone("+66812345670") == "0812345670"


def test_last_ready_day_waits_for_the_cutoff_plus_the_delay():
    cfg = peak.PeakConfig(daily_after=timedelta(hours=3))
    day = datetime(2026, 12, 1).date()
    assert peak.last_ready_day(cfg, bkk(day + timedelta(days=1), 2, 59)) == day - timedelta(days=1)
    assert peak.last_ready_day(cfg, bkk(day + timedelta(days=1), 3, 0)) == day
    late = peak.PeakConfig(cutoff=time(4, 0), daily_after=timedelta(hours=3))
    assert peak.last_ready_day(late, bkk(day + timedelta(days=1), 6, 59)) == day - timedelta(days=1)
    assert peak.last_ready_day(late, bkk(day + timedelta(days=1), 7, 0)) == day


def test_sales_at_235959_and_000000_bangkok_land_on_their_own_days(engine, place, cfg, target):
    map_products(engine)
    day = days_ago(3)
    before = sell(engine, place, [(COFFEE, 1)], at=bkk(day, 23, 59, 59, 999_000))
    after = sell(engine, place, [(HIGHLIGHTER, 1)], at=bkk(day + timedelta(days=1), 0, 0, 0))
    written = peak.plan_daily(engine, cfg, target)
    assert written[:2] == [peak.daily_reference("BKK01", day), peak.daily_reference("BKK01", day + timedelta(days=1))]
    first, second, *empty = daily_jobs(engine)
    assert [j.state for j in empty] == ["skipped"] * len(empty)  # the days after, without sales
    assert (first.business_date, second.business_date) == (day.isoformat(), (day + timedelta(days=1)).isoformat())
    a, b = doc_of(engine, cfg, first), doc_of(engine, cfg, second)
    assert a.body["issuedDate"] == day.strftime("%Y%m%d") and a.body["reference"] == f"POSDAY-BKK01-{day:%Y%m%d}"
    assert [p["productCode"] for p in a.body["products"]] == ["P-CF-001"]
    assert [p["productCode"] for p in b.body["products"]] == ["P-HL-001"]
    assert f"receipts {before}–{before} (n=1)" in a.body["remark"]
    assert f"receipts {after}–{after} (n=1)" in b.body["remark"]
    assert peak.plan_daily(engine, cfg, target) == []  # planned once


def test_members_go_one_by_one_and_others_into_the_daily_entry(engine, place, cfg, target):
    map_products(engine)
    day = days_ago(2)
    member_receipt = sell(engine, place, [(COFFEE, 2)], at=bkk(day, 10), member=MEMBER, targets=[target])
    walk_ins = [sell(engine, place, [(COFFEE, 1), (WATER, 3)], at=bkk(day, 11), targets=[target]),
                sell(engine, place, [(COFFEE, 2)], at=bkk(day, 12), targets=[target])]
    with Session(engine) as s:
        sale_jobs = list(s.exec(select(ExportJob).where(ExportJob.event == "sale.completed")))
    assert [j.source_id for j in sale_jobs] == [member_receipt]  # walk-ins get no job of their own
    member_doc = peak.member_sale_document(engine, cfg, member_receipt, "k")
    assert member_doc.body["reference"] == member_receipt and member_doc.body["contactCode"] == "0812345670"
    assert member_doc.body["issuedDate"] == f"{day:%Y%m%d}"
    [line] = member_doc.body["products"]
    assert {k: line[k] for k in ("productCode", "quantity", "price", "discount", "vatType")} == {
        "productCode": "P-CF-001", "quantity": D(2), "price": D("45.00"), "discount": D("0.00"), "vatType": 3}
    peak.plan_daily(engine, cfg, target)
    job = daily_jobs(engine)[0]
    doc = doc_of(engine, cfg, job)
    lines = {p["productCode"]: p for p in doc.body["products"]}
    assert lines["P-CF-001"]["quantity"] == 3 and lines["P-WT-001"]["quantity"] == 3  # combined by product
    assert doc.info["sales"] == 2 and doc.body["contactCode"] == "POS-CUST"
    assert peak.document_total(doc.body["products"]) == D("156.00") == D(doc.info["total"])
    assert f"receipts {walk_ins[0]}–{walk_ins[1]} (n=2)" in doc.body["remark"]
    assert doc.body["tags"] == ["POS", "POS-DAILY", "BKK01", job.idempotency_key]


def test_bill_discounts_are_spread_to_the_satang_and_the_total_is_the_sum_of_sales(engine, place, cfg, target):
    map_products(engine)
    day = days_ago(2)
    # 10.00 off 35 + 45 + 7 (= 87): shares 4.02 / 5.17 / 0.81 by largest remainder, exactly 10.00.
    first = sell(engine, place, [(HIGHLIGHTER, 1), (COFFEE, 1), (WATER, 1)], at=bkk(day, 9), basket=D("10.00"))
    # A line discount and a bill discount on a VAT-free item next to a 7 % one.
    sell(engine, place, [(GREENS, 3), (COFFEE, 1)], at=bkk(day, 10), basket=D("3.33"),
         line_discounts={0: D("1.50")})
    sell(engine, place, [(COFFEE, 1)], at=bkk(day, 11), tender=CARD)
    with Session(engine) as s:
        sale = s.exec(select(Sale).where(Sale.receipt_number == first)).one()
        shares = [ln.basket_discount for ln in s.exec(select(SaleLine).where(SaleLine.sale_id == sale.id)
                                                          .order_by(SaleLine.line_no))]
        totals = sum((x.total for x in s.exec(select(Sale).where(Sale.kind == "sale"))), D(0))
    assert shares == [D("4.02"), D("5.17"), D("0.81")] and sum(shares) == D("10.00")
    peak.plan_daily(engine, cfg, target)
    doc = doc_of(engine, cfg, daily_jobs(engine)[0])
    products = doc.body["products"]
    assert peak.document_total(products) == totals == D(doc.info["total"])
    assert sum((p["discount"] for p in products), D(0)) == D("10.00") + D("3.33") + D("1.50")
    by_type = {p["vatType"] for p in products}
    assert by_type == {1, 3}  # the VAT-free greens keep their own vatType and their own discount share
    coffee = [p for p in products if p["productCode"] == "P-CF-001"]
    assert len(coffee) == 1 and coffee[0]["quantity"] == 3 and coffee[0]["price"] == D("45.00")
    assert "VATΔ=" in doc.body["remark"]
    assert abs(D(doc.info["vat_delta"])) <= D("0.005") * 3 + D("0.01")


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.lists(st.tuples(st.sampled_from([COFFEE, HIGHLIGHTER, WATER, MILK, GREENS]),
                                             st.integers(1, 4)), min_size=1, max_size=4),
                          st.integers(0, 2000)), min_size=1, max_size=5))
def test_any_mix_of_bill_discounts_sums_exactly(engine, place, cfg, target, sales):
    map_products(engine)
    with engine.begin() as conn:  # each example starts from no sales and no jobs
        from sqlalchemy import text

        for table in ("export_attempt", "export_job", "payment", "stock_move", "sale_line", "sale"):
            conn.execute(text(f"DELETE FROM {table}"))
    day = days_ago(2)
    expected = D(0)
    for n, (items, satang) in enumerate(sales):
        receipt = sell(engine, place, items, at=bkk(day, 8, n), basket=D(satang) / 100)
        with Session(engine) as s:
            expected += s.exec(select(Sale).where(Sale.receipt_number == receipt)).one().total
    peak.plan_daily(engine, cfg, target)
    [job] = [j for j in daily_jobs(engine) if j.business_date == day.isoformat()]
    doc = doc_of(engine, cfg, job)
    assert peak.document_total(doc.body["products"]) == expected
    assert all(p["discount"] >= 0 and p["quantity"] > 0 for p in doc.body["products"])


def test_weighed_quantities_still_total_exactly(engine, place, cfg, target):
    map_products(engine)
    day = days_ago(2)
    for qty in ("0.355", "0.41", "1.275"):
        sell(engine, place, [(MILK, qty)], at=bkk(day, 9))
    peak.plan_daily(engine, cfg, target)
    doc = doc_of(engine, cfg, daily_jobs(engine)[0])
    with Session(engine) as s:
        total = sum((x.total for x in s.exec(select(Sale))), D(0))
    assert peak.document_total(doc.body["products"]) == total


def test_refunds_are_credit_notes_never_netted(engine, place, cfg, target, manager, cashier):
    from data.payments import PaymentState
    from data.sales import commit_refund, refundable

    map_products(engine)
    day = days_ago(3)
    receipt = sell(engine, place, [(COFFEE, 2), (WATER, 1)], at=bkk(day, 9))
    peak.plan_daily(engine, cfg, target)
    original = refundable(engine, receipt)
    line = original.lines[0]
    pay = PaymentState(D("45.00"), place.currency, place.cash_rounding)
    pay.apply("cash", None)
    number = commit_refund(engine, place, cashier, manager, receipt, {line.line_id: D(1)}, pay, uid="r1",
                           at=bkk(days_ago(1), 10), exports=[target])
    with Session(engine) as s:
        [refund_job] = s.exec(select(ExportJob).where(ExportJob.event == "sale.refunded")).all()
    assert refund_job.source_id == number
    daily = daily_jobs(engine)[0]
    # The day's entry still holds the whole sale: the refund is not netted into it.
    assert peak.document_total(doc_of(engine, cfg, daily).body["products"]) == D("97.00")
    with pytest.raises(peak.PeakWaiting, match=f"POSDAY-BKK01-{day:%Y%m%d}"):
        peak.credit_note_document(engine, cfg, number, "k")  # waits for the day's entry
    with engine.begin() as conn:
        from sqlalchemy import update

        conn.execute(update(ExportJob).where(ExportJob.id == daily.id).values(state="succeeded"))
    note = peak.credit_note_document(engine, cfg, number, "k")
    assert note.endpoint == "creditnotes" and note.body["reference"] == f"CN-{number}"
    assert note.body["issuedDate"] == f"{days_ago(1):%Y%m%d}" and note.body["contactCode"] == "POS-CUST"
    assert note.info["against"] == f"POSDAY-BKK01-{day:%Y%m%d}"
    assert peak.document_total(note.body["products"]) == D("45.00")


def test_late_sales_become_a_supplement_and_an_empty_day_is_skipped(engine, place, cfg, target):
    map_products(engine)
    day = days_ago(5)
    now = bkk(day + timedelta(days=4), 12)  # the entry of day + 3 is ready (after 03:00 the next day)
    sell(engine, place, [(COFFEE, 1)], at=bkk(day, 9))
    sell(engine, place, [(COFFEE, 1)], at=bkk(day + timedelta(days=2), 9))
    sell(engine, place, [(COFFEE, 1)], at=bkk(day + timedelta(days=1), 9), member=MEMBER,
         targets=(target,))  # only a member sale, which goes one by one
    peak.plan_daily(engine, cfg, target, now=now)
    jobs = daily_jobs(engine)
    assert [(j.business_date, j.state) for j in jobs] == [
        (day.isoformat(), "pending"), ((day + timedelta(days=1)).isoformat(), "skipped"),
        ((day + timedelta(days=2)).isoformat(), "pending"), ((day + timedelta(days=3)).isoformat(), "skipped")]
    assert jobs[1].resolution == "no eligible sales"
    # A sale of `day` arrives late (an offline till): nothing while the main entry is not out …
    late = sell(engine, place, [(HIGHLIGHTER, 2)], at=bkk(day, 18))
    assert peak.plan_daily(engine, cfg, target, now=now) == []
    with engine.begin() as conn:
        from sqlalchemy import update

        conn.execute(update(ExportJob).where(ExportJob.id == jobs[0].id).values(state="succeeded"))
    # … then a supplement with only the late sale, dated on its day.
    assert peak.plan_daily(engine, cfg, target, now=now) == [f"POSDAY-BKK01-{day:%Y%m%d}-S1"]
    [supplement] = [j for j in daily_jobs(engine) if j.source_id.endswith("-S1")]
    doc = doc_of(engine, cfg, supplement)
    assert doc.body["reference"] == f"POSDAY-BKK01-{day:%Y%m%d}-S1" and doc.body["issuedDate"] == f"{day:%Y%m%d}"
    assert [(p["productCode"], p["quantity"]) for p in doc.body["products"]] == [("P-HL-001", 2)]
    assert f"receipts {late}–{late} (n=1)" in doc.body["remark"] and "supplement S1" in doc.body["remark"]
    # The main entry is unchanged: built again, it still holds one coffee.
    assert [p["quantity"] for p in doc_of(engine, cfg, jobs[0]).body["products"]] == [1]


def test_days_in_progress_are_not_planned(engine, place, cfg, target):
    map_products(engine)
    sell(engine, place, [(COFFEE, 1)])  # today
    assert peak.plan_daily(engine, cfg, target) == []
    assert daily_jobs(engine) == []


def test_products_without_a_code_block_with_their_skus(engine, place, cfg, target):
    map_products(engine, except_skus=("CF-001", "WT-001"))
    day = days_ago(2)
    sell(engine, place, [(COFFEE, 1), (WATER, 1), (HIGHLIGHTER, 1)], at=bkk(day, 9))
    peak.plan_daily(engine, cfg, target)
    with pytest.raises(peak.PeakBlocked, match="2 product.*CF-001, WT-001"):
        doc_of(engine, cfg, daily_jobs(engine)[0])
    missing = peak.missing_external_ids(engine, "peak", bkk(day, 0))
    assert [m["sku"] for m in missing] == ["CF-001", "WT-001"]


def test_payments_are_grouped_by_tender_when_mapped(engine, place, target):
    map_products(engine)
    cfg = peak.PeakConfig(connector="peak", branch=place.store_id, pos_customer_code="POS-CUST",
                          payment_methods={"cash": "CSH", "card": "CRD"}, rounding_code="P-ROUND")
    day = days_ago(2)
    sell(engine, place, [(COFFEE, 1)], at=bkk(day, 9))
    sell(engine, place, [(MILK, 1)], at=bkk(day, 10), tender=CARD)
    peak.plan_daily(engine, cfg, target)
    doc = doc_of(engine, cfg, daily_jobs(engine)[0])
    assert doc.body["paidPayments"] == {"paymentDate": f"{day:%Y%m%d}", "payments": [
        {"paymentMethodCode": "CRD", "amount": D("52.25")}, {"paymentMethodCode": "CSH", "amount": D("45.00")}]}
    unmapped = peak.PeakConfig(connector="peak", branch=place.store_id, pos_customer_code="POS-CUST",
                               payment_methods={"cash": "CSH"})
    with pytest.raises(peak.PeakBlocked, match="card"):
        doc_of(engine, unmapped, daily_jobs(engine)[0])


def test_bangkok_is_the_default_zone_of_the_config():
    assert peak.PeakConfig().timezone == "Asia/Bangkok" and str(BKK) == "Asia/Bangkok"
