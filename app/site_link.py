"""The till's link to the site database as the status bar shows it: online or not, how many records
wait to be copied there and how old the oldest is. No Textual."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from data.types import utcnow


@dataclass(frozen=True)
class SiteState:
    online: bool | None  # None: not tried yet
    waiting: int = 0
    oldest: datetime | None = None
    error: str = ""

    def text(self, now: datetime | None = None) -> str:
        if self.online is False:
            parts = ["site offline"]
        elif self.waiting:
            parts = ["site"]
        else:
            return "site ok" if self.online else ""
        if self.waiting:
            parts.append(f"{self.waiting:,} waiting")
        if self.oldest is not None and self.waiting:
            parts.append(f"oldest {age((now or utcnow()) - self.oldest)}")
        return " · ".join(parts)


def age(delta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} d"


def state_after(engine, connector: str, online: bool | None, error: str = "") -> SiteState:
    from data.outbox import backlog

    waiting, oldest = backlog(engine, connector)
    return SiteState(online, waiting, oldest, error)


def pull_catalogue(settings, engine, progress=None) -> int:
    """Blocking: pull what head office changed; returns how many products and operators changed.
    `progress(done, total)` hears of each page of products."""
    from app.connectors import site
    from data.catalog_sync import pull

    url = settings.site.url
    if not url:
        return 0
    report = (lambda _what, done, total: progress(done, total)) if progress else None
    return pull(site.engine_for(url), engine, progress=report).changed
