"""PEAK accounting documents built from the till's records (reference/exports.md §6.6–6.8). No HTTP:
app/connectors/peak.py sends what this builds.

* A sale with a member goes one by one (`member_sale_document`): our receipt number as reference, the
  member's phone as contact, the product lines with quantity, unit price and discount, dated by the
  business date of the payment.
* Every other sale of a business day of a branch goes in ONE receipt for the "POS Customer" contact
  (`daily_document`): lines combined by (PEAK product code, VAT rate, unit price), quantities and
  discounts summed; the total is asserted to equal the sum of those sales to the satang.
* Refunds become credit notes (`credit_note_document`), never netted into sales.
* Sales of a day that arrive after its entry went out become a supplement `POSDAY-<branch>-<D>-S<n>`
  holding only those sales (`plan_daily` writes the jobs).

The daily jobs are planned by the exports runner (`plan_daily`), once the business day is over plus
`daily_after` (default 3 h, i.e. 03:00 the next morning). A job's payload freezes which sales it holds:
eligible sales of that day with `after_sale_id < sale.id <= through_sale_id`, so building it again at
any later attempt gives the same document, and a late sale (a higher id) can only be in a supplement.

Bill (basket) discounts are already spread over each sale's lines when the sale is priced
(data.pricing.allocate: pro rata to the line's net, largest remainder, to the satang), and kept per line
in sale_line.basket_discount; the aggregate sums those shares, so every sale's lines still add up to
what it cost and every VAT rate keeps its own discount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlalchemy.engine import Connection, Engine
from sqlmodel import select

from data import outbox
from data.db import writer
from data.models import ExportJob, ExportPayload, Member, Payment, Product, Sale, SaleLine
from data.money import HUNDRED, ZERO, round_money
from data.outbox import ExportTarget
from data.types import utcnow

DAILY_EVENT = "peak.daily"
MEMBER_EVENT = "sale.completed"
REFUND_EVENT = "sale.refunded"
DONE = ("succeeded", "skipped", "cancelled")


class PeakBlocked(ValueError):
    """The document cannot be built as it should be: a human must fix something first (diagnostic)."""


class PeakWaiting(ValueError):
    """The document depends on another job that has not been delivered yet."""


class PeakNotNeeded(ValueError):
    """The job has nothing to send: what it would export is in another document (a member-sale job of a
    sale without a member id is in the daily POS Customer entry)."""


@dataclass(frozen=True)
class PeakConfig:
    """What building needs from the connector settings (app/connectors/peak.py makes one)."""

    connector: str = "peak"
    branch: str = "BKK01"
    timezone: str = "Asia/Bangkok"
    cutoff: time = time(0, 0)
    currency: str = "THB"
    date_basis: str = "payment"  # payment | sale: in this till a sale is committed when it is paid
    pos_customer_code: str = ""
    tax_invoice: int = 0
    tax_status: int = 1
    vat_types: dict[str, int] = field(default_factory=lambda: {"7": 3, "0": 1})
    payment_methods: dict[str, str] | None = None  # tender -> PEAK payment method code; None: no paidPayments
    rounding_code: str = ""
    daily_after: timedelta = timedelta(hours=3)
    days_back: int = 7


@dataclass
class PeakDoc:
    """One PEAK document: where it goes, its reference (for the lookup before any resend) and body."""

    endpoint: str  # receipts | creditnotes
    reference: str
    body: dict
    contact: dict | None = None  # a member contact to make sure of first: {"code", "name", "phone"}
    info: dict = field(default_factory=dict)


# -- dates and references ---------------------------------------------------------------------------

def business_date(at: datetime, timezone: str, cutoff: time = time(0, 0)) -> date:
    """business_date = (at in store time − cutoff).date()  (§6.8 rule 1)."""
    local = at.astimezone(ZoneInfo(timezone))
    return (local - timedelta(hours=cutoff.hour, minutes=cutoff.minute)).date()


def day_bounds(day: date, timezone: str, cutoff: time = time(0, 0)) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a business day."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, cutoff, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), cutoff, tzinfo=zone)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


def daily_reference(branch: str, day: date, supplement: int = 0) -> str:
    return f"POSDAY-{branch}-{ymd(day)}" + (f"-S{supplement}" if supplement else "")


def thai_phone(e164: str) -> str:
    """+66812345678 -> 0812345678 (PEAK contacts use the national form); others stay as they are."""
    return "0" + e164[3:] if e164.startswith("+66") else e164


def last_ready_day(cfg: PeakConfig, now: datetime) -> date:
    """The latest business day whose daily entry may be built: it ended `daily_after` ago."""
    local = now.astimezone(ZoneInfo(cfg.timezone)).replace(tzinfo=None)
    shifted = local - timedelta(hours=cfg.cutoff.hour, minutes=cfg.cutoff.minute) - cfg.daily_after
    return shifted.date() - timedelta(days=1)


# -- money helpers -----------------------------------------------------------------------------------

def _dec(value, scale: int = 4) -> Decimal:
    """SQL sums come back typed (Decimal) or as the stored scaled integer, by dialect and expression."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(int(value)).scaleb(-scale)


