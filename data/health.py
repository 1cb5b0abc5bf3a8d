"""Integration health, headless: per-connector figures and status, the failures list, the daily-entry
calendar, pre-flight diagnostics and a sale's export history (reference/exports.md §6.9).

The screen (app/screens/health.py) and `till` both read from here; the actions themselves (retry,
skip, pause) are data.outbox's, audited there. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from data.db import read_session
from data.models import AuditLog, ConnectorState, ExportAttempt, ExportJob, Payment, Product, Sale, SaleLine, Shift
from data.types import utcnow

# What the queue-depth line counts, in the order it shows them.
QUEUE_STATES = ("pending", "retry_wait", "in_flight", "blocked", "uncertain", "dead")
# Jobs still on their way out: the oldest of these is the "oldest pending age".
WAITING = ("pending", "retry_wait", "in_flight", "blocked", "uncertain")
# The failures table by default: what needs a person (plus in_flight past its lease, see failures()).
FAILED = ("retry_wait", "uncertain", "blocked", "dead")
FINISHED = ("succeeded", "skipped", "cancelled")
FAILED_OUTCOMES = ("retry", "connectivity", "dead", "blocked")
# Request headers that carry a secret or a signature: never shown.
SECRET_HEADERS = frozenset({"webhook-signature", "time-signature", "client-token", "user-token", "authorization",
                            "proxy-authorization", "cookie", "set-cookie", "x-api-key", "connect-key"})
STATUSES = ("OK", "Degraded", "Failing", "Paused", "Misconfigured", "Disabled", "Dry-run")
UNCERTAIN_AFTER = timedelta(hours=1)
SOLD_WITHIN = timedelta(days=30)
CALENDAR_DAYS = 14


@dataclass(frozen=True)
class ConnectorInfo:
    """What the data layer needs to know of a configured connector (the app builds it from till.toml)."""

    name: str
    kind: str
    live: bool = False
    delivered: bool = True
    """This version delivers the connector's jobs (PEAK and site arrive with their issues)."""
    problem: str | None = None
    """A configuration problem (no url, no secret, …): the connector shows as Misconfigured."""
    needs_external_ids: bool = False
    """Products must carry an external code for this connector (PEAK)."""
    tender_map: Mapping[str, Any] | None = None
    """Tender → the receiver's payment method, when the connector maps tenders."""
    daily: bool = False
    """The connector takes the day close (daily entries: the calendar and the open-shift check)."""


@dataclass(frozen=True)
class CalendarDay:
    day: date
    state: str  # none | succeeded | waiting | blocked | uncertain | dead | skipped
    jobs: int = 0


@dataclass(frozen=True)
class Summary:
    connector: ConnectorInfo
    status: str
    level: str  # ok | warning | error | muted
    reason: str
    counts: dict[str, int]
    oldest_waiting_at: datetime | None = None
    next_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_success_ref: str = ""
    last_error_at: datetime | None = None
    last_error: str = ""
    last_error_status: int | None = None
    last_error_outcome: str = ""
    sent_24h: int = 0
    failed_24h: int = 0
    paused_reason: str = ""
    paused_by: str = ""
    paused_at: datetime | None = None
    stuck: int = 0
    calendar: tuple[CalendarDay, ...] = ()

    @property
    def name(self) -> str:
        return self.connector.name

    @property
    def success_rate(self) -> float | None:
        return None if not self.sent_24h else (self.sent_24h - self.failed_24h) / self.sent_24h


@dataclass(frozen=True)
class JobRow:
    """One line of the failures table (and of a sale's export history)."""

    id: int
    connector: str
    event: str
    source_type: str
    source_id: str
    state: str
    attempts: int
    max_attempts: int
    last_status: int | None
    error: str
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    business_date: str | None = None
    remote_id: str = ""
    resolution: str = ""

    @property
    def retryable(self) -> bool:
        return self.state in ("dead", "blocked", "uncertain", "retry_wait")

    @property
    def skippable(self) -> bool:
        return self.state not in FINISHED


@dataclass(frozen=True)
class Diagnostic:
    check: str
    level: str  # ok | warning | error
    count: int
    items: tuple[str, ...] = ()
    connector: str | None = None
    blocks: str = ""

    @property
    def ok(self) -> bool:
        return self.level == "ok"


@dataclass(frozen=True)
class JobDetail:
    job: JobRow
    idempotency_key: str
    payload: dict
    attempts: tuple[AttemptRow, ...]


