"""The exports runner: claims due outbox jobs per connector and delivers them. Used by the console's
background worker and by `till exports run`. No Textual."""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from app.config import ConfigError, ConnectorSettings, Settings
from data import outbox
from data.types import utcnow

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
DELIVERED_KINDS = ("webhook", "file_drop", "peak", "site")
SITE_BATCH = 500
SITE_BATCHES_PER_RUN = 100  # bounded: at most 50,000 records per pass, the rest next pass
PEAK_EVENTS = ("sale.completed", "sale.refunded")
# PEAK jobs are also claimed when uncertain (looked up, then sent if absent) and when blocked (checked
# again every 5 minutes: a product mapping fixed meanwhile lets them go).
PEAK_STATES = ("pending", "retry_wait", "uncertain", "blocked")
BREAKER_AFTER = 5
"""Consecutive transient failures (5xx, 429, timeouts) after which a pass stops sending to a connector:
a failing receiver is not sent the whole backlog, each job waiting out a timeout (§6.5 breaker)."""
_rate_limited: dict[str, float] = {}  # connector -> monotonic time until which PEAK asked us to wait


def target_of(c: ConnectorSettings) -> outbox.ExportTarget:
    schedule = tuple(int(x) for x in c.retry_schedule)
    if c.kind == "file_drop":
        return outbox.ExportTarget(c.name, c.kind, ("day.closed",), c.live, schedule)
    if c.kind == "site":
        from app.config import SITE_EVENTS

        return outbox.ExportTarget(c.name, c.kind, SITE_EVENTS, c.live, schedule)
    if c.kind == "peak":
        # Sales with a member go one by one; the rest go in the daily POS Customer entry, whose jobs
        # the runner plans (data.peak.plan_daily). Every refund is a credit note.
        return outbox.ExportTarget(c.name, c.kind, PEAK_EVENTS, c.live, schedule, member_events=("sale.completed",))
    return outbox.ExportTarget(c.name, c.kind, tuple(c.events), c.live, schedule)


def targets(settings: Settings) -> tuple[outbox.ExportTarget, ...]:
    """The connectors whose jobs the till writes with each sale, refund and day close. File drops take
    the day close only; PEAK takes member sales and refunds (its daily entries are planned by the
    runner); the site database takes every receipt and Z (records copied in order, in batches)."""
    return tuple(target_of(c) for c in settings.all_connectors() if c.kind in DELIVERED_KINDS)


@dataclass
class RunReport:
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    """Jobs of connectors with live = false (built and checked, not sent) and jobs with nothing to send
    (what they export is in another document). Not failures."""
    states: dict[str, int] = field(default_factory=dict)
    site: SiteRun | None = None
    """How the pass to the site database went (None: no site connector, or paused)."""


@dataclass
class SiteRun:
    online: bool
    error: str = ""
    sent: int = 0


def run_once(settings: Settings, engine, *, client: httpx.Client | None = None, limit: int | None = None,
             site_progress=None) -> RunReport:
    """One delivery pass over every connector: every job due when the pass reaches the connector is
    tried once (`till exports run --once` leaves nothing due behind; a job whose retry falls due
    during the pass waits for the next one). `limit`: at most that many jobs per connector.
    `site_progress(sent, total)` hears of each batch sent to the site database (a catch-up after an
    outage shows a progress bar)."""
    import itertools

    import httpx

    from app.connectors import webhook

    report = RunReport()
    outbox.recover_expired(engine)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    own = client is None
    client = client or httpx.Client(timeout=webhook.TIMEOUT)
    try:
        for connector in settings.all_connectors():
            if connector.kind not in DELIVERED_KINDS or outbox.paused(engine, connector.name):
                continue
            if connector.kind == "site":
                report.site = _run_site(settings, engine, connector, owner, report, site_progress)
                continue
            schedule = tuple(int(x) for x in connector.retry_schedule)
            is_peak = connector.kind == "peak"
            if is_peak:
                if _rate_limited.get(connector.name, 0) > time.monotonic():
                    continue
                _plan_peak(engine, connector, settings)
            states = PEAK_STATES if is_peak else ("pending", "retry_wait")
            # One at a time: a job is claimed only when it is about to be sent, so stopping early
            # (410, receiver unreachable, PEAK's 429) leaves nothing leased. PEAK: one request in flight.
            # The outcome of one job and the claim of the next share one write transaction.
            due_by = utcnow()  # after planning: the daily entries just written go in this pass
            # PEAK: credit notes after the documents they credit (member receipts, daily entries).
            claimed = outbox.claim(engine, connector.name, owner, limit=1, states=states, history=is_peak,
                                   due_by=due_by, dependents_last=is_peak)
            transient = 0
            for n in (range(limit) if limit is not None else itertools.count()):
                if not claimed:
                    break
                job = claimed[0]
                result = _deliver(client, connector, job, settings, engine)
                transient = transient + 1 if result.kind in ("retry", "uncertain") else 0
                stop = (result.status == 410 or result.kind == "connectivity" or transient >= BREAKER_AFTER
                        or (is_peak and (result.status == 429
                                         or (result.kind == "blocked" and result.error.startswith("auth:")))))
                if stop or n == (limit or 0) - 1:
                    state, claimed = outbox.finish(engine, job, result, schedule), []
                else:
                    state, claimed = outbox.finish_and_claim(engine, job, result, schedule, owner, states=states,
                                                             history=is_peak, due_by=due_by,
                                                             dependents_last=is_peak)
                report.states[state] = report.states.get(state, 0) + 1
                if state == "succeeded":
                    report.delivered += 1
                elif result.kind in ("dry_run", "not_needed"):
                    report.skipped += 1
                else:
                    report.failed += 1
                    log.warning("export %s job %s: %s %s", connector.name, job.id, state, result.error)
                if result.status == 410:
                    outbox.set_paused(engine, connector.name, "receiver answered 410 Gone")
                elif is_peak and result.status == 429:
                    _rate_limited[connector.name] = time.monotonic() + (result.retry_after or 60)
                elif is_peak and result.kind == "blocked" and result.error.startswith("auth:"):
                    outbox.set_paused(engine, connector.name, f"PEAK credentials refused: {result.error[6:]}")
                # connectivity: the receiver is unreachable; the rest waits, no attempts used
    finally:
        if own:
            client.close()
    return report