def _rate_key(rate: Decimal) -> str:
    return f"{rate.normalize():f}"


def _vat_type(cfg: PeakConfig, rate: Decimal) -> int:
    key = _rate_key(rate)
    if key not in cfg.vat_types:
        raise PeakBlocked(f"VAT rate {key} % has no PEAK vatType (vat_types in the connector settings)")
    return int(cfg.vat_types[key])


def _line_vat(net: Decimal, rate: Decimal, inclusive: bool, currency: str) -> Decimal:
    if rate == 0:
        return ZERO
    return round_money(net * rate / ((HUNDRED + rate) if inclusive else HUNDRED), currency)


def document_total(products: Sequence[dict], currency: str = "THB") -> Decimal:
    """Σ (quantity × price − discount), each line rounded to the currency: what PEAK will total."""
    return sum((round_money(p["quantity"] * p["price"], currency) - p["discount"] for p in products), ZERO)


def _product_line(code: str, name: str, qty: Decimal, price: Decimal, total: Decimal, discounts: Decimal,
                  vat_type: int, currency: str) -> dict:
    """A PEAK product line for `qty` at `price` that costs exactly `total`. Whole quantities give
    discount = the discounts summed; a weighed quantity whose rounded qty × price differs from the sum
    of the rounded line grosses puts the rounding difference in the discount, or, if that would go
    negative, becomes one line of quantity 1 at the gross."""
    gross = round_money(qty * price, currency)
    discount = gross - total
    if discount < 0:
        return {"productCode": code, "name": name, "description": f"{qty.normalize():f} × {price}",
                "quantity": Decimal(1), "price": total + discounts, "discount": discounts, "vatType": vat_type}
    return {"productCode": code, "name": name, "quantity": qty, "price": price, "discount": discount,
            "vatType": vat_type}


def _codes(conn: Connection, connector: str, product_ids: Sequence[int]) -> dict[int, tuple[str, str, str | None]]:
    """product id -> (sku, name, PEAK code or None). The code is external_ids[<connector name>], or
    external_ids["peak"] when the connector has another name."""
    out = {}
    for pid, sku, name, ext in conn.execute(select(Product.id, Product.sku, Product.name, Product.external_ids)
                                            .where(Product.id.in_(list(product_ids)))):
        ext = ext or {}
        code = ext.get(connector) or ext.get("peak")
        out[pid] = (sku, name, str(code) if code not in (None, "") else None)
    return out


def _missing(codes: dict[int, tuple[str, str, str | None]]) -> None:
    skus = sorted(sku for sku, _name, code in codes.values() if code is None)
    if skus:
        shown = ", ".join(skus[:20]) + (f" and {len(skus) - 20} more" if len(skus) > 20 else "")
        raise PeakBlocked(f"{len(skus)} product(s) have no PEAK product code (external id): {shown}")