@dataclass(frozen=True)
class AttemptRow:
    no: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    status: int | None
    error: str
    response_body: str
    headers: dict[str, str] = field(default_factory=dict)


# -- small helpers ------------------------------------------------------------------------------------

def first_line(text: str | None, limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:limit]


def redact_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    """Headers as they may be shown: secrets and signatures become ***, whatever their case."""
    return {str(k): ("***" if str(k).lower() in SECRET_HEADERS else str(v)) for k, v in (headers or {}).items()}


def fmt_age(seconds: float | None) -> str:
    """45s, 12m, 3h 05m, 2d 4h: short enough for a connector card at 80 columns."""
    if seconds is None:
        return "—"
    s = int(abs(seconds))
    if s < 60:
        text = f"{s}s"
    elif s < 3600:
        text = f"{s // 60}m"
    elif s < 86400:
        text = f"{s // 3600}h {s % 3600 // 60:02d}m"
    else:
        text = f"{s // 86400}d {s % 86400 // 3600}h"
    return f"-{text}" if seconds < 0 else text


def business_day(at: datetime, timezone: str, cutoff: time = time(0, 0)) -> date:
    local = at.astimezone(ZoneInfo(timezone))
    return (local - timedelta(hours=cutoff.hour, minutes=cutoff.minute)).date()


def day_bounds(day: date, timezone: str, cutoff: time = time(0, 0)) -> tuple[datetime, datetime]:
    """The UTC instants a business day starts and ends at."""
    start = datetime.combine(day, cutoff, tzinfo=ZoneInfo(timezone))
    return start, start + timedelta(days=1)


def _row(job: ExportJob, first: datetime | None = None, last: datetime | None = None) -> JobRow:
    return JobRow(job.id, job.connector, job.event, job.source_type, job.source_id, job.state, job.attempt_count,
                  job.max_attempts, job.last_status, first_line(job.last_error), job.created_at, job.updated_at,
                  job.next_attempt_at if job.state in ("pending", "retry_wait") else None, first, last,
                  job.business_date, job.remote_id, job.resolution)


# -- per connector ------------------------------------------------------------------------------------

def overview(engine: Engine, connectors: Sequence[ConnectorInfo], *, timezone: str = "UTC",
             cutoff: time = time(0, 0), now: datetime | None = None) -> list[Summary]:
    now = now or utcnow()
    with read_session(engine) as s:
        return [_summarise(s, c, timezone, cutoff, now) for c in connectors]


def summarise(engine: Engine, connector: ConnectorInfo, *, timezone: str = "UTC", cutoff: time = time(0, 0),
              now: datetime | None = None) -> Summary:
    return overview(engine, [connector], timezone=timezone, cutoff=cutoff, now=now)[0]


def _summarise(s: Session, c: ConnectorInfo, timezone: str, cutoff: time, now: datetime) -> Summary:
    J, A = ExportJob, ExportAttempt
    counts = {state: 0 for state in QUEUE_STATES}
    for state, n in s.exec(select(J.state, func.count()).where(J.connector == c.name).group_by(J.state)):
        counts[state] = n
    oldest = s.exec(select(func.min(J.created_at)).where(J.connector == c.name, J.state.in_(WAITING))).one()
    next_at = s.exec(select(func.min(J.next_attempt_at)).where(
        J.connector == c.name, J.state.in_(("pending", "retry_wait")))).one()
    stuck = s.exec(select(func.count()).where(J.connector == c.name, J.state == "in_flight",
                                              J.lease_expires_at < now)).one()
    success = s.exec(select(J).where(J.connector == c.name, J.state == "succeeded")
                     .order_by(J.succeeded_at.desc(), J.id.desc()).limit(1)).first()
    error = s.exec(select(A, J.source_id).join(J, J.id == A.job_id).where(
        J.connector == c.name, A.outcome.in_(FAILED_OUTCOMES)).order_by(A.id.desc()).limit(1)).first()
    last_attempt = s.exec(select(A.outcome, A.status_code).join(J, J.id == A.job_id).where(
        J.connector == c.name, A.outcome.not_in(("started", "dry_run"))).order_by(A.id.desc()).limit(1)).first()
    sent = failed = 0
    for outcome, n in s.exec(select(A.outcome, func.count()).join(J, J.id == A.job_id).where(
            J.connector == c.name, A.finished_at >= now - timedelta(hours=24)).group_by(A.outcome)):
        if outcome in ("started", "dry_run"):
            continue
        sent += n
        failed += n if outcome != "success" else 0
    paused_row = s.get(ConnectorState, c.name)
    paused_reason = paused_by = ""
    paused_at = None
    if paused_row is not None and paused_row.paused:
        paused_reason, paused_at = paused_row.reason or "paused", paused_row.updated_at
        who = s.exec(select(AuditLog.operator_code).where(AuditLog.action == "export.pause",
                                                          AuditLog.subject == c.name)
                     .order_by(AuditLog.id.desc()).limit(1)).first()
        paused_by = who or ""
    status, level, reason = _status(c, counts, stuck, paused_reason, paused_by, last_attempt,
                                    error[0] if error else None)
    return Summary(
        connector=c, status=status, level=level, reason=reason, counts=counts, oldest_waiting_at=oldest,
        next_attempt_at=next_at, last_success_at=success.succeeded_at if success else None,
        last_success_ref=(success.remote_id or success.source_id) if success else "",
        last_error_at=(error[0].finished_at or error[0].started_at) if error else None,
        last_error=first_line(error[0].error) if error else "", last_error_status=error[0].status_code if error else None,
        last_error_outcome=error[0].outcome if error else "", sent_24h=sent, failed_24h=failed,
        paused_reason=paused_reason, paused_by=paused_by, paused_at=paused_at, stuck=stuck,
        calendar=_calendar(s, c.name, business_day(now, timezone, cutoff)) if c.daily else ())


