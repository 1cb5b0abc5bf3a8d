"""The export outbox: jobs written in the same transaction as what they export, delivered later.

States (reference/exports.md §6.4): pending → in_flight → succeeded | retry_wait | uncertain | blocked
| dead; skipped and cancelled by hand. Connectivity failures (the receiver cannot be reached) put a job
back to retry_wait without using an attempt: a till offline for days loses nothing.
"""

from __future__ import annotations

import functools
import os
import random
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import select

from data.db import read_session, write_session, writer
from data.models import ConnectorState, ExportAttempt, ExportJob, ExportPayload
from data.types import as_utc, encode_json, utcnow

DEFAULT_SCHEDULE = (30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 86400)
STATES = ("pending", "in_flight", "retry_wait", "uncertain", "blocked", "dead", "succeeded", "skipped", "cancelled")
RETRYABLE = ("dead", "blocked", "uncertain", "retry_wait", "skipped")
FAILED_STATES = ("dead", "blocked", "uncertain", "retry_wait")
"""What `retry --all-failed` takes back: not skipped jobs, a person's decision (or a dry run)."""
LEASE_SECONDS = 120
DRY_RUN = "dry run: payload built and checked, not sent (live = false)"
"""The resolution of a job skipped because its connector is not live: it never reached the receiver."""
SETTLE_SECONDS = 45
"""How long a dead worker's PEAK request may still be answered (PEAK's timeout is 30 s)."""


@dataclass(frozen=True)
class ExportTarget:
    """What the data layer needs to know of a configured connector to enqueue its jobs."""

    name: str
    kind: str  # webhook | file_drop | peak
    events: tuple[str, ...]
    live: bool = False
    retry_schedule: tuple[int, ...] = DEFAULT_SCHEDULE
    member_events: tuple[str, ...] = ()
    """Events this connector takes only for sales with a member (PEAK: other sales go in the daily entry)."""

    def wants(self, event: str) -> bool:
        return event in self.events


def money(v: Decimal) -> str:
    return f"{v:.2f}"


def idempotency_key(connector: str, event: str, source_id: str, revision: int = 1) -> str:
    return f"{connector}:{event}:{source_id}:{revision}"


def enqueue(conn: Connection, targets: Sequence[ExportTarget], event: str, source_type: str, source_id: str,
            payload: dict, *, business_date: str | None = None, at: datetime | None = None,
            state: str = "pending", resolution: str = "") -> int:
    """One job per interested connector, in the caller's transaction, sharing one payload row.
    Re-enqueuing the same (connector, event, source, revision) is a no-op: that is the unique key the
    idempotency key is made of. Returns how many connectors were offered the event."""
    at = at or utcnow()
    wanted = [t for t in targets if t.wants(event)
              and not (event in t.member_events and not (payload.get("data") or {}).get("member_phone"))]
    if not wanted:
        return 0
    encoded = encode_json(payload)  # written once, whatever the number of connectors
    if conn.dialect.name == "sqlite":
        # The sale's hottest extra write: the transaction's own DBAPI cursor with values made once,
        # instead of SQLAlchemy binding 22 typed columns per connector (half the outbox's cost per sale).
        cur = conn.connection.cursor()
        try:
            payload_id = cur.execute(_SQLITE_PAYLOAD, (str(encoded),)).lastrowid
            stamp = at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            written = cur.executemany(_SQLITE_INSERT, [
                (t.name, t.kind, event, source_type, source_id, idempotency_key(t.name, event, source_id),
                 business_date, payload_id, state, len(t.retry_schedule) + 1, stamp, resolution, stamp, stamp)
                for t in wanted]).rowcount
        finally:
            cur.close()
    else:
        payload_id = conn.execute(_NEW_PAYLOAD, {"body": encoded}).scalar_one()
        written = len(conn.execute(_pg_insert_ignoring_duplicates(), [
            {"connector": t.name, "kind": t.kind, "event": event, "source_type": source_type,
             "source_id": source_id, "revision": 1, "idempotency_key": idempotency_key(t.name, event, source_id),
             "business_date": business_date, "payload_id": payload_id, "state": state, "attempt_count": 0,
             "max_attempts": len(t.retry_schedule) + 1, "next_attempt_at": at, "lease_owner": None,
             "lease_expires_at": None, "last_error": "", "last_status": None, "remote_id": "",
             "resolution": resolution, "created_at": at, "updated_at": at, "succeeded_at": None}
            for t in wanted]).all())
    if not written:  # every connector had this event already: re-enqueuing leaves nothing behind
        conn.execute(_DROP_PAYLOAD, {"b_id": payload_id})
    return len(wanted)