def _payments(cfg: PeakConfig, day: date, tenders: Sequence[tuple[str, Decimal]], expected: Decimal) -> dict | None:
    """paidPayments grouped by tender, each mapped to a PEAK payment method (only when the connector
    maps tenders; an unmapped tender blocks)."""
    if cfg.payment_methods is None:
        return None
    unmapped = sorted({t for t, _ in tenders if t not in cfg.payment_methods})
    if unmapped:
        raise PeakBlocked(f"tender(s) not mapped to a PEAK payment method (payment_methods): {', '.join(unmapped)}")
    by_method: dict[str, Decimal] = {}
    for tender, amount in tenders:
        code = cfg.payment_methods[tender]
        by_method[code] = by_method.get(code, ZERO) + amount
    paid = sum(by_method.values(), ZERO)
    if paid != expected:
        raise PeakBlocked(f"payments {paid} do not equal the document total {expected}")
    return {"paymentDate": ymd(day), "payments": [{"paymentMethodCode": code, "amount": amount}
                                                  for code, amount in sorted(by_method.items())]}


def _rounding_line(cfg: PeakConfig, rounding: Decimal) -> dict | None:
    """Cash rounding is an explicit line when payments are sent (the payments include it)."""
    if rounding == 0 or cfg.payment_methods is None:
        return None
    if not cfg.rounding_code:
        raise PeakBlocked(f"cash rounding {rounding} needs a rounding_code (a PEAK product for rounding)")
    return {"productCode": cfg.rounding_code, "name": "Cash rounding", "quantity": Decimal(1), "price": rounding,
            "discount": ZERO, "vatType": _vat_type(cfg, ZERO)}


# -- member sales and credit notes -------------------------------------------------------------------

def member_sale_document(engine: Engine, cfg: PeakConfig, receipt: str, key: str) -> PeakDoc:
    with engine.connect() as conn:
        sale = conn.execute(select(Sale).where(Sale.receipt_number == receipt)).first()
        if sale is None:
            raise PeakBlocked(f"no sale {receipt}")
        member = conn.execute(select(Member).where(Member.id == sale.member_id)).first() if sale.member_id else None
        if member is None:
            raise PeakNotNeeded(f"{receipt} has no member (a phone only): it is in the daily POS Customer entry")
        lines = conn.execute(select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.line_no)).all()
        codes = _codes(conn, cfg.connector, [ln.product_id for ln in lines])
        tenders = [(p.tender, p.amount) for p in conn.execute(select(Payment).where(Payment.sale_id == sale.id))]
    _missing(codes)
    day = business_date(sale.created_at, cfg.timezone, cfg.cutoff)
    products = []
    for ln in lines:
        products.append(_product_line(codes[ln.product_id][2], ln.name, ln.quantity, ln.unit_price, ln.total,
                                      ln.line_discount + ln.basket_discount, _vat_type(cfg, ln.vat_rate),
                                      cfg.currency))
    expected = sale.total - (ZERO if sale.prices_include_vat else sale.vat_total)
    got = document_total(products, cfg.currency)
    if got != expected:
        raise PeakBlocked(f"document lines {got} do not equal the sale total {expected} (Δ={got - expected})")
    rounding = _rounding_line(cfg, sale.rounding)
    if rounding:
        products.append(rounding)
    phone = thai_phone(member.phone)
    body = {"issuedDate": ymd(day), "dueDate": ymd(day), "contactCode": phone, "reference": receipt,
            "isTaxInvoice": cfg.tax_invoice, "taxStatus": cfg.tax_status, "products": products,
            "remark": f"POS {receipt}", "tags": ["POS", "POS-MEMBER", cfg.branch, key]}
    payments = _payments(cfg, day, tenders, expected + sale.rounding)
    if payments:
        body["paidPayments"] = payments
    return PeakDoc("receipts", receipt, body, contact={"code": phone, "name": member.name or phone,
                                                       "phone": phone},
                   info={"business_date": day.isoformat(), "total": str(expected)})


