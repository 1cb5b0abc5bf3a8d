"""Delivery to the site database (connector kind `site`): a batch of outbox jobs becomes one
transaction there. No Textual.

An unreachable site is "connectivity": every job of the batch waits, no attempt is used, and the till
goes on selling. A record the site refuses is found by applying the batch one record at a time; that
job fails (with the database's words) and the ones after it wait behind it, so the order per till holds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from data import site_sync
from data.db import DatabaseError, make_engine, upgrade
from data.outbox import ClaimedJob, Outcome
from data.text import one_line

log = logging.getLogger(__name__)
_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_reported: dict[str, tuple[float, bool]] = {}  # site url -> (monotonic time of the last report, whether it got there)
REPORT_EVERY = 60.0
RETRY_REPORT = 30.0  # after a report that did not get there


def engine_for(url: str) -> Engine:
    """The site's engine, migrated on first use in this process (DatabaseError if unreachable)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            upgrade(engine)
            _engines[url] = engine
        return engine


def forget(url: str) -> None:
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def is_connectivity(exc: BaseException) -> bool:
    if isinstance(exc, DatabaseError):
        return True  # make_engine / upgrade could not reach it
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, InterfaceError))


def reason(exc: BaseException) -> str:
    """The database's words, kept longer than on screen: they go on the job for support to read."""
    return one_line(exc, 300)


def deliver(till: Engine, url: str, jobs: Sequence[ClaimedJob]) -> list[tuple[ClaimedJob, Outcome]]:
    records, missing = site_sync.read_records(till, [(j.id, j.event, j.source_id) for j in jobs])
    by_id = {r.job_id: r for r in records}
    results: dict[int, Outcome] = {jid: Outcome("dead", error="the record is not in this till's database")
                                   for jid in missing}
    try:
        site = engine_for(url)
        site_sync.apply_records(site, records)
    except Exception as exc:  # noqa: BLE001 - sorted below: unreachable, or one record refused
        if is_connectivity(exc):
            forget(url)
            outcome = Outcome("connectivity", error=f"site database offline: {reason(exc)}")
            return [(j, results.get(j.id, outcome)) for j in jobs]
        return _one_by_one(site, jobs, by_id, results)
    ok = Outcome("success")
    return [(j, results.get(j.id, ok)) for j in jobs]


def _one_by_one(site: Engine, jobs: Sequence[ClaimedJob], by_id: dict, results: dict[int, Outcome]):
    out = []
    rest: Outcome | None = None  # once one job fails, what the jobs after it get
    for job in jobs:
        if job.id in results:
            out.append((job, results[job.id]))
        elif rest is not None:
            out.append((job, rest))
        else:
            try:
                site_sync.apply_records(site, [by_id[job.id]])
                out.append((job, Outcome("success")))
            except Exception as exc:  # noqa: BLE001 - recorded on the job, shown on the health screen
                if is_connectivity(exc):
                    rest = Outcome("connectivity", error=f"site database offline: {reason(exc)}")
                    out.append((job, rest))
                else:
                    log.warning("site: job %s refused: %s", job.id, reason(exc))
                    out.append((job, Outcome("retry", error=f"the site database refused it: {reason(exc)}")))
                    rest = Outcome("wait", error=f"waiting behind job {job.id}", retry_after=30)
    return out


def report_outbox(till: Engine, url: str, store_id: str, terminal: str, connectors, *, force: bool = False,
                  reached: bool = False) -> bool:
    """Tell the site how this till's outbox stands (about once a minute); False if it could not.
    `reached`: the caller has just written to the site, so a failed report before that is stale."""
    import time

    from data.types import utcnow

    now = time.monotonic()
    last, ok = _reported.get(url, (-REPORT_EVERY, True))
    if not force and not (reached and not ok) and now - last < (REPORT_EVERY if ok else RETRY_REPORT):
        return ok  # the last answer stands until the next report: the status bar does not flap
    try:
        statuses = site_sync.outbox_status(till, [(c.name, c.kind) for c in connectors])
        site_sync.report_status(engine_for(url), store_id, terminal, statuses, utcnow())
    except Exception as exc:  # noqa: BLE001 - a missed report is only a stale line in the back office
        log.info("site: outbox state not reported: %s", reason(exc))
        if is_connectivity(exc):
            forget(url)
        _reported[url] = (now, False)
        return False
    _reported[url] = (now, True)
    return True


def test_connection(url: str | None) -> tuple[bool, str]:
    if not url:
        return False, "no [site] url in till.toml"
    try:
        engine = engine_for(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - a test reports
        forget(url)
        return False, f"site database offline: {reason(exc)}"
    return True, "site database reachable"
