"""F11: integration health. The connectors on the left (↑/↓ picks one), the chosen one's card, its
jobs needing a person (filters: state, event, date; Enter opens one), and the diagnostics.

Everything the screen shows is read by thread workers into plain dataclasses (data.health) and comes
back as messages; actions are data.outbox's (audited there) run in a thread."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label, OptionList, Static
from textual.widgets.option_list import Option

from app.connectors import probe
from data import audit, health, outbox
from data.operators import OperatorInfo
from data.text import printable
from widgets.connector_card import ConnectorCard
from widgets.dialogs import ConfirmDialog, Prompt
from widgets.key_footer import KeyFooter
from widgets.status_bar import StatusBar

# The state filter cycles through these; None = what needs a person (health.FAILED).
STATE_FILTERS: tuple[str | None, ...] = (None, "dead", "blocked", "uncertain", "retry_wait", "in_flight", "pending",
                                         "skipped", "succeeded", "all")
BADGE_MARK = {"ok": "✓", "warning": "!", "error": "✗", "muted": "·"}
REFRESH_SECONDS = 5
DIAGNOSE_SECONDS = 300
COLUMNS = ("id", "state", "source", "tries", "code", "error", "event", "first", "last", "next")
COLUMN_LABELS = ("Job", "State", "Source", "Tries", "Code", "Error", "Event", "First", "Last", "Next")


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    event: str | None = None
    day: date | None = None

    def label(self) -> str:
        state = "needs attention" if self.state is None else self.state
        day = self.day.isoformat() if self.day else "any"
        return f"state {state} · event {self.event or 'any'} · day {day}"


@dataclass
class Snapshot:
    now: datetime
    summaries: list[health.Summary]
    rows: list[health.JobRow]
    events: list[str] = field(default_factory=list)


def _reason(text: str) -> str:
    if not text.strip():
        raise ValueError("say why, e.g. 'entered in PEAK by hand' or 'test sale'")
    return text.strip()


def _day(text: str, today: date) -> date | str:
    """A business day, or "" for any day (None is left for Escape)."""
    text = text.strip().lower()
    if not text:
        return ""
    if text in ("today", "t"):
        return today
    if text in ("yesterday", "y"):
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError("a date as YYYY-MM-DD, 'today' or 'yesterday'; empty for any day") from None


class HealthScreen(Screen):
    BINDINGS = [
        Binding("escape", "close", "Back", id="health_close", tooltip="Back to the sale"),
        Binding("enter", "open_job", "Detail", id="health_open", priority=True,
                tooltip="The job's payload and every attempt"),
        Binding("r", "retry", "Retry", id="health_retry", tooltip="Put the highlighted job back to pending"),
        Binding("R", "retry_all", "Retry all", id="health_retry_all", key_display="S-R",
                tooltip="Put every failed job shown back to pending"),
        Binding("s", "skip", "Skip", id="health_skip", tooltip="Skip the highlighted job with a reason (manager)"),
        Binding("p", "pause", "Pause", id="health_pause", tooltip="Pause or resume the connector"),
        Binding("t", "test", "Test", id="health_test", tooltip="Test the connection to the receiver"),
        Binding("f", "filter_state", "State", id="health_filter_state", tooltip="Filter the jobs by state"),
        Binding("e", "filter_event", "Event", id="health_filter_event", tooltip="Filter the jobs by event"),
        Binding("d", "filter_day", "Date", id="health_filter_day", tooltip="Filter the jobs by business day"),
        Binding("g", "refresh", "Refresh", id="health_refresh", tooltip="Read everything again, diagnostics too"),
    ]

    class Loaded(Message):
        def __init__(self, snapshot: Snapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

    class Diagnosed(Message):
        def __init__(self, found: list[health.Diagnostic]) -> None:
            super().__init__()
            self.found = found

    class Tested(Message):
        def __init__(self, connector: str, result: probe.ProbeResult) -> None:
            super().__init__()
            self.connector = connector
            self.result = result

    def __init__(self, ctx, operator: OperatorInfo) -> None:
        super().__init__()
        self.ctx = ctx
        self.operator = operator
        self.infos = probe.connector_infos(ctx.settings)
        self.selected: str | None = self.infos[0].name if self.infos else None
        self.filters = Filters()
        self.snapshot: Snapshot | None = None
        self.diagnosis: list[health.Diagnostic] | None = None
        self.tests: dict[str, tuple[bool, str]] = {}
        self.rows: list[health.JobRow] = []

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        store = self.ctx.settings.store
        yield Label(f"Integration health · {store.id}/{store.terminal} · Tab: connectors ⇄ jobs",
                    id="health-title")
        with Horizontal(id="health-body"):
            yield OptionList(*[Option(Text(printable(c.name)), id=c.name) for c in self.infos], id="health-connectors")
            with Vertical(id="health-main"):
                yield ConnectorCard(self.ctx.place.timezone, id="health-card")
                yield Static(self.filters.label(), id="health-filter")
                yield DataTable(id="health-failures", cursor_type="row", zebra_stripes=True)
                yield Static("diagnostics: checking …", id="health-diagnostics")
        yield StatusBar(id="health-status")
        yield KeyFooter(rows=2)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in zip(COLUMNS, COLUMN_LABELS):
            table.add_column(label, key=key)
        status = self.query_one(StatusBar)
        status.place = f"{self.ctx.place.store_id}/{self.ctx.place.terminal_code} · {self.operator.name}"
        status.devices = self.app.device_text() if hasattr(self.app, "device_text") else ""
        connectors = self.query_one(OptionList)
        if self.infos:
            connectors.highlighted = 0
        connectors.focus()
        self.load()
        self.diagnose()
        self.set_interval(REFRESH_SECONDS, self.load)
        self.set_interval(DIAGNOSE_SECONDS, self.diagnose)

    @property
    def zone(self) -> str:
        return self.ctx.place.timezone

    def say(self, message: str, level: str = "info") -> None:
        self.query_one(StatusBar).say(message, level)

    def error(self, message: str) -> None:
        self.app.bell()
        self.say(message, "error")

    # -- reading (threads) -----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="health-load", exit_on_error=False)
    def load(self) -> None:
        engine, cutoff = self.ctx.engine, self.ctx.settings.store.cutoff
        now = health.utcnow()
        summaries = health.overview(engine, self.infos, timezone=self.zone, cutoff=cutoff, now=now)
        f = self.filters
        states = None if f.state == "all" else health.FAILED if f.state is None else (f.state,)
        rows = [] if self.selected is None else health.failures(
            engine, connector=self.selected, states=states, event=f.event, day=f.day, timezone=self.zone,
            cutoff=cutoff, now=now)
        events = health.events(engine, self.selected) if self.selected else []
        self.post_message(self.Loaded(Snapshot(now, summaries, rows, events)))

    @work(thread=True, exclusive=True, group="health-diagnose", exit_on_error=False)
    def diagnose(self) -> None:
        found = health.diagnostics(self.ctx.engine, self.infos, timezone=self.zone,
                                   cutoff=self.ctx.settings.store.cutoff)
        self.post_message(self.Diagnosed(found))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.snapshot = snap = event.snapshot
        connectors = self.query_one(OptionList)
        for i, s in enumerate(snap.summaries):
            label = Text()
            label.append(BADGE_MARK[s.level] + " ", style="bold")
            label.append(printable(s.name))
            label.append(f"\n  {s.status}", style="dim")
            connectors.replace_option_prompt_at_index(i, label)
        self.query_one(ConnectorCard).show(self.summary, snap.now, self.tests.get(self.selected or ""))
        self.query_one("#health-filter", Static).update(
            Text(f"Jobs ({len(snap.rows)}) · {self.filters.label()}"))
        self._show_rows(snap.rows, snap.now)
        self.refresh_bindings()

    def _show_rows(self, rows: list[health.JobRow], now: datetime) -> None:
        """By key: the same jobs in the same order are updated cell by cell (the cursor and the scroll
        stay where the operator left them); otherwise the table is rebuilt, the cursor kept on its job."""
        table = self.query_one(DataTable)
        keep = self.highlighted_job
        same = [r.id for r in rows] == [r.id for r in self.rows] and table.row_count == len(rows)
        self.rows = rows
        t = lambda at: self._time(at, now)  # noqa: E731
        cells = {r.id: (str(r.id), r.state, Text(printable(r.source_id)), f"{r.attempts}/{r.max_attempts}",
                        str(r.last_status or "—"), Text(printable(r.error)[:40]), r.event, t(r.first_attempt_at),
                        t(r.last_attempt_at), t(r.next_attempt_at)) for r in rows}
        with self.app.batch_update():
            if same:
                for r in rows:
                    for column, value in zip(COLUMNS, cells[r.id]):
                        if str(table.get_cell(str(r.id), column)) != str(value):
                            table.update_cell(str(r.id), column, value)
                return
            table.clear()
            for r in rows:
                table.add_row(*cells[r.id], key=str(r.id))
            if keep is not None and keep.id in cells:
                table.move_cursor(row=next(i for i, r in enumerate(rows) if r.id == keep.id))

    def _time(self, at: datetime | None, now: datetime) -> str:
        if at is None:
            return "—"
        from zoneinfo import ZoneInfo

        local = at.astimezone(ZoneInfo(self.zone))
        same_day = local.date() == now.astimezone(ZoneInfo(self.zone)).date()
        return f"{local:%H:%M}" if same_day else f"{local:%d.%m %H:%M}"

    @on(Diagnosed)
    def _diagnosed(self, event: Diagnosed) -> None:
        self.diagnosis = event.found
        problems = [d for d in event.found if not d.ok]
        t = Text()
        t.append("Diagnostics ", style="bold")
        passed = len(event.found) - len(problems)
        t.append(f"{passed} check(s) pass" + (f", {len(problems)} need attention" if problems else ""))
        for d in problems:
            t.append("\n" + ("✗ " if d.level == "error" else "! "), style="bold")
            t.append(printable(f"{d.check}: {d.count}"))
            if d.items:
                t.append(printable(" (" + ", ".join(d.items[:3]) + ("…" if d.count > 3 else "") + ")"))
            if d.blocks:
                t.append(printable(f" — holds up {d.blocks}"), style="dim")
        self.query_one("#health-diagnostics", Static).update(t)

    @on(Tested)
    def _tested(self, event: Tested) -> None:
        r = event.result
        self.tests[event.connector] = (r.ok, r.message)
        self.say(f"{event.connector}: {r.message}", "info" if r.ok else "error")
        if not r.ok:
            self.app.bell()
        if self.snapshot is not None:
            self.query_one(ConnectorCard).show(self.summary, self.snapshot.now, self.tests.get(self.selected or ""))

    # -- selection -------------------------------------------------------------------------------
    @property
    def summary(self) -> health.Summary | None:
        if self.snapshot is None:
            return None
        return next((s for s in self.snapshot.summaries if s.name == self.selected), None)

    @property
    def highlighted_job(self) -> health.JobRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(OptionList.OptionHighlighted, "#health-connectors")
    def _connector(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        name = event.option.id
        if name != self.selected:
            self.selected = name
            self.filters = Filters()
            self.rows = []
            self.query_one(DataTable).clear()
            self.load()

    @on(OptionList.OptionSelected, "#health-connectors")
    def _connector_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one(DataTable).focus()

    @on(DataTable.RowHighlighted, "#health-failures")
    def _job_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        job = self.highlighted_job
        if action == "open_job":
            return job is not None and self.focused is self.query_one(DataTable)
        if action == "retry":
            return job is not None and job.retryable
        if action == "skip":
            return job is not None and job.skippable
        if action == "retry_all":
            return any(r.retryable for r in self.rows)
        if action in ("pause", "test", "filter_state", "filter_event", "filter_day"):
            return self.selected is not None
        return True

    # -- actions ---------------------------------------------------------------------------------
    def action_close(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load()
        self.diagnose()
        self.say("read again")

    def action_filter_state(self) -> None:
        i = STATE_FILTERS.index(self.filters.state)
        self.filters = Filters(STATE_FILTERS[(i + 1) % len(STATE_FILTERS)], self.filters.event, self.filters.day)
        self.load()

    def action_filter_event(self) -> None:
        options: list[str | None] = [None, *(self.snapshot.events if self.snapshot else [])]
        i = options.index(self.filters.event) if self.filters.event in options else 0
        self.filters = Filters(self.filters.state, options[(i + 1) % len(options)], self.filters.day)
        self.load()

    @work(exclusive=True, group="flow")
    async def action_filter_day(self) -> None:
        today = health.business_day(health.utcnow(), self.zone, self.ctx.settings.store.cutoff)
        value = await self.app.push_screen_wait(Prompt(
            "Jobs of one day", "business day (YYYY-MM-DD, today, yesterday)", lambda t: _day(t, today),
            allow_empty=True,
            value=self.filters.day.isoformat() if self.filters.day else "", hint="empty = any day · Esc = cancel"))
        if value is None:
            return
        self.filters = Filters(self.filters.state, self.filters.event, value or None)
        self.load()

    async def approve(self, reason: str, action: str) -> OperatorInfo | None:
        from app.screens.approval import approve

        return await approve(self, reason, action)

    @work(exclusive=True, group="flow")
    async def action_retry(self) -> None:
        job = self.highlighted_job
        if job is None or not job.retryable:
            self.error("highlight a failed job to retry (↑/↓ in the jobs list)")
            return
        await self._retry([job.id])

    @work(exclusive=True, group="flow")
    async def action_retry_all(self) -> None:
        ids = [r.id for r in self.rows if r.retryable]
        if not ids:
            self.error("no failed jobs shown to retry")
            return
        if not await self.app.push_screen_wait(ConfirmDialog(
                "Retry all shown", f"Put {len(ids)} job(s) of {self.selected} back to pending "
                                   f"({self.filters.label()})?")):
            self.say("retry all: cancelled")
            return
        await self._retry(ids)

    async def _retry(self, ids: list[int]) -> None:
        done = await asyncio.to_thread(outbox.retry, self.ctx.engine, ids, operator=self.operator.code)
        left = len(ids) - len(done)
        if len(done) == 1 and len(ids) == 1:
            self.say(f"job {done[0]} back to pending; it goes with the next delivery run")
        else:
            self.say(f"{len(done)} job(s) back to pending" + (f"; {left} had moved on meanwhile" if left else ""))
        self.load()
        self.app.call_later(self._kick_delivery)

    def _kick_delivery(self) -> None:
        deliver = getattr(self.app, "deliver_exports", None)
        if deliver is not None and any(t.live for t in getattr(self.app, "export_targets", ())):
            deliver()

    @work(exclusive=True, group="flow")
    async def action_skip(self, job_id: int | None = None) -> None:
        job = self.highlighted_job if job_id is None else next((r for r in self.rows if r.id == job_id), None)
        if job is None or not job.skippable:
            self.error("highlight a job that is not finished to skip it")
            return
        reason = await self.app.push_screen_wait(Prompt(
            f"Skip job {job.id}", f"{job.event} {job.source_id}: why is it not sent?", _reason,
            hint="the reason is kept with the job and in the audit log · Esc = cancel"))
        if reason is None:
            return
        approver = await self.approve(f"skip export job {job.id} ({job.connector})", "export skip")
        if approver is None:
            return
        ok = await asyncio.to_thread(outbox.skip, self.ctx.engine, job.id, reason, operator=self.operator.code)
        if not ok:
            self.error(f"job {job.id} finished meanwhile; nothing skipped")
        else:
            if approver.id != self.operator.id:
                await asyncio.to_thread(audit.record_now, self.ctx.engine, "export.skip.approved",
                                        operator=self.operator.code, subject=str(job.id), approved_by=approver.code,
                                        **self.ctx.audit_where())
            self.say(f"job {job.id} skipped ({reason})" + (f", approved by {approver.name}"
                                                           if approver.id != self.operator.id else ""))
        self.load()

    @work(exclusive=True, group="flow")
    async def action_pause(self) -> None:
        name = self.selected
        if name is None:
            return
        engine = self.ctx.engine
        reason = await asyncio.to_thread(outbox.paused, engine, name)
        if reason is not None:
            await asyncio.to_thread(outbox.set_paused, engine, name, None, operator=self.operator.code)
            self.say(f"{name} resumed: its jobs go out with the next delivery run")
            self.app.call_later(self._kick_delivery)
        else:
            why = await self.app.push_screen_wait(Prompt(
                f"Pause {name}", "reason (shown on this screen)", _reason,
                hint="nothing is sent until it is resumed (p again); jobs keep queueing · Esc = cancel"))
            if why is None:
                return
            await asyncio.to_thread(outbox.set_paused, engine, name, why, operator=self.operator.code)
            self.say(f"{name} paused: {why}", "warning")
        self.load()

    def action_test(self) -> None:
        name = self.selected
        connector = next((c for c in self.ctx.settings.all_connectors() if c.name == name), None)
        if connector is None:
            return
        self.say(f"{name}: testing the connection …")
        self._test(connector)

    @work(thread=True, group="health-test", exit_on_error=False)
    def _test(self, connector) -> None:
        result = probe.test_connection(connector, self.ctx.settings)
        audit.record_now(self.ctx.engine, "export.test", operator=self.operator.code, subject=connector.name,
                         ok=result.ok, result=result.message[:300], **self.ctx.audit_where())
        self.post_message(self.Tested(connector.name, result))

    @work(exclusive=True, group="flow")
    async def action_open_job(self) -> None:
        from app.screens.export_job import ExportJobScreen

        job = self.highlighted_job
        if job is None:
            return
        detail = await asyncio.to_thread(health.job_detail, self.ctx.engine, job.id)
        if detail is None:
            self.error(f"job {job.id} is gone")
            return
        choice = await self.app.push_screen_wait(ExportJobScreen(detail, self.zone))
        if choice == "retry":
            await self._retry([job.id])
        elif choice == "skip":
            self.app.call_later(self.action_skip, job.id)