def credit_note_document(engine: Engine, cfg: PeakConfig, refund_number: str, key: str, *,
                         check_depends: bool = True) -> PeakDoc:
    """A refund as a credit note dated on the refund's business date, against the member receipt or
    the daily entry (or supplement) that held the original sale. It waits until that one went out."""
    with engine.connect() as conn:
        refund = conn.execute(select(Sale).where(Sale.receipt_number == refund_number)).first()
        if refund is None or refund.kind != "refund":
            raise PeakBlocked(f"no refund {refund_number}")
        original = conn.execute(select(Sale).where(Sale.id == refund.refund_of_id)).first()
        member = conn.execute(select(Member).where(Member.id == original.member_id)).first() \
            if original.member_id else None
        lines = conn.execute(select(SaleLine).where(SaleLine.sale_id == refund.id).order_by(SaleLine.line_no)).all()
        codes = _codes(conn, cfg.connector, [ln.product_id for ln in lines])
        against, depends = _original_document(conn, cfg, original)
    if depends is None or depends.event != MEMBER_EVENT:
        member = None  # the original sale went in the POS Customer entry: so does its credit note
    _missing(codes)
    if check_depends and depends is not None and depends.state not in DONE:
        raise PeakWaiting(f"waits for {against} (job {depends.id}, {depends.state}) to reach PEAK first")
    if check_depends and depends is not None:
        _not_dry_run(depends, against)
    day = business_date(refund.created_at, cfg.timezone, cfg.cutoff)
    products = [_product_line(codes[ln.product_id][2], ln.name, ln.quantity, ln.unit_price, ln.total, ZERO,
                              _vat_type(cfg, ln.vat_rate), cfg.currency) for ln in lines]
    expected = refund.total - (ZERO if refund.prices_include_vat else refund.vat_total)
    got = document_total(products, cfg.currency)
    if got != expected:
        raise PeakBlocked(f"credit note lines {got} do not equal the refund total {expected} (Δ={got - expected})")
    contact = thai_phone(member.phone) if member else cfg.pos_customer_code
    if not contact:
        raise PeakBlocked("no pos_customer_code in the connector settings (the POS Customer contact)")
    reference = f"CN-{refund_number}"
    body = {"issuedDate": ymd(day), "dueDate": ymd(day), "contactCode": contact, "reference": reference,
            "isTaxInvoice": cfg.tax_invoice, "taxStatus": cfg.tax_status, "products": products,
            "remark": f"Refund {refund_number} of {original.receipt_number} ({against}); {refund.reason}".rstrip("; "),
            "tags": ["POS", "POS-CN", cfg.branch, key, against]}
    return PeakDoc("creditnotes", reference, body,
                   contact={"code": contact, "name": member.name or contact, "phone": contact} if member else None,
                   info={"business_date": day.isoformat(), "against": against, "total": str(expected)})


_JOBS = select(ExportJob.__table__, ExportPayload.body.label("payload")).select_from(outbox.WITH_PAYLOAD)
"""Job rows with their payload."""


def _not_dry_run(job, reference: str) -> None:
    """A live document must not refer to one that was only built in dry run (it is not in PEAK)."""
    if job.state == "skipped" and job.resolution == outbox.DRY_RUN:
        raise PeakBlocked(f"{reference} was only built in dry run (live = false) and is not in PEAK: retry job "
                          f"{job.id} first (till exports retry {job.id})")


def _original_document(conn: Connection, cfg: PeakConfig, original):
    """(reference of the PEAK document holding the original sale, its job or None): its member
    receipt when it went one by one, else the daily entry (or supplement) of its day."""
    job = conn.execute(_JOBS.where(
        ExportJob.connector == cfg.connector, ExportJob.event == MEMBER_EVENT,
        ExportJob.source_id == original.receipt_number)).first() if original.member_id else None
    if job is not None:
        return original.receipt_number, job
    day = business_date(original.created_at, cfg.timezone, cfg.cutoff)
    for job in conn.execute(_JOBS.where(
            ExportJob.connector == cfg.connector, ExportJob.event == DAILY_EVENT,
            ExportJob.business_date == day.isoformat()).order_by(ExportJob.id)):
        p = job.payload or {}
        if p.get("after_sale_id", 0) < original.id <= p.get("through_sale_id", 0):
            return job.source_id, job
    raise PeakWaiting(f"waits for the daily entry {daily_reference(cfg.branch, day)} of the original sale "
                      f"{original.receipt_number}")