_SQLITE_PAYLOAD = "INSERT INTO export_payload (body) VALUES (?)"
_SQLITE_INSERT = (
    "INSERT INTO export_job (connector, kind, event, source_type, source_id, revision, idempotency_key, "
    "business_date, payload_id, state, attempt_count, max_attempts, next_attempt_at, lease_owner, lease_expires_at, "
    "last_error, last_status, remote_id, resolution, created_at, updated_at, succeeded_at) "
    "VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, 0, ?, ?, NULL, NULL, '', NULL, '', ?, ?, ?, NULL) "
    "ON CONFLICT (source_id, event, revision, connector) DO NOTHING")


@functools.cache
def _pg_insert_ignoring_duplicates():
    """One statement for all connectors (PostgreSQL, built on first use); a job that exists already is
    left as it is."""
    from sqlalchemy.dialects.postgresql import insert

    return insert(_JOB).on_conflict_do_nothing(
        index_elements=["source_id", "event", "revision", "connector"]).returning(_JOB.c.id)


def envelope(event: str, at: datetime, data: dict) -> dict:
    return {"type": event, "timestamp": iso(at), "data": data}


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- claiming and outcomes ---------------------------------------------------------------------------

@dataclass
class ClaimedJob:
    id: int
    connector: str
    kind: str
    event: str
    idempotency_key: str
    payload: dict
    attempt_no: int
    attempt_id: int
    source_id: str
    business_date: str | None = None
    previous_state: str = "pending"
    sent_before: bool = False
    """An earlier attempt may have reached the receiver (claimed with history=True only)."""


# Connector kinds whose receiver does not dedupe: a job a dead worker may have sent is looked up there
# before it is sent again (reference/exports.md §6.4, last row).
NOT_IDEMPOTENT = ("peak",)
# Attempt outcomes after which nothing can have reached the receiver.
NOT_SENT = ("connectivity", "blocked", "dry_run", "wait", "unreconciled", "not_needed")


def recover_expired(engine: Engine, now: datetime | None = None) -> int:
    """A worker that died mid-send left in_flight jobs: webhooks and file drops go back to pending
    (the receiver dedupes by webhook-id; a file drop is re-written as the same revision); PEAK jobs
    become uncertain, to be looked up at PEAK before anything is sent again. A lease is over when it
    expires, or when its owner was a process of this machine that is gone (killed, crashed): at once
    for receivers that dedupe, and for PEAK once the dead worker's request has had SETTLE_SECONDS to
    be answered (a document still being made when it is looked up would be made twice)."""
    now = now or utcnow()
    with writer(engine).begin() as conn:
        expired = (ExportJob.state == "in_flight") & (ExportJob.lease_expires_at < now)
        gone = _gone_owners(conn)
        if gone:
            settled = ExportJob.kind.not_in(NOT_IDEMPOTENT) | (
                ExportJob.lease_expires_at < now + timedelta(seconds=LEASE_SECONDS - SETTLE_SECONDS))
            expired = (ExportJob.state == "in_flight") & ((ExportJob.lease_expires_at < now)
                                                          | (ExportJob.lease_owner.in_(gone) & settled))
        result = conn.execute(update(ExportJob).where(expired, ExportJob.kind.not_in(NOT_IDEMPOTENT))
                              .values(state="pending", lease_owner=None, updated_at=now,
                                      last_error="worker stopped during delivery; sent again"))
        unsure = conn.execute(update(ExportJob).where(expired, ExportJob.kind.in_(NOT_IDEMPOTENT))
                              .values(state="uncertain", lease_owner=None, updated_at=now, next_attempt_at=now,
                                      last_error="worker stopped during delivery; the document is looked up "
                                                 "before it is sent again"))
        return (result.rowcount or 0) + (unsure.rowcount or 0)


def _gone_owners(conn: Connection) -> list[str]:
    """Lease owners ("<host>:<pid>", see app.exports) that were processes of this machine and are gone."""
    host = socket.gethostname()
    owners = conn.execute(select(ExportJob.lease_owner).where(ExportJob.state == "in_flight",
                                                              ExportJob.lease_owner.is_not(None)).distinct()).scalars()
    gone = []
    for owner in owners:
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and not _alive(int(pid)):
            gone.append(owner)
    return gone