def _run_site(settings: Settings, engine, connector: ConnectorSettings, owner: str, report: RunReport,
              progress=None) -> SiteRun:
    """Batches in the till's order until nothing is due, the site is unreachable or a record fails."""
    from app.connectors import site

    schedule = tuple(int(x) for x in connector.retry_schedule)
    url = settings.site_url_for(connector)
    run = SiteRun(online=True)
    total: int | None = None
    for _ in range(SITE_BATCHES_PER_RUN):
        jobs = outbox.claim_in_order(engine, connector.name, owner, limit=SITE_BATCH)
        if not jobs:
            break
        if not url:
            results = [(j, outbox.Outcome("blocked", error="no [site] url in till.toml")) for j in jobs]
        elif not connector.live:
            results = [(j, outbox.Outcome("dry_run")) for j in jobs]
        else:
            results = site.deliver(engine, url, jobs)
        states = outbox.finish_many(engine, results, schedule)
        for state, n in states.items():
            report.states[state] = report.states.get(state, 0) + n
        done = states.get("succeeded", 0)
        dry = sum(1 for _, o in results if o.kind == "dry_run")
        report.delivered += done
        report.skipped += dry
        report.failed += len(jobs) - done - dry
        run.sent += done
        if progress is not None:
            if total is None:
                total = outbox.backlog(engine, connector.name)[0] + run.sent
            progress(run.sent, total)
        failed = next((o for _, o in results if o.kind not in ("success", "dry_run")), None)
        if failed is not None:
            run.online = failed.kind != "connectivity"
            run.error = failed.error
            if failed.kind != "connectivity":
                log.warning("export %s: %s", connector.name, failed.error)
            break
    if run.online and url and connector.live and not site.report_outbox(
            engine, url, settings.store.id, settings.store.terminal, settings.all_connectors(), reached=run.sent > 0):
        run.online, run.error = False, "site database offline"
    return run


def _deliver(client: httpx.Client, connector: ConnectorSettings, job: outbox.ClaimedJob, settings: Settings,
             engine) -> outbox.Outcome:
    from app.connectors import file_drop, webhook

    if connector.kind == "file_drop":
        if not connector.live:
            return outbox.Outcome("dry_run")
        folder = file_drop.folder_of((connector.model_extra or {}).get("folder"), settings.home)
        return file_drop.deliver(engine, folder, job)

    if connector.kind == "webhook":
        if not connector.url:
            return outbox.Outcome("blocked", error=f"connector {connector.name}: no url in till.toml")
        try:
            secret = connector.secret_value()
        except (ConfigError, OSError, ValueError) as exc:  # e.g. a secret_file others may read
            return outbox.Outcome("blocked", error=f"connector {connector.name}: {exc}")
        if not secret:
            return outbox.Outcome("blocked", error=f"connector {connector.name}: no secret (secret, secret_file "
                                                    f"or TILL_CONNECTORS__{connector.name.upper()}__SECRET)")
        try:
            webhook.secret_key(secret)
            webhook.check_url(connector.url)
        except webhook.WebhookConfigError as exc:
            return outbox.Outcome("blocked", error=str(exc))
        if not connector.live:
            return outbox.Outcome("dry_run")
        return webhook.deliver(client, connector.url, secret, job)
    if connector.kind == "peak":
        from app.connectors import peak

        return peak.deliver(client, connector, settings, engine, job)
    return outbox.Outcome("blocked", error=f"connector kind {connector.kind} is not delivered yet")


def _plan_peak(engine, connector: ConnectorSettings, settings: Settings) -> None:
    """Write the daily POS Customer jobs that are due; a failure here never stops the deliveries."""
    from app.connectors import peak

    try:
        written = peak.plan(engine, connector, settings, target_of(connector))
    except Exception as exc:  # noqa: BLE001 - logged; jobs already written are still delivered
        log.warning("export %s: planning the daily entries failed: %s", connector.name, exc)
        return
    for reference in written:
        log.info("export %s: daily entry %s planned", connector.name, reference)