def _status(c: ConnectorInfo, counts: dict[str, int], stuck: int, paused_reason: str, paused_by: str,
            last_attempt, last_error: ExportAttempt | None) -> tuple[str, str, str]:
    """The badge: what a support person must look at first wins."""
    if not c.delivered:
        return "Disabled", "muted", f"{c.kind} jobs are not delivered by this version"
    if c.problem:
        return "Misconfigured", "error", c.problem
    if paused_reason:
        return "Paused", "warning", paused_reason + (f" (by {paused_by})" if paused_by else "")
    if counts["dead"]:
        return "Failing", "error", f"{counts['dead']} job(s) gave up; retry them once the cause is fixed"
    failing_now = last_attempt is not None and last_attempt[0] in ("retry", "dead")
    if failing_now and counts["retry_wait"]:
        what = f"HTTP {last_attempt[1]}" if last_attempt[1] else first_line(last_error.error if last_error else "", 60)
        if last_attempt[1] == 429:
            return "Degraded", "warning", "rate limited by the receiver; retrying"
        return "Failing", "error", f"{counts['retry_wait']} job(s) retrying after {what}"
    if last_attempt is not None and last_attempt[0] == "connectivity" and counts["retry_wait"]:
        return "Degraded", "warning", "receiver unreachable; jobs wait without using attempts"
    if counts["blocked"] or counts["uncertain"] or stuck:
        parts = [f"{n} {label}" for n, label in ((counts["blocked"], "blocked"), (counts["uncertain"], "uncertain"),
                                                 (stuck, "stuck in flight")) if n]
        return "Degraded", "warning", ", ".join(parts)
    if not c.live:
        return "Dry-run", "muted", "live = false: payloads are built and checked, nothing is sent"
    return "OK", "ok", "delivering"


_CALENDAR_RANK = {"dead": 6, "blocked": 5, "uncertain": 4, "waiting": 3, "skipped": 2, "succeeded": 1, "none": 0}


def _calendar_state(state: str) -> str:
    if state in ("pending", "retry_wait", "in_flight"):
        return "waiting"
    if state == "cancelled":
        return "skipped"
    return state


def _calendar(s: Session, connector: str, today: date) -> tuple[CalendarDay, ...]:
    first = today - timedelta(days=CALENDAR_DAYS - 1)
    rows = s.exec(select(ExportJob.business_date, ExportJob.state).where(
        ExportJob.connector == connector, ExportJob.business_date >= first.isoformat(),
        ExportJob.business_date <= today.isoformat())).all()
    by_day: dict[str, list[str]] = {}
    for day, state in rows:
        by_day.setdefault(day, []).append(_calendar_state(state))
    days = []
    for n in range(CALENDAR_DAYS):
        d = first + timedelta(days=n)
        states = by_day.get(d.isoformat(), [])
        worst = max(states, key=_CALENDAR_RANK.__getitem__) if states else "none"
        days.append(CalendarDay(d, worst, len(states)))
    return tuple(days)