def _alive(pid: int) -> bool:
    """Whether a process of this machine is still running (a zombie, killed but not reaped, is not)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # not ours to signal (another user's), or no such check here: alive as far as we know
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rpartition(")")[2].split()[:1] != ["Z"]
    except OSError:
        return True


# Statements built once and run with parameters only (the runner claims and finishes every job in two
# short write transactions; building SQLAlchemy statements per job cost as much as running them).
_JOB, _ATTEMPT, _PAYLOAD = ExportJob.__table__, ExportAttempt.__table__, ExportPayload.__table__
_NEW_PAYLOAD = _PAYLOAD.insert().returning(_PAYLOAD.c.id)
_DROP_PAYLOAD = _PAYLOAD.delete().where(_PAYLOAD.c.id == bindparam("b_id"))
WITH_PAYLOAD = _JOB.join(_PAYLOAD, _PAYLOAD.c.id == _JOB.c.payload_id)
"""Jobs with their payload (`select(...).select_from(WITH_PAYLOAD)`)."""
_CLAIMED = select(_JOB.c.id, _JOB.c.connector, _JOB.c.kind, _JOB.c.event, _JOB.c.idempotency_key,
                  _PAYLOAD.c.body.label("payload"), _JOB.c.attempt_count, _JOB.c.source_id, _JOB.c.business_date,
                  _JOB.c.state).select_from(WITH_PAYLOAD)
_DUE = (_CLAIMED
        .where(_JOB.c.connector == bindparam("b_connector"),
               _JOB.c.state.in_(bindparam("b_states", expanding=True)),
               _JOB.c.next_attempt_at <= bindparam("b_now"))
        .order_by(_JOB.c.next_attempt_at, _JOB.c.id).limit(bindparam("b_limit")))
# On PostgreSQL several runners may deliver one outbox (back-office consoles, `till exports run`): each
# takes the due rows no other runner is leasing at that moment. SQLite's BEGIN IMMEDIATE serialises.
_DUE_SKIP_LOCKED = _DUE.with_for_update(skip_locked=True, of=_JOB)
DEPENDENT_EVENTS = ("sale.refunded",)
"""Jobs that may wait on another job of the connector (a PEAK credit note waits for the document of
its sale): claimed after the others, so one pass sends the document first and the credit note next."""
_DUE_DEPENDENTS_LAST = (_DUE.order_by(None)
                        .order_by(case((_JOB.c.event.in_(DEPENDENT_EVENTS), 1), else_=0), _JOB.c.next_attempt_at,
                                  _JOB.c.id))
_DUE_DEPENDENTS_LAST_SKIP_LOCKED = _DUE_DEPENDENTS_LAST.with_for_update(skip_locked=True, of=_JOB)
_UPDATE_JOB = update(_JOB).where(_JOB.c.id == bindparam("b_id"))
_UPDATE_ATTEMPT = update(_ATTEMPT).where(_ATTEMPT.c.id == bindparam("b_id"))
_SENT_BEFORE = (select(_ATTEMPT.c.id).where(_ATTEMPT.c.job_id == bindparam("b_job"),
                                             _ATTEMPT.c.outcome.not_in(NOT_SENT)).limit(1))
_RNG = random.Random()


def claim(engine: Engine, connector: str, owner: str, *, limit: int = 10, now: datetime | None = None,
          states: Sequence[str] = ("pending", "retry_wait"), history: bool = False,
          due_by: datetime | None = None, dependents_last: bool = False) -> list[ClaimedJob]:
    """Due jobs of one connector, oldest first, leased to `owner`; the attempt row is written now,
    before any request leaves. With `history`, each job says whether an earlier attempt may have
    reached the receiver (for receivers that do not dedupe). `due_by`: only jobs due by then (a pass
    that started then takes each job once, even one whose retry is due again at once).
    `dependents_last`: DEPENDENT_EVENTS after every other due job."""
    now = now or utcnow()
    with writer(engine).begin() as conn:
        return _claim_in(conn, connector, owner, limit, now, states, history, due_by, dependents_last)


def _claim_in(conn: Connection, connector: str, owner: str, limit: int, now: datetime, states: Sequence[str],
              history: bool, due_by: datetime | None = None, dependents_last: bool = False) -> list[ClaimedJob]:
    pg = conn.dialect.name == "postgresql"
    if dependents_last:
        due = _DUE_DEPENDENTS_LAST_SKIP_LOCKED if pg else _DUE_DEPENDENTS_LAST
    else:
        due = _DUE_SKIP_LOCKED if pg else _DUE
    rows = conn.execute(due, {"b_connector": connector, "b_states": list(states),
                              "b_now": now if due_by is None else min(now, due_by), "b_limit": limit}).all()
    return _lease(conn, rows, owner, now, history)


_LEASE = (update(_JOB).where(_JOB.c.id.in_(bindparam("b_ids", expanding=True)))
          .values(state="in_flight", lease_owner=bindparam("b_owner"), lease_expires_at=bindparam("b_until"),
                  updated_at=bindparam("b_now")))
_NEW_ATTEMPTS = _ATTEMPT.insert().returning(_ATTEMPT.c.id, sort_by_parameter_order=True)


def _lease(conn: Connection, rows: Sequence, owner: str, now: datetime, history: bool = False) -> list[ClaimedJob]:
    """Lease the selected jobs to `owner` and write each one's attempt row, before anything is sent.
    With `history`, whether an earlier attempt may have reached the receiver (asked before this
    attempt's row exists)."""
    if not rows:
        return []
    sent = {job.id: conn.execute(_SENT_BEFORE, {"b_job": job.id}).first() is not None for job in rows} if history else {}
    conn.execute(_LEASE, {"b_ids": [job.id for job in rows], "b_owner": owner,
                          "b_until": now + timedelta(seconds=LEASE_SECONDS), "b_now": now})
    attempt_ids = conn.execute(_NEW_ATTEMPTS, [
        {"job_id": job.id, "attempt_no": job.attempt_count + 1, "started_at": now, "outcome": "started",
         "response_body": "", "error": "", "request_headers": {}} for job in rows]).scalars().all()
    return [ClaimedJob(job.id, job.connector, job.kind, job.event, job.idempotency_key, job.payload,
                       job.attempt_count + 1, attempt_id, job.source_id, job.business_date,
                       previous_state=job.state, sent_before=sent.get(job.id, False))
            for job, attempt_id in zip(rows, attempt_ids)]


# Jobs of an ordered connector (the site database) that hold back the ones after them: nothing later
# is sent while an earlier job waits, fails or is being sent (a refund never arrives before its sale).
_HEAD = (select(_JOB.c.id, _JOB.c.state, _JOB.c.next_attempt_at)
         .where(_JOB.c.connector == bindparam("b_connector"),
                _JOB.c.state.in_(("pending", "retry_wait", "in_flight", "uncertain", "blocked", "dead")))
         .order_by(_JOB.c.id).limit(bindparam("b_limit")))


def claim_in_order(engine: Engine, connector: str, owner: str, *, limit: int = 500,
                   now: datetime | None = None) -> list[ClaimedJob]:
    """The connector's oldest unfinished jobs in id order, up to the first one that is not due (or is
    failed, blocked or leased): per-till order is kept even when an early job had to wait."""
    now = now or utcnow()
    with writer(engine).begin() as conn:
        due = []
        for row in conn.execute(_HEAD, {"b_connector": connector, "b_limit": limit}):
            if row.state not in ("pending", "retry_wait") or row.next_attempt_at > now:
                break
            due.append(row.id)
        if not due:
            return []
        rows = conn.execute(_CLAIMED.where(_JOB.c.id.in_(due)).order_by(_JOB.c.id)).all()
        return _lease(conn, rows, owner, now)


def finish_many(engine: Engine, results: Sequence[tuple[ClaimedJob, Outcome]], schedule: Sequence[int], *,
                now: datetime | None = None) -> dict[str, int]:
    """Outcomes of a batch in one write transaction; returns how many jobs reached each state."""
    now = now or utcnow()
    states: dict[str, int] = {}
    done = [job for job, outcome in results if outcome.kind == "success" and not outcome.remote_id]
    with writer(engine).begin() as conn:
        if done:  # the usual batch: every job delivered; two executemany statements for all of them
            conn.execute(_UPDATE_JOB, [
                {"b_id": job.id, "state": "succeeded", "succeeded_at": now, "remote_id": "",
                 "attempt_count": job.attempt_no, "last_error": "", "lease_owner": None, "lease_expires_at": None,
                 "updated_at": now, "last_status": None} for job in done])
            conn.execute(_UPDATE_ATTEMPT, [
                {"b_id": job.attempt_id, "finished_at": now, "outcome": "success", "status_code": None, "error": "",
                 "response_body": "", "request_headers": {}} for job in done])
            states["succeeded"] = len(done)
        finished = {job.id for job in done}
        for job, outcome in results:
            if job.id in finished:
                continue
            state = _finish_in(conn, job, outcome, schedule, now, _RNG)
            states[state] = states.get(state, 0) + 1
    return states


def make_due(engine: Engine, connector: str) -> int:
    """Jobs waiting to be retried are due now (someone asked to send now: `till sync`)."""
    now = utcnow()
    with writer(engine).begin() as conn:
        return conn.execute(update(ExportJob).where(ExportJob.connector == connector, ExportJob.state == "retry_wait")
                            .values(next_attempt_at=now)).rowcount or 0


def backlog(engine: Engine, connector: str) -> tuple[int, datetime | None]:
    """How many jobs of a connector are not delivered yet, and when the oldest was written."""
    from sqlalchemy import func

    with engine.connect() as conn:
        count, oldest = conn.execute(
            select(func.count(), func.min(_JOB.c.created_at)).where(
                _JOB.c.connector == connector,
                _JOB.c.state.in_(("pending", "retry_wait", "in_flight", "uncertain", "blocked", "dead")))).one()
    return int(count or 0), as_utc(oldest)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to. `kind`: success | retry | connectivity | dead | blocked | dry_run |
    not_needed (nothing to send: what it exports is in another document; skipped with `error` as why) |
    uncertain (the request may have reached the receiver: look it up before sending again) |
    unreconciled (the lookup itself failed: still uncertain, no attempt used) | wait (not sent: rate
    limited or waiting on another job; no attempt used)."""

    kind: str
    status: int | None = None
    error: str = ""
    response_body: str = ""
    retry_after: float | None = None
    remote_id: str = ""
    request_headers: dict = field(default_factory=dict)


def finish(engine: Engine, job: ClaimedJob, outcome: Outcome, schedule: Sequence[int], *,
           now: datetime | None = None, rng: random.Random | None = None) -> str:
    """Record the attempt's result and move the job on; returns the new state."""
    now = now or utcnow()
    with writer(engine).begin() as conn:
        return _finish_in(conn, job, outcome, schedule, now, rng or _RNG)


def finish_and_claim(engine: Engine, job: ClaimedJob, outcome: Outcome, schedule: Sequence[int], owner: str, *,
                     states: Sequence[str] = ("pending", "retry_wait"), history: bool = False,
                     now: datetime | None = None, due_by: datetime | None = None,
                     dependents_last: bool = False) -> tuple[str, list[ClaimedJob]]:
    """finish() and claim() of the connector's next due job in one write transaction (the runner's
    loop: one transaction per delivered job instead of two)."""
    now = now or utcnow()
    with writer(engine).begin() as conn:
        state = _finish_in(conn, job, outcome, schedule, now, _RNG)
        return state, _claim_in(conn, job.connector, owner, 1, now, states, history, due_by, dependents_last)


def _finish_in(conn: Connection, job: ClaimedJob, outcome: Outcome, schedule: Sequence[int], now: datetime,
               rng: random.Random) -> str:
    attempts = job.attempt_no
    values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None, "updated_at": now,
                              "last_status": outcome.status, "last_error": outcome.error[:1000]}
    if outcome.kind == "success":
        values.update(state="succeeded", succeeded_at=now, remote_id=outcome.remote_id, attempt_count=attempts,
                      last_error="")
    elif outcome.kind == "dry_run":
        values.update(state="skipped", resolution=DRY_RUN, attempt_count=attempts)
    elif outcome.kind == "not_needed":
        values.update(state="skipped", resolution=outcome.error[:1000], attempt_count=attempts - 1)
    elif outcome.kind == "blocked":
        # Connectors that re-check blocked jobs by themselves (PEAK) find it due again in 5 minutes.
        values.update(state="blocked", attempt_count=attempts - 1, next_attempt_at=now + timedelta(seconds=300))
    elif outcome.kind in ("uncertain", "unreconciled"):
        used = attempts if outcome.kind == "uncertain" else attempts - 1
        step = schedule[min(max(used - 1, 0), len(schedule) - 1)] if schedule else 60
        delay = outcome.retry_after if outcome.retry_after is not None else step * rng.uniform(0.8, 1.2)
        values.update(state="uncertain", attempt_count=used, next_attempt_at=now + timedelta(seconds=delay))
    elif outcome.kind == "wait":
        delay = outcome.retry_after if outcome.retry_after is not None else 60
        values.update(state="retry_wait", attempt_count=attempts - 1, next_attempt_at=now + timedelta(seconds=delay))
    elif outcome.kind == "dead":
        values.update(state="dead", attempt_count=attempts)
    else:
        used = attempts - 1 if outcome.kind == "connectivity" else attempts
        if outcome.kind == "retry" and used >= len(schedule) + 1:
            values.update(state="dead", attempt_count=used,
                          last_error=f"gave up after {used} attempts: {outcome.error}"[:1000])
        else:
            step = schedule[min(max(used - 1, 0), len(schedule) - 1)] if schedule else 60
            delay = step * rng.uniform(0.8, 1.2)
            if outcome.retry_after is not None:
                delay = max(delay, outcome.retry_after)
            values.update(state="retry_wait", attempt_count=used, next_attempt_at=now + timedelta(seconds=delay))
    conn.execute(_UPDATE_JOB, {"b_id": job.id, **values})
    conn.execute(_UPDATE_ATTEMPT, {
        "b_id": job.attempt_id, "finished_at": now, "outcome": outcome.kind, "status_code": outcome.status,
        "error": outcome.error[:2000], "response_body": outcome.response_body[:65536],
        "request_headers": outcome.request_headers})
    return values["state"]


