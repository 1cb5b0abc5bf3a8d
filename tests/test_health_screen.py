"""Pilot flows and snapshots of the integration-health screen (F11) with a failing webhook connector:
a real receiver on 127.0.0.1 that answers 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select
from textual.widgets import DataTable, Input

from app.config import ConnectorSettings
from app.exports import run_once, targets
from app.screens.export_job import ExportJobScreen
from app.screens.health import HealthScreen
from app.screens.sale import SaleScreen
from app.tui import place_from_settings
from data.db import writer
from data.models import AuditLog, ExportAttempt, ExportJob
from data.operators import by_code
from data.sales import commit_sale
from tests import carts
from tests.conftest import COFFEE, HIGHLIGHTER
from tests.fake_devices import free_port
from tests.pilot import enter, login, press, settle
from tests.webhook_receiver import SECRET, Receiver
from widgets.connector_card import ConnectorCard
from widgets.dialogs import ConfirmDialog, PinPrompt, Prompt

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
FROZEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def receiver():
    r = Receiver()
    r.script = [(500, {})] * 50
    yield r
    r.stop()


def configure(settings, url: str):
    settings.connectors = [
        ConnectorSettings(name="hq", kind="webhook", url=url, secret=SECRET, live=True, retry_schedule=[600, 600]),
        ConnectorSettings(name="accountant", kind="file_drop", folder="exports", live=False),
    ]
    return settings


def sell_two(settings, engine) -> list[str]:
    place = place_from_settings(settings, engine)
    receipts = []
    for code in (HIGHLIGHTER, COFFEE):
        cart, pay = carts.paid_cart(engine, place, [(code, 1)])
        receipts.append(commit_sale(engine, place, by_code(engine, "1"), cart, pay, exports=targets(settings)))
    return receipts


@pytest.fixture
def failing(settings, engine, receiver):
    """Two sales whose webhook got HTTP 500 once each: both jobs wait to be retried."""
    configure(settings, receiver.url)
    receipts = sell_two(settings, engine)
    run_once(settings, engine)
    return receipts


def jobs(engine, connector="hq") -> list[ExportJob]:
    with Session(engine) as s:
        return list(s.exec(select(ExportJob).where(ExportJob.connector == connector).order_by(ExportJob.id)))


def audits(engine, action: str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


async def open_health(pilot, operator="1", pin="1111") -> HealthScreen:
    await login(pilot, operator, pin)
    await press(pilot, "f11")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HealthScreen)
    return screen


async def to_jobs(pilot) -> DataTable:
    await press(pilot, "tab")
    table = pilot.app.screen.query_one(DataTable)
    assert pilot.app.focused is table
    return table


async def test_f11_shows_the_failing_connector_its_jobs_and_escape_goes_back(make_till, settings, engine, failing):
    app = make_till(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_health(pilot)
        card = screen.query_one(ConnectorCard)
        assert card.summary.status == "Failing" and card.summary.counts["retry_wait"] == 2
        assert [r.source_id for r in screen.rows] == list(reversed(failing))
        assert "HTTP 500" in str(screen.query_one("#health-failures", DataTable).get_row_at(0))
        # ↓ picks the next connector: the dry-run file drop has nothing failing
        await press(pilot, "down")
        assert screen.selected == "accountant" and screen.query_one(ConnectorCard).summary.status == "Dry-run"
        assert screen.rows == []
        await press(pilot, "up")
        assert screen.selected == "hq" and len(screen.rows) == 2
        await press(pilot, "escape")
        assert isinstance(app.screen, SaleScreen)


async def test_retry_the_highlighted_job_delivers_it_once_the_receiver_is_back(make_till, settings, engine, failing,
                                                                                receiver):
    receiver.script = []  # the receiver recovered
    app = make_till(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_health(pilot)
        await to_jobs(pilot)
        await press(pilot, "r")
        await settle(pilot)
        newest = jobs(engine)[-1]
        [row] = audits(engine, "export.retry")
        assert (row.operator_code, row.subject) == ("1", str(newest.id))
        assert "back to pending" in screen.query_one("#health-status").text
        await settle(pilot)
    states = [j.state for j in jobs(engine)]
    assert states[-1] in ("pending", "succeeded") and states[0] == "retry_wait"


async def test_retry_all_shown_asks_with_the_count(make_till, settings, engine, failing):
    app = make_till(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_health(pilot)
        await press(pilot, "R")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and "2 job(s)" in dialog._question
        await press(pilot, "n")
        assert isinstance(app.screen, HealthScreen) and audits(engine, "export.retry") == []
        await press(pilot, "R")
        await press(pilot, "y")
        await settle(pilot)
        assert sorted(int(a.subject) for a in audits(engine, "export.retry")) == [j.id for j in jobs(engine)]


async def test_skip_by_a_cashier_needs_a_reason_and_the_manager_pin(make_till, settings, engine, failing):
    app = make_till(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_health(pilot)
        await to_jobs(pilot)
        job_id = screen.highlighted_job.id
        await press(pilot, "s")
        assert isinstance(app.screen, Prompt)
        await enter(pilot, "   ")
        assert isinstance(app.screen, Prompt) and "type a value" in app.screen.error_text
        app.screen.query_one(Input).value = ""
        await enter(pilot, "entered in the HQ system by hand")
        assert isinstance(app.screen, PinPrompt)
        await enter(pilot, "1111")  # a cashier's PIN is not a manager's
        assert isinstance(app.screen, PinPrompt)
        await enter(pilot, "9999")
        await settle(pilot)
        assert isinstance(app.screen, HealthScreen)
        assert "skipped" in screen.query_one("#health-status").text
    job = next(j for j in jobs(engine) if j.id == job_id)
    assert (job.state, job.resolution) == ("skipped", "entered in the HQ system by hand")
    [skip] = audits(engine, "export.skip")
    assert (skip.operator_code, skip.subject, skip.detail["reason"]) == ("1", str(job_id),
                                                                         "entered in the HQ system by hand")
    [approved] = audits(engine, "export.skip.approved")
    assert approved.detail["approved_by"] == "9"
    assert audits(engine, "override.refused")  # the wrong PIN is on record too


async def test_skip_by_a_manager_needs_no_pin_and_escape_cancels(make_till, settings, engine, failing):
    app = make_till(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_health(pilot, "9", "9999")
        await to_jobs(pilot)
        await press(pilot, "s")
        await press(pilot, "escape")
        assert isinstance(app.screen, HealthScreen) and audits(engine, "export.skip") == []
        await press(pilot, "s")
        await enter(pilot, "test sale")
        await settle(pilot)
        assert isinstance(app.screen, HealthScreen)
    assert [a.operator_code for a in audits(engine, "export.skip")] == ["9"]
    assert audits(engine, "export.skip.approved") == []


async def test_pause_and_resume_the_connector(make_till, settings, engine, failing):
    app = make_till(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_health(pilot)
        await press(pilot, "p")
        assert isinstance(app.screen, Prompt)
        await enter(pilot, "receiver maintenance")
        await settle(pilot)
        summary = screen.query_one(ConnectorCard).summary
        assert (summary.status, summary.paused_by) == ("Paused", "1")
        assert "receiver maintenance (by 1)" in str(screen.query_one(".card-reason").render())
        await press(pilot, "p")
        await settle(pilot)
        assert screen.query_one(ConnectorCard).summary.status == "Failing"
        assert "resumed" in screen.query_one("#health-status").text
    assert [a.action for a in audits(engine, "export.pause") + audits(engine, "export.resume")] == [
        "export.pause", "export.resume"]


async def test_test_connection_to_a_down_receiver_says_so_clearly(make_till, settings, engine):
    url = f"http://127.0.0.1:{free_port()}/hooks"
    configure(settings, url)
    app = make_till(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_health(pilot)
        await press(pilot, "t")
        await settle(pilot)
        text = str(screen.query_one(".card-test").render())
        assert "FAILED" in text and "cannot reach" in text and "refused" in text
        assert "cannot reach" in screen.query_one("#health-status").text
    [row] = audits(engine, "export.test")
    assert row.subject == "hq" and row.detail["ok"] is False


async def test_test_connection_to_a_running_receiver_reports_skew(make_till, settings, engine, failing, receiver):
    app = make_till(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_health(pilot)
        await press(pilot, "t")
        await settle(pilot)
        text = str(screen.query_one(".card-test").render())
        assert "OK: reachable" in text and "clock skew" in text
    assert len(receiver.requests) == 2  # only the two sales' deliveries: a test sends nothing


async def test_enter_opens_the_job_detail_with_attempts_and_escape_closes(make_till, settings, engine, failing):
    app = make_till(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_health(pilot)
        await to_jobs(pilot)
        await press(pilot, "enter")
        detail = app.screen
        assert isinstance(detail, ExportJobScreen)
        assert detail.detail.job.source_id == failing[-1]
        attempt = str(detail.query_one("#job-attempt").render())
        assert "HTTP 500" in attempt and "webhook-signature: ***" in attempt and '"error": "scripted"' in attempt
        assert failing[-1] in str(detail.query_one("#job-payload").render())
        await press(pilot, "escape")
        assert app.screen is screen
        # r in the detail retries that job
        await press(pilot, "enter")
        await press(pilot, "r")
        await settle(pilot)
        assert app.screen is screen
        assert [a.subject for a in audits(engine, "export.retry")] == [str(detail.detail.job.id)]


async def test_filters_by_state_event_and_day(make_till, settings, engine, failing):
    app = make_till(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_health(pilot)
        await press(pilot, "f")  # dead
        assert screen.filters.state == "dead" and screen.rows == []
        for _ in range(8):  # … round to "all"
            await press(pilot, "f")
        assert screen.filters.state == "all" and len(screen.rows) == 2
        await press(pilot, "f")
        assert screen.filters.state is None
        await press(pilot, "e")
        assert screen.filters.event == "sale.completed" and len(screen.rows) == 2
        await press(pilot, "e")
        assert screen.filters.event is None
        await press(pilot, "d")
        await enter(pilot, "2001-02-03")
        assert screen.filters.day.isoformat() == "2001-02-03" and screen.rows == []
        await press(pilot, "d")
        app.screen.query_one(Input).value = ""
        await enter(pilot, "")
        assert screen.filters.day is None and len(screen.rows) == 2


# -- snapshots ---------------------------------------------------------------------------------------

@pytest.fixture
def frozen_failing(settings, engine, receiver, monkeypatch):
    """The failing connector at a fixed time, with fixed attempt headers and next attempts."""
    import data.health
    import data.outbox
    import data.sales

    for module in (data.sales, data.outbox, data.health):
        monkeypatch.setattr(module, "utcnow", lambda: FROZEN)
    configure(settings, receiver.url)
    sell_two(settings, engine)
    monkeypatch.setattr(data.outbox, "utcnow", lambda: FROZEN + timedelta(seconds=5))
    run_once(settings, engine)
    monkeypatch.setattr(data.outbox, "utcnow", lambda: FROZEN)
    monkeypatch.setattr(data.health, "utcnow", lambda: FROZEN + timedelta(minutes=3))
    with writer(engine).begin() as conn:
        conn.execute(update(ExportJob).where(ExportJob.state == "retry_wait")
                     .values(next_attempt_at=FROZEN + timedelta(minutes=10)))
        for attempt in conn.execute(select(ExportAttempt)).all():
            headers = {**attempt.request_headers, "webhook-timestamp": "1796117405"}
            conn.execute(update(ExportAttempt).where(ExportAttempt.id == attempt.id).values(request_headers=headers))
    return settings


@pytest.fixture
def _steady_cursor(monkeypatch):
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_health_failing_connector(snap_compare, make_till, frozen_failing, _steady_cursor, size):
    async def run_before(pilot):
        await open_health(pilot)
        await to_jobs(pilot)

    assert snap_compare(make_till(frozen_failing), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_job_detail(snap_compare, make_till, frozen_failing, _steady_cursor, size):
    async def run_before(pilot):
        await open_health(pilot)
        await to_jobs(pilot)
        await press(pilot, "enter")

    assert snap_compare(make_till(frozen_failing), terminal_size=size, run_before=run_before)


# -- a sale's export history in the receipt preview -------------------------------------------------

async def test_receipt_preview_shows_the_sales_export_history(make_till, settings, engine, failing):
    from app.screens.receipt import ReceiptScreen

    app = make_till(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        app.screen.show_last_receipt()
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen) and app.screen.receipt_number == failing[-1]
        text = str(app.screen.query_one("#receipt-exports").render())
        assert "hq  retry_wait  1 try  HTTP 500" in text
        assert "accountant" not in text  # the file drop takes the day close only


def test_snapshot_receipt_with_export_history(snap_compare, make_till, frozen_failing):
    async def run_before(pilot):
        await login(pilot)
        pilot.app.screen.show_last_receipt()
        await settle(pilot)

    assert snap_compare(make_till(frozen_failing), terminal_size=(80, 24), run_before=run_before)


async def test_refresh_updates_rows_in_place_and_keeps_the_cursor(make_till, settings, engine, failing):
    app = make_till(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_health(pilot)
        table = await to_jobs(pilot)
        await press(pilot, "down")
        assert table.cursor_row == 1
        oldest = jobs(engine)[0]
        with writer(engine).begin() as conn:
            conn.execute(update(ExportJob).where(ExportJob.id == oldest.id).values(state="dead"))
        await press(pilot, "g")
        await settle(pilot)
        assert table.cursor_row == 1 and screen.highlighted_job.state == "dead"
        assert str(table.get_cell(str(oldest.id), "state")) == "dead"
        assert screen.query_one(ConnectorCard).summary.counts["dead"] == 1


async def test_outside_text_is_shown_literally(make_till, settings, engine, failing):
    """A receiver's body and error text with Rich markup and control bytes: shown as typed, no escapes."""
    with writer(engine).begin() as conn:
        conn.execute(update(ExportAttempt).values(response_body="[red]boom[/red]\x1b[2J\nline two",
                                                  error="HTTP 500 [b]x[/b]\x07"))
        conn.execute(update(ExportJob).values(last_error="HTTP 500 [b]x[/b]\x07"))
    app = make_till(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_health(pilot)
        assert "[b]x[/b]" in str(screen.query_one("#health-failures", DataTable).get_row_at(0)[5])
        await to_jobs(pilot)
        await press(pilot, "enter")
        attempt = str(app.screen.query_one("#job-attempt").render())
        assert "[red]boom[/red][2J" in attempt and "line two" in attempt
        assert "\x1b" not in attempt and "\x07" not in attempt and "HTTP 500 [b]x[/b]" in attempt