# -- the daily POS Customer entry -------------------------------------------------------------------

def _eligible(cfg: PeakConfig, start: datetime, end: datetime, after: int, through: int):
    """Sales of the branch in [start, end) that do not go one by one, not zero, with after < id <= through.
    One by one means a member (member id) and a member-sale job of this connector, both written with
    the sale, so what a day holds never changes: a sale with a member but no such job (no phone on the
    cart, or sold before the connector was set up) and a sale with a phone but no member are in the
    day's entry, never in no document at all."""
    member_job = select(ExportJob.id).where(ExportJob.source_id == Sale.receipt_number,
                                            ExportJob.event == MEMBER_EVENT,
                                            ExportJob.connector == cfg.connector).exists()
    return ((Sale.store_id == cfg.branch) & (Sale.kind == "sale") & (Sale.member_id.is_(None) | ~member_job)
            & (Sale.total != 0) & (Sale.created_at >= start) & (Sale.created_at < end)
            & (Sale.id > after) & (Sale.id <= through))


def daily_document(engine: Engine, cfg: PeakConfig, payload: dict, key: str, *,
                   check_depends: bool = False) -> PeakDoc:
    """The one receipt for the "POS Customer" of a business day (or a supplement of it): §6.8. With
    `check_depends` (live), a supplement is blocked while an earlier entry of its day was only a dry run."""
    day = date.fromisoformat(payload["business_date"])
    supplement = int(payload.get("supplement", 0))
    start, end = day_bounds(day, cfg.timezone, cfg.cutoff)
    where = _eligible(cfg, start, end, int(payload.get("after_sale_id", 0)), int(payload["through_sale_id"]))
    if not cfg.pos_customer_code:
        raise PeakBlocked("no pos_customer_code in the connector settings (the POS Customer contact)")
    with engine.connect() as conn:
        if supplement and check_depends:
            for job in conn.execute(_JOBS.where(
                    ExportJob.connector == cfg.connector, ExportJob.event == DAILY_EVENT,
                    ExportJob.business_date == day.isoformat(), ExportJob.source_id != payload.get("reference"))
                    .order_by(ExportJob.id)):
                if int((job.payload or {}).get("supplement", 0)) < supplement:
                    _not_dry_run(job, job.source_id)
        head = conn.execute(select(
            func.count(Sale.id), func.min(Sale.receipt_number), func.max(Sale.receipt_number),
            func.sum(Sale.total), func.sum(Sale.vat_total), func.sum(Sale.rounding),
            func.sum(case((Sale.prices_include_vat, 1), else_=0))).where(where)).one()
        count = head[0] or 0
        if count == 0:
            raise PeakBlocked(f"{daily_reference(cfg.branch, day, supplement)}: no eligible sales")
        inclusive = int(head[6] or 0)
        if inclusive not in (0, count):
            raise PeakBlocked("the day mixes sales with prices including and excluding VAT")
        inclusive_vat = inclusive == count
        groups = conn.execute(
            select(SaleLine.product_id, SaleLine.vat_rate, SaleLine.unit_price, func.sum(SaleLine.quantity),
                   func.sum(SaleLine.line_discount), func.sum(SaleLine.basket_discount), func.sum(SaleLine.total))
            .join(Sale, Sale.id == SaleLine.sale_id).where(where)
            .group_by(SaleLine.product_id, SaleLine.vat_rate, SaleLine.unit_price)).all()
        codes = _codes(conn, cfg.connector, sorted({g[0] for g in groups}))
        tenders = [(t, _dec(v)) for t, v in conn.execute(
            select(Payment.tender, func.sum(Payment.amount)).join(Sale, Sale.id == Payment.sale_id).where(where)
            .group_by(Payment.tender).order_by(Payment.tender))]
    _missing(codes)
    total, receipt_vat, rounding = _dec(head[3]), _dec(head[4]), _dec(head[5])
    # Lines combined by (PEAK code, VAT rate, unit price in satang).
    combined: dict[tuple[str, Decimal, Decimal], list] = {}
    for pid, rate, price, qty, ld, bd, line_total in groups:
        rate, price = _dec(rate, 2), _dec(price)
        k = (codes[pid][2], rate, price)
        acc = combined.setdefault(k, [ZERO, ZERO, ZERO, codes[pid][1]])
        acc[0] += _dec(qty, 3)
        acc[1] += _dec(ld) + _dec(bd)
        acc[2] += _dec(line_total)
    products, net_by_rate = [], {}
    for (code, rate, price), (qty, discounts, line_total, name) in sorted(combined.items(), key=lambda kv: (
            kv[0][0], kv[0][1], kv[0][2])):
        products.append(_product_line(code, name, qty, price, line_total, discounts, _vat_type(cfg, rate),
                                      cfg.currency))
        net_by_rate[rate] = net_by_rate.get(rate, ZERO) + line_total
    expected = total - (ZERO if inclusive_vat else receipt_vat)
    got = document_total(products, cfg.currency)
    if got != expected:
        raise PeakBlocked(f"aggregate mismatch Δ={got - expected}: lines {got}, sales {expected}")
    peak_vat = sum((_line_vat(net, rate, inclusive_vat, cfg.currency) for rate, net in net_by_rate.items()), ZERO)
    delta = peak_vat - receipt_vat
    line = _rounding_line(cfg, rounding)
    if line:
        products.append(line)
    reference = daily_reference(cfg.branch, day, supplement)
    what = "POS daily sales" if not supplement else f"POS daily sales supplement S{supplement}"
    remark = (f"{what} {day.isoformat()} {cfg.branch}: receipts {head[1]}–{head[2]} (n={count}), voided: none, "
              f"VATΔ={delta}")
    if rounding and cfg.payment_methods is None:
        remark += f", cash rounding {rounding}"
    body = {"issuedDate": ymd(day), "dueDate": ymd(day), "contactCode": cfg.pos_customer_code,
            "reference": reference, "isTaxInvoice": cfg.tax_invoice, "taxStatus": cfg.tax_status,
            "products": products, "remark": remark, "tags": ["POS", "POS-DAILY", cfg.branch, key]}
    payments = _payments(cfg, day, tenders, expected + rounding)
    if payments:
        body["paidPayments"] = payments
    return PeakDoc("receipts", reference, body, info={
        "business_date": day.isoformat(), "sales": count, "total": str(expected), "receipt_vat": str(receipt_vat),
        "peak_vat": str(peak_vat), "vat_delta": str(delta), "first": head[1], "last": head[2]})