def daily_calendar(engine: Engine, connector: str, today: date) -> tuple[CalendarDay, ...]:
    """The last 14 business days' daily entries (day-close jobs) of a connector, oldest first."""
    with read_session(engine) as s:
        return _calendar(s, connector, today)


# -- jobs ---------------------------------------------------------------------------------------------

def failures(engine: Engine, *, connector: str | None = None, states: Sequence[str] | None = FAILED,
             event: str | None = None, day: date | None = None, timezone: str = "UTC", cutoff: time = time(0, 0),
             limit: int = 500, now: datetime | None = None) -> list[JobRow]:
    """Jobs needing a person, newest first. `states` None means every state; with the default, jobs
    in flight past their lease (a worker died) are shown too. `day` is the business day the job was
    made on (or the day it exports)."""
    now = now or utcnow()
    J, A = ExportJob, ExportAttempt
    attempts = (select(A.job_id, func.min(A.started_at).label("first"), func.max(A.started_at).label("last"))
                .group_by(A.job_id).subquery())
    q = (select(J, attempts.c.first, attempts.c.last).outerjoin(attempts, attempts.c.job_id == J.id)
         .order_by(J.id.desc()).limit(limit))
    if connector:
        q = q.where(J.connector == connector)
    if states is not None:
        wanted = J.state.in_(list(states))
        if tuple(states) == FAILED:
            wanted = or_(wanted, and_(J.state == "in_flight", J.lease_expires_at < now))
        q = q.where(wanted)
    if event:
        q = q.where(J.event == event)
    if day is not None:
        start, end = day_bounds(day, timezone, cutoff)
        q = q.where(or_(J.business_date == day.isoformat(), and_(J.created_at >= start, J.created_at < end)))
    with read_session(engine) as s:
        return [_row(job, first, last) for job, first, last in s.exec(q)]


def events(engine: Engine, connector: str | None = None) -> list[str]:
    """The event kinds a connector has jobs for (the failures table's event filter)."""
    q = select(ExportJob.event).distinct().order_by(ExportJob.event)
    if connector:
        q = q.where(ExportJob.connector == connector)
    with read_session(engine) as s:
        return list(s.exec(q))


def job_detail(engine: Engine, job_id: int) -> JobDetail | None:
    """A job with its payload and every attempt, headers redacted."""
    from data.outbox import show_job

    found = show_job(engine, job_id)
    if found is None:
        return None
    job, payload, attempts = found
    rows = tuple(AttemptRow(a.attempt_no, a.started_at, a.finished_at, a.outcome, a.status_code, a.error,
                            a.response_body, redact_headers(a.request_headers)) for a in attempts)
    first = rows[0].started_at if rows else None
    last = rows[-1].started_at if rows else None
    return JobDetail(_row(job, first, last), job.idempotency_key, payload, rows)


def export_history(engine: Engine, source_type: str | None, source_id: str) -> list[JobRow]:
    """Every connector's job for one sale, refund or day, oldest first (a sale's detail shows it)."""
    J = ExportJob
    # An order's later revisions are sources of their own: ORD-…:v2, ORD-…:v3.
    q = select(J).where((J.source_id == source_id) | J.source_id.like(f"{source_id}:v%")).order_by(J.id)
    if source_type:
        q = q.where(J.source_type == source_type)
    with read_session(engine) as s:
        return [_row(job) for job in s.exec(q)]


# -- diagnostics --------------------------------------------------------------------------------------

def diagnostics(engine: Engine, connectors: Sequence[ConnectorInfo], *, timezone: str = "UTC",
                cutoff: time = time(0, 0), now: datetime | None = None) -> list[Diagnostic]:
    """Pre-flight checks; each has a count (0 = fine), up to a few examples and what it holds up."""
    now = now or utcnow()
    found: list[Diagnostic] = []
    with read_session(engine) as s:
        found += _stuck_jobs(s, now)
        if any(c.daily for c in connectors):
            found.append(_open_shifts(s, business_day(now, timezone, cutoff), timezone, cutoff))
        for c in connectors:
            if c.needs_external_ids:
                found.append(_missing_external_ids(engine, s, c.name, now - SOLD_WITHIN))
                found += _catalogue_changed(s, c.name)
            if c.tender_map is not None:
                found.append(_unmapped_tenders(s, c, now - SOLD_WITHIN))
    return found