# -- for people: list, show, retry, skip -------------------------------------------------------------

def list_jobs(engine: Engine, *, state: str | None = None, connector: str | None = None,
              limit: int = 200) -> list[ExportJob]:
    with read_session(engine) as s:
        q = select(ExportJob).order_by(ExportJob.id.desc()).limit(limit)
        if state:
            q = q.where(ExportJob.state == state)
        if connector:
            q = q.where(ExportJob.connector == connector)
        return list(s.exec(q))


def show_job(engine: Engine, job_id: int) -> tuple[ExportJob, dict, list[ExportAttempt]] | None:
    """A job, its payload and its attempts."""
    with read_session(engine) as s:
        job = s.get(ExportJob, job_id)
        if job is None:
            return None
        payload = s.get(ExportPayload, job.payload_id)
        attempts = list(s.exec(select(ExportAttempt).where(ExportAttempt.job_id == job_id).order_by(ExportAttempt.id)))
        return job, (payload.body if payload else {}), attempts


def retry(engine: Engine, job_ids: Sequence[int] = (), *, all_failed: bool = False, connector: str | None = None,
          operator: str | None = None) -> list[int]:
    """Failed, dead, blocked or uncertain jobs back to pending, attempts reset; audited. A skipped job
    goes back only when named: `all_failed` never sends again what a person skipped (sent by hand)."""
    from data import audit

    now = utcnow()
    with write_session(engine) as s:
        q = select(ExportJob).where(ExportJob.state.in_(FAILED_STATES if all_failed else RETRYABLE))
        if not all_failed:
            q = q.where(ExportJob.id.in_(list(job_ids)))
        if connector:
            q = q.where(ExportJob.connector == connector)
        jobs = list(s.exec(q))
        for job in jobs:
            job.state, job.attempt_count, job.next_attempt_at, job.updated_at = "pending", 0, now, now
            audit.record(s, "export.retry", operator=operator, subject=str(job.id), connector=job.connector)
        return [j.id for j in jobs]