def build(engine: Engine, cfg: PeakConfig, job: outbox.ClaimedJob, *, check_depends: bool = True) -> PeakDoc:
    """The document of a claimed PEAK job."""
    if job.event == DAILY_EVENT:
        return daily_document(engine, cfg, job.payload, job.idempotency_key, check_depends=check_depends)
    if job.event == MEMBER_EVENT:
        return member_sale_document(engine, cfg, job.source_id, job.idempotency_key)
    if job.event == REFUND_EVENT:
        return credit_note_document(engine, cfg, job.source_id, job.idempotency_key, check_depends=check_depends)
    raise PeakBlocked(f"PEAK does not take {job.event} events")


# -- planning the daily jobs ------------------------------------------------------------------------

def plan_daily(engine: Engine, cfg: PeakConfig, target: ExportTarget, *, now: datetime | None = None) -> list[str]:
    """Write the daily jobs that are due: the main entry of every business day that is over (from the
    first day with a sale, at most `days_back` days back), a skipped job for a day without eligible
    sales, and a supplement for sales of a day whose entries all went out. Returns the references
    written. Cheap when there is nothing to do (a few indexed reads, no write transaction)."""
    now = now or utcnow()
    last = last_ready_day(cfg, now)
    first = last - timedelta(days=max(cfg.days_back, 1) - 1)
    window_start, _ = day_bounds(first, cfg.timezone, cfg.cutoff)
    _, window_end = day_bounds(last, cfg.timezone, cfg.cutoff)
    with engine.connect() as conn:
        plan = _plan(conn, cfg, first, last, window_start, window_end)
    if not plan:
        return []
    written = []
    daily = replace(target, events=(DAILY_EVENT,), member_events=())
    with writer(engine).begin() as conn:
        # Again inside the write lock: two workers planning at once write each job once (unique key).
        for reference, day, supplement, after, state, resolution in _plan(conn, cfg, first, last, window_start,
                                                                           window_end):
            through = conn.execute(select(func.max(Sale.id))).scalar() or 0
            payload = {"kind": "peak.daily" if not supplement else "peak.supplement", "branch": cfg.branch,
                       "business_date": day.isoformat(), "supplement": supplement, "after_sale_id": after,
                       "through_sale_id": through, "reference": reference}
            outbox.enqueue(conn, [daily], DAILY_EVENT, "day", reference, payload, business_date=day.isoformat(),
                           at=now, state=state, resolution=resolution)
            written.append(reference)
    return written


