"""`till sync`: send what waits for the site database and pull what head office changed, now, with
progress (the console does both in the background; this is for scripts, cron and support)."""

from __future__ import annotations

import sys
import time

CATCH_UP_LIMIT_SECONDS = 600


class SyncError(RuntimeError):
    pass


def sync(settings, engine, *, push: bool = True, pull: bool = True) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    connector = settings.site_connector()
    if connector is None or not settings.site.url and not connector.url:
        raise SyncError("no site database: set [site] url in till.toml")
    console = Console(stderr=True, markup=False, highlight=False)  # the database's words shown literally
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    code = 0
    with Progress(*columns, console=console, disable=not sys.stderr.isatty()) as progress:
        if push:
            code = max(code, _push(settings, engine, connector, progress, console))
        if pull:
            code = max(code, _pull(settings, engine, progress, console, alone=not push))
    return code


def _push(settings, engine, connector, progress, console) -> int:
    from app.exports import run_once
    from data import outbox

    waiting, _ = outbox.backlog(engine, connector.name)
    task = progress.add_task("sending to the site", total=waiting)
    outbox.make_due(engine, connector.name)
    sent, deadline = 0, time.monotonic() + CATCH_UP_LIMIT_SECONDS
    while time.monotonic() < deadline:
        run = run_once(settings, engine).site
        if run is None:
            console.print(f"site connector {connector.name} is paused; nothing sent")
            return 1
        sent += run.sent
        progress.update(task, completed=sent)
        left, _ = outbox.backlog(engine, connector.name)
        if not run.online:
            console.print(f"{run.error}; {left:,} record(s) wait and go when it is back")
            return 1
        if run.error:
            console.print(f"stopped: {run.error}; {left:,} record(s) wait (till exports list --connector "
                          f"{connector.name})")
            return 1
        if left == 0 or run.sent == 0:
            break
    console.print(f"sent {sent:,} record(s) to the site")
    return 0


def _pull(settings, engine, progress, console, *, alone: bool = False) -> int:
    from app.connectors import site
    from data.catalog_sync import pull

    if not settings.site.url:  # a site connector of its own url only sends; head office's catalogue is [site]
        console.print("catalogue not pulled: no [site] url in till.toml")
        return 1 if alone else 0
    try:
        site_engine = site.engine_for(settings.site.url)
        task = progress.add_task("pulling the catalogue", total=None)
        result = pull(site_engine, engine,
                      progress=lambda _what, done, total: progress.update(task, completed=done, total=total))
    except Exception as exc:  # noqa: BLE001 - one line for the operator
        if not site.is_connectivity(exc):
            raise
        console.print(f"catalogue not pulled: site database offline: {site.reason(exc)}")
        return 1
    console.print(f"pulled {result.products:,} product(s), {result.operators:,} operator(s) from the site")
    return 0