def skip(engine: Engine, job_id: int, reason: str, *, operator: str | None = None) -> bool:
    from data import audit

    if not reason.strip():
        raise ValueError("a skip needs a reason")
    with write_session(engine) as s:
        job = s.get(ExportJob, job_id)
        if job is None or job.state in ("succeeded", "skipped", "cancelled"):
            return False
        job.state, job.resolution, job.updated_at = "skipped", reason.strip(), utcnow()
        audit.record(s, "export.skip", operator=operator, subject=str(job.id), connector=job.connector,
                     reason=reason.strip())
        return True


def paused(engine: Engine, connector: str) -> str | None:
    """Why the connector is paused, or None."""
    with read_session(engine) as s:
        row = s.get(ConnectorState, connector)
        return row.reason or "paused" if row is not None and row.paused else None


def set_paused(engine: Engine, connector: str, reason: str | None, *, operator: str | None = None) -> None:
    """Pause (with a reason) or resume (reason None) a connector; audited."""
    from data import audit

    with write_session(engine) as s:
        row = s.get(ConnectorState, connector) or ConnectorState(name=connector)
        row.paused, row.reason, row.updated_at = reason is not None, reason or "", utcnow()
        s.add(row)
        audit.record(s, "export.pause" if reason is not None else "export.resume", operator=operator,
                     subject=connector, reason=reason or "")
