"""X and Z reports. A report covers what happened on a terminal since its last Z: the sales after the
previous Z's last sale and the cash movements after its last movement. The Z closes that period in
one write transaction (so no sale slips between the figures and the close), numbers itself without
gaps, keeps its figures, and records a `day.closed` event for the exports.

Business day: the store's local date of the period's start, shifted back by the cutoff (04:00 means a
sale at 02:00 belongs to the day before), and always after the previous Z's day: a sale made after a
day was closed belongs to the next one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlalchemy.engine import Connection, Engine
from sqlmodel import select

from data import outbox
from data.db import read_session, writer
from data.documents import ReportDoc
from data.models import (
    AuditLog,
    CashMovement,
    DayClose,
    DomainEvent,
    Payment,
    ReceiptSeries,
    Sale,
    SaleLine,
    Shift,
)
from data.money import ZERO, round_money
from data.operators import OperatorInfo
from data.outbox import ExportTarget
from data.places import Place
from data.types import utcnow


class ReportError(ValueError):
    pass


def business_date(at: datetime, timezone: str, cutoff: time = time(0, 0)) -> date:
    local = at.astimezone(ZoneInfo(timezone))
    return (local - timedelta(hours=cutoff.hour, minutes=cutoff.minute)).date()


def _last_close(conn: Connection, terminal_id: int):
    return conn.execute(select(DayClose.z_number, DayClose.last_sale_id, DayClose.last_movement_id,
                               DayClose.business_date, DayClose.closed_at, DayClose.report)
                        .where(DayClose.terminal_id == terminal_id).order_by(DayClose.z_number.desc())
                        .limit(1)).first()


def _receipt_seq(number: str) -> int:
    match = re.search(r"-(\d+)$", number)
    return int(match.group(1)) if match else 0


def compute(conn: Connection, place: Place, *, kind: str, now: datetime, cutoff: time) -> tuple[ReportDoc, int, int]:
    """The figures since the last Z; returns the report and the last sale and movement ids it covers."""
    last = _last_close(conn, place.terminal_id)
    after_sale = last.last_sale_id if last else 0
    after_move = last.last_movement_id if last else 0
    in_period = (Sale.terminal_id == place.terminal_id) & (Sale.id > after_sale)
    row = conn.execute(select(
        func.count(case((Sale.kind == "sale", 1))), func.coalesce(func.sum(case((Sale.kind == "sale", Sale.total))), 0),
        func.count(case((Sale.kind == "refund", 1))),
        func.coalesce(func.sum(case((Sale.kind == "refund", Sale.total))), 0),
        func.coalesce(func.sum(case((Sale.kind == "sale", Sale.discount_total))), 0),
        func.coalesce(func.sum(case((Sale.kind == "refund", -Sale.rounding), else_=Sale.rounding)), 0),
        func.max(Sale.id), func.min(Sale.receipt_number), func.max(Sale.receipt_number), func.min(Sale.created_at),
        func.coalesce(func.sum(case((Sale.kind == "deposit", Sale.total))), 0),
    ).where(in_period)).one()
    money = Sale.__table__.c.total.type

    dec = money.of_aggregate

    sales_count, sales_total, refunds_count, refunds_total = row[0], dec(row[1]), row[2], dec(row[3])
    discounts, rounding = dec(row[4]), dec(row[5])
    last_sale_id = row[6] or after_sale
    signed = case((Sale.kind == "refund", -Payment.amount), else_=Payment.amount)
    tenders = [(t, dec(v)) for t, v in conn.execute(
        select(Payment.tender, func.sum(signed)).join(Sale, Sale.id == Payment.sale_id).where(in_period)
        .group_by(Payment.tender).order_by(Payment.tender))]
    vat_signed = case((Sale.kind == "refund", -1), else_=1)
    vat = []
    base_expr = SaleLine.total - case((Sale.prices_include_vat, SaleLine.vat_amount), else_=0)
    for rate, base, amount in conn.execute(
            select(SaleLine.vat_rate, func.sum(base_expr * vat_signed), func.sum(SaleLine.vat_amount * vat_signed))
            .join(Sale, Sale.id == SaleLine.sale_id).where(in_period).group_by(SaleLine.vat_rate)
            .order_by(SaleLine.vat_rate)):
        rate = rate if isinstance(rate, Decimal) else SaleLine.__table__.c.vat_rate.type.process_result_value(rate, None)
        vat.append((rate, dec(base), dec(amount)))
    moves = [(k, dec(v)) for k, v in conn.execute(
        select(CashMovement.kind, func.sum(CashMovement.amount))
        .where(CashMovement.terminal_id == place.terminal_id, CashMovement.id > after_move)
        .group_by(CashMovement.kind).order_by(CashMovement.kind))]
    last_move_id = conn.execute(select(func.max(CashMovement.id)).where(
        CashMovement.terminal_id == place.terminal_id, CashMovement.id > after_move)).scalar() or after_move
    cash = dict(tenders).get("cash", ZERO)
    expected = cash + sum((v for _, v in moves), ZERO)
    # Receipt numbers of this period must run on from the last Z without a hole.
    numbers = sorted(_receipt_seq(n) for n in conn.execute(select(Sale.receipt_number).where(in_period)).scalars())
    # The last receipt before this period: that of the previous Z's last sale (empty Zs carry its id on).
    previous_last = 0
    if last is not None and last.last_sale_id:
        previous_last = _receipt_seq(conn.execute(select(Sale.receipt_number)
                                                  .where(Sale.id == last.last_sale_id)).scalar() or "")
    gaps = []
    expected_next = previous_last + 1  # numbers start at 000001: a first period lacking it has a gap
    for n in numbers:
        if n > expected_next:
            gaps += [f"{place.store_id}-{place.terminal_code}-{m:06d}" for m in range(expected_next, min(n, expected_next + 20))]
        expected_next = n + 1
    voids = conn.execute(select(func.count(AuditLog.id)).where(
        AuditLog.action == "void.line", AuditLog.terminal == place.terminal_code, AuditLog.store_id == place.store_id,
        AuditLog.at > (last.closed_at if last else datetime(1970, 1, 1, tzinfo=now.tzinfo)))).scalar() or 0
    opened = row[9] or now
    first_move = conn.execute(select(func.min(CashMovement.at)).where(
        CashMovement.terminal_id == place.terminal_id, CashMovement.id > after_move)).scalar()
    if first_move is not None and first_move < opened:
        opened = first_move
    day = business_date(opened, place.timezone, cutoff)
    if last is not None:
        day = max(day, date.fromisoformat(last.business_date) + timedelta(days=1))
    number = None
    if kind == "Z":
        number = conn.execute(select(ReceiptSeries.next_z).where(ReceiptSeries.terminal_id == place.terminal_id)).scalar()
    doc = ReportDoc(
        kind=kind, number=number, store_id=place.store_id, store_name=place.store_name, terminal=place.terminal_code,
        business_date=day.isoformat(), opened_at=opened, closed_at=now, timezone=place.timezone,
        currency=place.currency, sales_count=sales_count, sales_total=sales_total, refunds_count=refunds_count,
        refunds_total=refunds_total, voids_count=voids, discounts_total=discounts,
        deposits_total=round_money(dec(row[10]), place.currency),
        tenders=tuple(tenders), vat=tuple(vat), expected_cash=expected,
        first_receipt=row[7], last_receipt=row[8], receipt_gaps=tuple(gaps),
        cash_movements=tuple(moves), rounding_total=rounding,
    )
    return doc, last_sale_id, last_move_id


def x_report(engine: Engine, place: Place, *, cutoff: time = time(0, 0), now: datetime | None = None) -> ReportDoc:
    with engine.connect() as conn:
        return compute(conn, place, kind="X", now=now or utcnow(), cutoff=cutoff)[0]


def close_day(engine: Engine, place: Place, operator: OperatorInfo, counts: dict[str, int], counted: Decimal, *,
              tolerance: Decimal, approver: OperatorInfo | None = None, reason: str = "",
              cutoff: time = time(0, 0), now: datetime | None = None,
              exports: Sequence[ExportTarget] = ()) -> ReportDoc:
    """The Z. The count is blind: the caller shows the variance only after this returns. A variance
    beyond `tolerance` needs an approving manager and a reason, or nothing is closed."""
    now = now or utcnow()
    with writer(engine).begin() as conn:
        doc, last_sale_id, last_move_id = compute(conn, place, kind="Z", now=now, cutoff=cutoff)
        variance = counted - doc.expected_cash
        if abs(variance) > tolerance and (approver is None or not reason.strip()):
            raise VarianceNeedsApproval(variance, doc.expected_cash)
        doc = replace(doc, counted_cash=counted, variance=variance)
        conn.execute(ReceiptSeries.__table__.update().where(ReceiptSeries.terminal_id == place.terminal_id)
                     .values(next_z=ReceiptSeries.next_z + 1))
        conn.execute(DayClose.__table__.insert().values(
            terminal_id=place.terminal_id, z_number=doc.number, business_date=doc.business_date,
            opened_at=doc.opened_at, closed_at=now, last_sale_id=last_sale_id, last_movement_id=last_move_id,
            counted_cash=counted, expected_cash=doc.expected_cash, variance=variance, counts=counts,
            operator_id=operator.id, approved_by_id=approver.id if approver else None, reason=reason.strip(),
            report=report_json(doc)))
        conn.execute(Shift.__table__.update().where(Shift.terminal_id == place.terminal_id, Shift.status == "open")
                     .values(status="closed", closed_at=now))
        reference = f"{place.store_id}-{place.terminal_code}-Z{doc.number:06d}"
        conn.execute(DomainEvent.__table__.insert().values(
            kind="day.closed", reference=reference, payload=report_json(doc), created_at=now))
        if exports:
            outbox.enqueue(conn, exports, "day.closed", "day", reference,
                           outbox.envelope("day.closed", now, report_json(doc)), business_date=doc.business_date,
                           at=now)
        conn.execute(AuditLog.__table__.insert().values(
            at=now, store_id=place.store_id, terminal=place.terminal_code, operator_code=operator.code,
            action="day.close", subject=f"Z{doc.number}", detail={
                "business_date": doc.business_date, "variance": str(variance),
                "approved_by": approver.code if approver else None, "reason": reason.strip()}))
    return doc


class VarianceNeedsApproval(ReportError):
    def __init__(self, variance: Decimal, expected: Decimal) -> None:
        super().__init__(f"variance {variance} is beyond the tolerance: a manager must approve it with a reason")
        self.variance = variance
        self.expected = expected


def report_json(doc: ReportDoc) -> dict:
    """Money as decimal strings, times ISO 8601 UTC: the JSON form, kept in the Z row as printed."""
    def plain(v):
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, datetime):
            return v.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
        if isinstance(v, tuple | list):
            return [plain(x) for x in v]
        return v
    data = {k: plain(v) for k, v in asdict(doc).items()}
    data["tenders"] = {t: str(v) for t, v in doc.tenders}
    data["vat"] = [{"rate": str(r), "base": str(b), "vat": str(v)} for r, b, v in doc.vat]
    data["cash_movements"] = {k: str(v) for k, v in doc.cash_movements}
    return data


def report_from_json(data: dict) -> ReportDoc:
    d = dict(data)
    for key in ("opened_at", "closed_at"):
        d[key] = datetime.fromisoformat(d[key].replace("Z", "+00:00"))
    for key in ("sales_total", "refunds_total", "discounts_total", "deposits_total", "expected_cash", "rounding_total"):
        d[key] = Decimal(d[key])
    for key in ("counted_cash", "variance"):
        d[key] = None if d.get(key) is None else Decimal(d[key])
    d["tenders"] = tuple((t, Decimal(v)) for t, v in d["tenders"].items())
    d["vat"] = tuple((Decimal(v["rate"]), Decimal(v["base"]), Decimal(v["vat"])) for v in d["vat"])
    d["cash_movements"] = tuple((k, Decimal(v)) for k, v in d["cash_movements"].items())
    d["receipt_gaps"] = tuple(d.get("receipt_gaps", ()))
    return ReportDoc(**d)


def z_report(engine: Engine, place: Place, business_day: str | None = None) -> ReportDoc | None:
    """A kept Z of this terminal: the one for `business_day`, or the latest."""
    with read_session(engine) as s:
        q = select(DayClose).where(DayClose.terminal_id == place.terminal_id)
        if business_day:
            q = q.where(DayClose.business_date == business_day)
        row = s.exec(q.order_by(DayClose.z_number.desc())).first()
        return report_from_json(row.report) if row else None


def _signed(sign: int, amount: Decimal) -> str:
    return f"{sign * amount + 0:.2f}"  # + 0: a refund's zero is 0.00, not -0.00


def period_rows(engine: Engine, z_reference: str) -> list[dict]:
    """The sales and refunds a kept Z covers, one plain row each (for the daily CSV file drop)."""
    from data.models import Member, Store, Terminal

    store_id, terminal_code, z = z_reference.rsplit("-", 2)
    number = int(z.removeprefix("Z"))
    with read_session(engine) as s:
        terminal = s.exec(select(Terminal).where(Terminal.store_id == store_id, Terminal.code == terminal_code)).first()
        if terminal is None:
            raise LookupError(f"no terminal {store_id}/{terminal_code}")
        closes = {d.z_number: d for d in s.exec(select(DayClose).where(DayClose.terminal_id == terminal.id,
                                                                         DayClose.z_number.in_([number - 1, number])))}
        if number not in closes:
            raise LookupError(f"no Z {z_reference}")
        after = closes[number - 1].last_sale_id if number - 1 in closes else 0
        zone = ZoneInfo(s.get(Store, store_id).timezone)
        sales = list(s.exec(select(Sale).where(Sale.terminal_id == terminal.id, Sale.id > after,
                                               Sale.id <= closes[number].last_sale_id).order_by(Sale.id)))
        by_sale: dict[int, dict[str, Decimal]] = {}
        for p in s.exec(select(Payment).where(Payment.sale_id.in_([x.id for x in sales]))):
            bucket = p.tender if p.tender in ("cash", "card") else "other"
            by_sale.setdefault(p.sale_id, {}).setdefault(bucket, ZERO)
            by_sale[p.sale_id][bucket] += p.amount
        originals = {x.id: x.receipt_number for x in sales}
        earlier = {x.refund_of_id for x in sales if x.refund_of_id and x.refund_of_id not in originals}
        if earlier:  # refunds of sales from before this period
            originals.update(s.exec(select(Sale.id, Sale.receipt_number).where(Sale.id.in_(earlier))).all())
        phones = {m.id: m.phone for m in s.exec(select(Member).where(Member.id.in_(
            [x.member_id for x in sales if x.member_id])))}
        rows = []
        for x in sales:
            sign = -1 if x.kind == "refund" else 1
            tenders = by_sale.get(x.id, {})
            rows.append({
                "business_date": closes[number].business_date, "receipt_number": x.receipt_number, "kind": x.kind,
                "refund_of": originals.get(x.refund_of_id, "") if x.refund_of_id else "",
                "time_local": x.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                "member_phone": phones.get(x.member_id, ""),
                **{k: _signed(sign, v) for k, v in (("subtotal", x.subtotal), ("discount", x.discount_total),
                                             ("vat", x.vat_total), ("total", x.total), ("rounding", x.rounding))},
                **{k: _signed(sign, tenders.get(k, ZERO)) for k in ("cash", "card", "other")},
            })
        return rows