def _plan(conn: Connection, cfg: PeakConfig, first: date, last: date, window_start: datetime,
          window_end: datetime) -> list[tuple[str, date, int, int, str, str]]:
    if last < first:
        return []
    jobs: dict[str, list] = {}
    for source_id, bdate, state, payload in conn.execute(
            select(ExportJob.source_id, ExportJob.business_date, ExportJob.state, ExportPayload.body)
            .select_from(outbox.WITH_PAYLOAD).where(
                ExportJob.connector == cfg.connector, ExportJob.event == DAILY_EVENT,
                ExportJob.business_date >= first.isoformat(), ExportJob.business_date <= last.isoformat())):
        jobs.setdefault(bdate, []).append((int((payload or {}).get("supplement", 0)), state, payload or {}))
    max_id = conn.execute(select(func.max(Sale.id))).scalar() or 0
    first_sale = conn.execute(select(func.min(Sale.created_at)).where(
        Sale.store_id == cfg.branch, Sale.created_at >= window_start, Sale.created_at < window_end)).scalar()
    if first_sale is None:
        return []
    day = max(first, business_date(first_sale, cfg.timezone, cfg.cutoff))
    out = []
    while day <= last:
        start, end = day_bounds(day, cfg.timezone, cfg.cutoff)
        existing = sorted(jobs.get(day.isoformat(), []), key=lambda j: j[0])
        if not existing:
            n = conn.execute(select(func.count(Sale.id)).where(_eligible(cfg, start, end, 0, max_id))).scalar()
            state, why = ("pending", "") if n else ("skipped", "no eligible sales")
            out.append((daily_reference(cfg.branch, day), day, 0, 0, state, why))
        else:
            supplement, state, payload = existing[-1]
            through = int(payload.get("through_sale_id", 0))
            if state in DONE and through < max_id and conn.execute(select(func.count(Sale.id)).where(
                    _eligible(cfg, start, end, through, max_id))).scalar():
                out.append((daily_reference(cfg.branch, day, supplement + 1), day, supplement + 1, through,
                            "pending", ""))
        day += timedelta(days=1)
    return out


# -- diagnostics --------------------------------------------------------------------------------------

def missing_external_ids(engine: Engine, connector_name: str, since: datetime) -> list[dict]:
    """Products sold since `since` that have no external id for this connector (what blocks PEAK
    jobs): [{"product_id", "sku", "name", "lines"}], most sold first."""
    with engine.connect() as conn:
        sold = conn.execute(select(SaleLine.product_id, func.count(SaleLine.id)).join(Sale, Sale.id == SaleLine.sale_id)
                            .where(Sale.created_at >= since).group_by(SaleLine.product_id)).all()
        codes = _codes(conn, connector_name, [pid for pid, _ in sold]) if sold else {}
    counts = dict(sold)
    out = [{"product_id": pid, "sku": sku, "name": name, "lines": counts[pid]}
           for pid, (sku, name, code) in codes.items() if code is None]
    return sorted(out, key=lambda r: (-r["lines"], r["sku"]))