def _stuck_jobs(s: Session, now: datetime) -> list[Diagnostic]:
    J = ExportJob
    in_flight = list(s.exec(select(J.id, J.connector).where(J.state == "in_flight", J.lease_expires_at < now)
                            .order_by(J.id)))
    uncertain = list(s.exec(select(J.id, J.connector).where(J.state == "uncertain",
                                                            J.updated_at < now - UNCERTAIN_AFTER).order_by(J.id)))
    return [
        Diagnostic("jobs in flight past their lease", "error" if in_flight else "ok", len(in_flight),
                   tuple(f"job {i} ({c})" for i, c in in_flight[:5]), blocks="those jobs (the worker stopped)"),
        Diagnostic("jobs uncertain for more than 1 h", "warning" if uncertain else "ok", len(uncertain),
                   tuple(f"job {i} ({c})" for i, c in uncertain[:5]), blocks="check the receiver, then retry or skip"),
    ]


def _open_shifts(s: Session, today: date, timezone: str, cutoff: time) -> Diagnostic:
    start, _ = day_bounds(today, timezone, cutoff)
    rows = list(s.exec(select(Shift.id, Shift.terminal_id, Shift.opened_at).where(
        Shift.status == "open", Shift.opened_at < start).order_by(Shift.opened_at)))
    items = tuple(f"shift {i} (terminal {t}) open since {business_day(at, timezone, cutoff)}" for i, t, at in rows[:5])
    return Diagnostic("shifts of earlier days still open", "warning" if rows else "ok", len(rows), items,
                      blocks="the daily entry of those days (close the day)")


def _missing_external_ids(engine: Engine, s: Session, connector: str, since: datetime) -> Diagnostic:
    """Products sold since `since` or on sale now that carry no code for the connector: the PEAK
    connector's own list first (most sold first) when this build has it, then the rest on sale."""
    items = _peak_missing(engine, connector, since) or []
    listed = {item.split()[0] for item in items if item}
    sold = select(SaleLine.product_id).join(Sale, Sale.id == SaleLine.sale_id).where(Sale.created_at >= since)
    rows = s.exec(select(Product.sku, Product.name, Product.external_ids).where(
        or_(Product.active == True, Product.id.in_(sold))).order_by(Product.sku)).all()  # noqa: E712
    items += [f"{sku} {name}" for sku, name, ids in rows if not (ids or {}).get(connector) and sku not in listed]
    return Diagnostic(f"products without a {connector} code", "error" if items else "ok", len(items),
                      tuple(items[:5]), connector, blocks="sales with those products (blocked)")


def _peak_missing(engine: Engine, connector: str, since: datetime) -> list[str] | None:
    """The PEAK connector's own check, when this build has it; None otherwise."""
    try:
        from data import peak  # type: ignore[attr-defined]
        check = peak.missing_external_ids
    except (ImportError, AttributeError):
        return None
    return [_describe(item) for item in check(engine, connector, since)]


def _describe(item: Any) -> str:
    if isinstance(item, str):
        return item
    sku = getattr(item, "sku", None)
    if sku is not None:
        return f"{sku} {getattr(item, 'name', '')}".strip()
    if isinstance(item, Mapping):
        return " ".join(str(item[k]) for k in ("sku", "name") if k in item) or str(dict(item))
    if isinstance(item, tuple):
        return " ".join(str(x) for x in item)
    return str(item)


def _catalogue_changed(s: Session, connector: str) -> list[Diagnostic]:
    """Products changed since the connector's last catalogue sync (only once it has synced one)."""
    J = ExportJob
    synced = s.exec(select(func.max(J.succeeded_at)).where(J.connector == connector, J.state == "succeeded",
                                                           J.event.like("catalog%"))).one()
    if synced is None:
        return []
    rows = list(s.exec(select(Product.sku).where(Product.updated_at > synced).order_by(Product.sku)))
    return [Diagnostic(f"catalogue changed since the last {connector} sync", "warning" if rows else "ok", len(rows),
                       tuple(rows[:5]), connector, blocks="nothing yet; sync the catalogue")]


def _unmapped_tenders(s: Session, c: ConnectorInfo, since: datetime) -> Diagnostic:
    mapped = {str(k).lower() for k in (c.tender_map or {})}
    used = s.exec(select(Payment.tender).distinct().join(Sale, Sale.id == Payment.sale_id)
                  .where(Sale.created_at >= since).order_by(Payment.tender)).all()
    missing = [t for t in used if t.lower() not in mapped]
    return Diagnostic(f"tenders not mapped for {c.name}", "error" if missing else "ok", len(missing),
                      tuple(missing[:5]), c.name, blocks="sales paid with them (blocked)")
