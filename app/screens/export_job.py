"""One export job: what it is, its payload and every attempt (status, error, response body, the request
headers with secrets redacted). Dismisses with "retry" or "skip" when the operator asks for one; the
health screen performs it (and asks for a manager where needed)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from data.health import JobDetail, fmt_age, redact_headers
from data.text import printable
from widgets.key_footer import KeyFooter

BODY_LIMIT = 4000  # characters of a response body shown; the database keeps 64 KB


def _multiline(value: object) -> str:
    """Outside text kept on its lines, control bytes removed from each line."""
    return "\n".join(printable(line) for line in str(value or "").splitlines())


class ExportJobScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="job_close"),
        Binding("r", "answer('retry')", "Retry", id="job_retry", tooltip="Put the job back to pending"),
        Binding("s", "answer('skip')", "Skip", id="job_skip", tooltip="Skip the job with a reason (manager)"),
        Binding("pagedown", "scroll_body(1)", "Page", id="job_page_down", priority=True, tooltip="Scroll the attempt and payload"),
        Binding("pageup", "scroll_body(-1)", "Page", id="job_page_up", priority=True, tooltip="Scroll back"),
    ]

    def __init__(self, detail: JobDetail, timezone: str) -> None:
        super().__init__()
        self.detail = detail
        self.zone = ZoneInfo(timezone)

    def _t(self, at) -> str:
        return f"{at.astimezone(self.zone):%d.%m.%Y %H:%M:%S}" if at else "—"

    def compose(self) -> ComposeResult:
        d, job = self.detail, self.detail.job
        with Vertical(id="job-box", classes="dialog"):
            yield Label(Text(printable(f"Job {job.id} · {job.connector} · {job.event} · {job.source_id}")),
                        classes="dialog-title")
            yield Static(self.facts(), id="job-facts")
            yield DataTable(id="job-attempts", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="job-scroll"):
                yield Static(self.attempt_text(len(d.attempts) - 1), id="job-attempt")
                yield Static(self.payload_text(), id="job-payload")
            yield KeyFooter(rows=1)

    def facts(self) -> Text:
        job = self.detail.job
        t = Text()
        t.append("State ", style="bold")
        t.append(job.state.upper(), style="bold reverse")
        t.append(f"  attempts {job.attempts}/{job.max_attempts}")
        if job.next_attempt_at:
            t.append(f"  next {self._t(job.next_attempt_at)}")
        t.append(f"\nKey   {printable(self.detail.idempotency_key)}")
        t.append(f"\nMade  {self._t(job.created_at)}  changed {self._t(job.updated_at)}")
        if job.error:
            t.append("\nError ", style="bold")
            t.append(printable(job.error))
        if job.resolution:
            t.append(f"\nNote  {printable(job.resolution)}")
        if job.remote_id:
            t.append(f"\nSent  {printable(job.remote_id)}")
        return t

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "Started", "Outcome", "Status", "Took", "Error")
        for i, a in enumerate(self.detail.attempts):
            took = fmt_age((a.finished_at - a.started_at).total_seconds()) if a.finished_at else "—"
            table.add_row(str(a.no), self._t(a.started_at), a.outcome, str(a.status or "—"), took,
                          Text(printable(a.error)[:80]), key=str(i))
        if self.detail.attempts:
            table.move_cursor(row=len(self.detail.attempts) - 1)
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.query_one("#job-attempt", Static).update(self.attempt_text(int(event.row_key.value)))

    def attempt_text(self, index: int) -> Text:
        t = Text()
        if not self.detail.attempts or index < 0:
            t.append("No attempts yet.", style="dim")
            return t
        a = self.detail.attempts[index]
        t.append(f"Attempt {a.no}", style="bold")
        t.append(f" · {self._t(a.started_at)} · {a.outcome}" + (f" · HTTP {a.status}" if a.status else ""))
        if a.error:
            t.append("\nError: ", style="bold")
            t.append(_multiline(a.error))
        headers = redact_headers(a.headers)
        if headers:
            t.append("\nRequest headers:", style="bold")
            for k, v in headers.items():
                t.append(f"\n  {printable(k)}: {printable(v)}")
        body = a.response_body or ""
        t.append("\nResponse body:", style="bold")
        if body:
            t.append("\n" + _multiline(body[:BODY_LIMIT]))
            if len(body) > BODY_LIMIT:
                t.append(f"\n… {len(body) - BODY_LIMIT} more characters (till exports show {self.detail.job.id})",
                         style="dim")
        else:
            t.append(" (empty)", style="dim")
        return t

    def payload_text(self) -> Text:
        t = Text()
        t.append("\nPayload:", style="bold")
        t.append("\n" + _multiline(json.dumps(self.detail.payload, ensure_ascii=False, indent=2)))
        return t

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "answer":
            job = self.detail.job
            return job.retryable if parameters[0] == "retry" else job.skippable
        return True

    def action_scroll_body(self, step: int) -> None:
        body = self.query_one("#job-scroll", VerticalScroll)
        if step > 0:
            body.scroll_page_down(animate=False)
        else:
            body.scroll_page_up(animate=False)

    def action_answer(self, what: str) -> None:
        self.dismiss(what)

    def action_close(self) -> None:
        self.dismiss(None)
