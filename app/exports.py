"""The exports runner: claims due outbox jobs per connector and delivers them. Used by the console's
background worker and by `till exports run`. No Textual."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from app.config import ConnectorSettings, Settings
from data import outbox

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
DELIVERED_KINDS = ("webhook", "file_drop")


def targets(settings: Settings) -> tuple[outbox.ExportTarget, ...]:
    """The connectors whose jobs the till writes. File drops take the day close only. PEAK and the site
    database are configured already but arrive with their issues; no jobs are written for them yet."""
    return tuple(outbox.ExportTarget(c.name, c.kind, ("day.closed",) if c.kind == "file_drop" else tuple(c.events),
                                     c.live, tuple(int(x) for x in c.retry_schedule))
                 for c in settings.connectors if c.kind in DELIVERED_KINDS)


@dataclass
class RunReport:
    delivered: int = 0
    failed: int = 0
    states: dict[str, int] = field(default_factory=dict)


def run_once(settings: Settings, engine, *, client: httpx.Client | None = None, limit: int = 50) -> RunReport:
    import httpx

    from app.connectors import webhook

    report = RunReport()
    outbox.recover_expired(engine)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    own = client is None
    client = client or httpx.Client(timeout=webhook.TIMEOUT)
    try:
        for connector in settings.connectors:
            if connector.kind not in DELIVERED_KINDS or outbox.paused(engine, connector.name):
                continue
            schedule = tuple(int(x) for x in connector.retry_schedule)
            for _ in range(limit):
                # One at a time: a job is claimed only when it is about to be sent, so stopping early
                # (410, receiver unreachable) leaves nothing leased.
                claimed = outbox.claim(engine, connector.name, owner, limit=1)
                if not claimed:
                    break
                job = claimed[0]
                result = _deliver(client, connector, job, settings, engine)
                state = outbox.finish(engine, job, result, schedule)
                report.states[state] = report.states.get(state, 0) + 1
                if state == "succeeded":
                    report.delivered += 1
                else:
                    report.failed += 1
                    log.warning("export %s job %s: %s %s", connector.name, job.id, state, result.error)
                if result.status == 410:
                    outbox.set_paused(engine, connector.name, "receiver answered 410 Gone")
                    break
                if result.kind == "connectivity":
                    break  # the receiver is unreachable: the rest waits, no attempts used
    finally:
        if own:
            client.close()
    return report


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
        except (OSError, ValueError) as exc:
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
    return outbox.Outcome("blocked", error=f"connector kind {connector.kind} is not delivered yet")
