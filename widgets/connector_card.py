"""One export connector at a glance: its status badge, last success and error, queue depth by state,
oldest waiting job, next attempt, the last 24 hours, the 14-day daily-entry calendar and the last
connection test. Attributes down: the screen hands it a data.health.Summary."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static

from data.health import QUEUE_STATES, Summary, fmt_age
from data.text import printable

QUEUE_LABELS = {"pending": "pending", "retry_wait": "retry", "in_flight": "in flight", "blocked": "blocked",
                "uncertain": "uncertain", "dead": "dead"}
# One character per day; readable without colour.
CALENDAR_MARKS = {"succeeded": "✓", "waiting": "…", "blocked": "!", "uncertain": "?", "dead": "✗", "skipped": "-",
                  "none": "·"}
LEVELS = ("ok", "warning", "error", "muted")


class ConnectorCard(Vertical):
    DEFAULT_CSS = """
    ConnectorCard { height: auto; padding: 0 1; }
    ConnectorCard > .card-head { height: 1; }
    ConnectorCard .card-name { text-style: bold; width: auto; }
    ConnectorCard .card-kind { color: $text-muted; width: 1fr; padding-left: 1; }
    ConnectorCard .card-badge { width: auto; padding: 0 1; text-style: bold; }
    ConnectorCard .card-badge.-lv-ok { background: $success; color: $background; }
    ConnectorCard .card-badge.-lv-warning { background: $warning; color: $background; }
    ConnectorCard .card-badge.-lv-error { background: $error; color: $text; }
    ConnectorCard .card-badge.-lv-muted { background: $surface; color: $text; }
    ConnectorCard .card-reason { height: auto; }
    ConnectorCard .card-figures { height: auto; }
    ConnectorCard .card-test { height: auto; color: $text-muted; }
    ConnectorCard .card-test.-lv-ok { color: $text; }
    ConnectorCard .card-test.-lv-error { color: $error; text-style: bold; }
    """

    def __init__(self, timezone: str = "UTC", **kw) -> None:
        super().__init__(**kw)
        self.zone = ZoneInfo(timezone)
        self.summary: Summary | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="card-head"):
            yield Label("", classes="card-name")
            yield Label("", classes="card-kind")
            yield Label("", classes="card-badge")
        yield Static("", classes="card-reason")
        yield Static("", classes="card-figures")
        yield Static("", classes="card-test")

    # -- attributes down ---------------------------------------------------------------------------
    def show(self, summary: Summary | None, now: datetime, test: tuple[bool, str] | None = None) -> None:
        self.summary = summary
        name, kind, badge = (self.query_one(f".card-{part}", Label) for part in ("name", "kind", "badge"))
        reason, figures, tested = (self.query_one(f".card-{part}", Static) for part in ("reason", "figures", "test"))
        if summary is None:
            name.update("no connectors")
            kind.update("")
            badge.update("")
            badge.set_classes("card-badge -lv-muted")
            reason.update(Text("No [[connectors]] in till.toml: nothing leaves this till."))
            figures.update("")
            tested.update("")
            return
        c = summary.connector
        name.update(Text(printable(c.name)))
        kind.update(Text(f"{c.kind} · {'live' if c.live else 'dry-run'}"))
        badge.update(Text(summary.status.upper()))
        badge.set_classes(f"card-badge -lv-{summary.level}")
        reason.update(Text(printable(summary.reason)))
        figures.update(self.figures(summary, now))
        tested.display = test is not None
        if test is not None:
            ok, message = test
            tested.update(Text(f"Test  {'OK' if ok else 'FAILED'}: {printable(message)}"))
            tested.set_classes(f"card-test -lv-{'ok' if ok else 'error'}")

    def when(self, at: datetime | None, now: datetime) -> str:
        if at is None:
            return "—"
        return f"{at.astimezone(self.zone):%d.%m %H:%M} ({fmt_age((now - at).total_seconds())} ago)"

    def figures(self, s: Summary, now: datetime) -> Text:
        t = Text()

        def label(text: str, first: bool = False) -> None:
            t.append(("" if first else "\n") + f"{text:<9}", style="bold")

        label("Success", first=True)
        t.append(self.when(s.last_success_at, now))
        if s.last_success_ref:
            t.append(f" · {printable(s.last_success_ref)}")
        label("Error")
        t.append(self.when(s.last_error_at, now))
        if s.last_error:
            t.append(f" · {printable(s.last_error)}")
        for i, state in enumerate(QUEUE_STATES):
            if i % 3 == 0:
                label("Queue" if i == 0 else "")
            else:
                t.append(" · ", style="dim")
            n = s.counts.get(state, 0)
            t.append(f"{QUEUE_LABELS[state]} {n}", style="bold" if n else "dim")
        label("Oldest")
        t.append(fmt_age((now - s.oldest_waiting_at).total_seconds()) if s.oldest_waiting_at else "—")
        t.append(" · next ")
        if s.next_attempt_at is None:
            t.append("—")
        elif s.next_attempt_at <= now:
            t.append("due now")
        else:
            t.append(f"in {fmt_age((s.next_attempt_at - now).total_seconds())}")
        t.append(f" · 24 h: {s.sent_24h} sent, {s.failed_24h} failed")
        rate = s.success_rate
        if rate is not None:
            t.append(f" ({rate:.0%} ok)")
        if s.calendar:
            label("Days")
            t.append(f"{s.calendar[0].day:%d.%m} ")
            t.append(" ".join(CALENDAR_MARKS.get(d.state, "?") for d in s.calendar))
            t.append(f" {s.calendar[-1].day:%d.%m}")
        return t
