"""data/health.py and the connector checks against a real SQLite file and a real receiver on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from app.config import ConnectorSettings
from app.connectors import probe
from app.exports import run_once, targets
from app.tui import place_from_settings
from data import health, outbox
from data.db import write_session, writer
from data.models import AuditLog, ExportJob, Product, Shift
from data.operators import by_code
from data.payments import CARD, CASH
from data.sales import commit_sale
from data.types import utcnow
from tests import carts
from tests.conftest import COFFEE, HIGHLIGHTER
from tests.fake_devices import free_port
from tests.webhook_receiver import SECRET, Receiver


@pytest.fixture
def failing_receiver():
    r = Receiver()
    r.script = [(500, {})] * 50
    yield r
    r.stop()


def webhook(url: str, *, name: str = "hq", live: bool = True, **kw) -> ConnectorSettings:
    return ConnectorSettings(name=name, kind="webhook", url=url, secret=SECRET, live=live, retry_schedule=[1, 1, 1],
                             **kw)


def sell(engine, settings, code=HIGHLIGHTER, tender=CASH) -> str:
    place = place_from_settings(settings, engine)
    cart, pay = carts.paid_cart(engine, place, [(code, 1)], tender)
    return commit_sale(engine, place, by_code(engine, "1"), cart, pay, exports=targets(settings))


def info(settings, name="hq") -> health.ConnectorInfo:
    return next(c for c in probe.connector_infos(settings) if c.name == name)


def set_state(engine, job_id: int, **values) -> None:
    with writer(engine).begin() as conn:
        conn.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))


def audits(engine, action: str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def test_failing_webhook_shows_as_failing_with_its_error_and_queue(settings, engine, failing_receiver):
    settings.connectors = [webhook(failing_receiver.url)]
    first, second = sell(engine, settings), sell(engine, settings, COFFEE)
    run_once(settings, engine)
    s = health.summarise(engine, info(settings))
    assert (s.status, s.level) == ("Failing", "error")
    assert "2 job(s) retrying after HTTP 500" in s.reason
    assert s.counts["retry_wait"] == 2 and s.counts["dead"] == 0
    assert s.last_error == "HTTP 500" and s.last_error_status == 500 and s.last_success_at is None
    assert (s.sent_24h, s.failed_24h, s.success_rate) == (2, 2, 0.0)
    assert s.oldest_waiting_at is not None and s.next_attempt_at is not None

    rows = health.failures(engine, connector="hq")
    assert [r.source_id for r in rows] == [second, first]  # newest first
    assert rows[0].state == "retry_wait" and rows[0].attempts == 1 and rows[0].last_status == 500
    assert rows[0].first_attempt_at is not None and rows[0].first_attempt_at == rows[0].last_attempt_at

    detail = health.job_detail(engine, rows[0].id)
    assert detail.payload["data"]["receipt_number"] == second
    [attempt] = detail.attempts
    assert (attempt.outcome, attempt.status, attempt.response_body) == ("retry", 500, '{"error": "scripted"}')
    assert attempt.headers["webhook-signature"] == "***"
    assert attempt.headers["webhook-id"] == detail.idempotency_key

    # The receiver recovers: a retry delivers, the badge goes back to OK.
    failing_receiver.script = []
    assert outbox.retry(engine, [r.id for r in rows], operator="9") == sorted(r.id for r in rows)
    run_once(settings, engine)
    s = health.summarise(engine, info(settings))
    assert (s.status, s.counts["retry_wait"], s.last_success_ref) == ("OK", 0, second)
    assert health.failures(engine, connector="hq") == []


def test_retry_skip_pause_and_resume_are_audited(settings, engine, failing_receiver):
    settings.connectors = [webhook(failing_receiver.url)]
    receipt = sell(engine, settings)
    run_once(settings, engine)
    [job] = health.failures(engine)
    outbox.retry(engine, [job.id], operator="9")
    assert [(a.operator_code, a.subject) for a in audits(engine, "export.retry")] == [("9", str(job.id))]
    assert outbox.skip(engine, job.id, "sent by hand", operator="9")
    [skip] = audits(engine, "export.skip")
    assert (skip.operator_code, skip.detail["reason"]) == ("9", "sent by hand")
    assert health.export_history(engine, "sale", receipt)[0].resolution == "sent by hand"

    outbox.set_paused(engine, "hq", "receiver maintenance", operator="9")
    s = health.summarise(engine, info(settings))
    assert (s.status, s.paused_reason, s.paused_by) == ("Paused", "receiver maintenance", "9")
    assert s.reason == "receiver maintenance (by 9)"
    outbox.set_paused(engine, "hq", None, operator="9")
    assert health.summarise(engine, info(settings)).status != "Paused"
    assert [a.action for a in audits(engine, "export.pause") + audits(engine, "export.resume")] == [
        "export.pause", "export.resume"]


def test_status_badges(settings, engine, failing_receiver):
    settings.connectors = [webhook(failing_receiver.url, live=False)]
    assert health.summarise(engine, info(settings)).status == "Dry-run"
    receipt_job = None
    sell(engine, settings)
    [job] = outbox.list_jobs(engine)
    receipt_job = job.id
    set_state(engine, receipt_job, state="blocked", last_error="no url")
    s = health.summarise(engine, info(settings))
    assert (s.status, s.level, s.reason) == ("Degraded", "warning", "1 blocked")
    set_state(engine, receipt_job, state="dead")
    assert health.summarise(engine, info(settings)).status == "Failing"

    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url="http://example.com/x", secret=SECRET)]
    s = health.summarise(engine, info(settings))
    assert s.status == "Misconfigured" and "loopback" in s.reason
    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url=failing_receiver.url)]
    assert "no secret" in health.summarise(engine, info(settings)).reason
    settings.connectors = [ConnectorSettings(name="site", kind="site")]
    s = health.summarise(engine, info(settings, "site"))
    assert s.status == "Misconfigured" and "no [site] url" in s.reason
    settings.connectors = [ConnectorSettings(name="site", kind="site", url="sqlite:///site.db", live=False)]
    assert health.summarise(engine, info(settings, "site")).status == "Dry-run"


def test_stuck_in_flight_is_degraded_shown_in_failures_and_diagnosed(settings, engine, failing_receiver):
    settings.connectors = [webhook(failing_receiver.url)]
    sell(engine, settings)
    [job] = outbox.list_jobs(engine)
    past = utcnow() - timedelta(minutes=10)
    set_state(engine, job.id, state="in_flight", lease_expires_at=past)
    s = health.summarise(engine, info(settings))
    assert (s.status, s.stuck) == ("Degraded", 1)
    assert [r.id for r in health.failures(engine)] == [job.id]
    assert health.failures(engine, states=["dead"]) == []
    stuck = next(d for d in health.diagnostics(engine, [info(settings)]) if "lease" in d.check)
    assert (stuck.level, stuck.count, stuck.items) == ("error", 1, (f"job {job.id} (hq)",))

    set_state(engine, job.id, state="uncertain", updated_at=utcnow() - timedelta(hours=2))
    uncertain = next(d for d in health.diagnostics(engine, [info(settings)]) if "uncertain" in d.check)
    assert (uncertain.level, uncertain.count) == ("warning", 1)


def test_failure_filters_by_state_event_and_day(settings, engine, failing_receiver):
    settings.connectors = [webhook(failing_receiver.url)]
    sell(engine, settings)
    run_once(settings, engine)
    [job] = health.failures(engine)
    assert health.failures(engine, event="sale.completed") == [job]
    assert health.failures(engine, event="day.closed") == []
    assert health.failures(engine, states=["retry_wait"]) == [job]
    assert health.failures(engine, states=["dead"]) == []
    today = health.business_day(utcnow(), "Asia/Bangkok")
    assert health.failures(engine, day=today, timezone="Asia/Bangkok") == [job]
    assert health.failures(engine, day=today - timedelta(days=1), timezone="Asia/Bangkok") == []
    assert health.failures(engine, states=None, connector="other") == []
    assert health.events(engine, "hq") == ["sale.completed"]


def test_calendar_of_daily_entries(settings, engine):
    target = outbox.ExportTarget("files", "file_drop", ("day.closed",), live=True)
    today = date(2026, 12, 14)
    states = {date(2026, 12, 1): "succeeded", date(2026, 12, 10): "dead", date(2026, 12, 12): "retry_wait",
              date(2026, 11, 20): "succeeded"}  # the last one is outside the 14 days
    with writer(engine).begin() as conn:
        for day in states:
            outbox.enqueue(conn, [target], "day.closed", "day", f"Z-{day}", {}, business_date=day.isoformat())
    for job in outbox.list_jobs(engine):
        set_state(engine, job.id, state=states[date.fromisoformat(job.business_date)])
    days = health.daily_calendar(engine, "files", today)
    assert len(days) == 14 and days[0].day == date(2026, 12, 1) and days[-1].day == today
    shown = {d.day: d.state for d in days if d.state != "none"}
    assert shown == {date(2026, 12, 1): "succeeded", date(2026, 12, 10): "dead", date(2026, 12, 12): "waiting"}


def test_diagnostics_external_ids_tenders_and_open_shifts(settings, engine):
    settings.connectors = [ConnectorSettings(name="peak", kind="peak", connect_id="x", connect_key="y",
                                             user_token="z", tender_map={"cash": "BSV001"})]
    place = place_from_settings(settings, engine)
    sell(engine, settings, COFFEE, CARD)
    with write_session(engine) as s:
        products = list(s.exec(select(Product)))
        for p in products:
            if p.sku != "CF-001":
                p.external_ids = {**p.external_ids, "peak": f"P-{p.sku}"}
            s.add(p)
        s.add(Shift(terminal_id=place.terminal_id, operator_id=by_code(engine, "1").id,
                    opened_at=utcnow() - timedelta(days=3)))
    infos = probe.connector_infos(settings)
    assert infos[0].needs_external_ids and infos[0].tender_map == {"cash": "BSV001"} and infos[0].daily
    found = {d.check: d for d in health.diagnostics(engine, infos, timezone="Asia/Bangkok")}
    missing = found["products without a peak code"]
    assert (missing.level, missing.count, missing.items[0].split()[0]) == ("error", 1, "CF-001")
    tenders = found["tenders not mapped for peak"]
    assert (tenders.count, tenders.items) == (1, ("card",))
    shifts = found["shifts of earlier days still open"]
    assert (shifts.level, shifts.count) == ("warning", 1)
    assert found["jobs in flight past their lease"].ok


def test_diagnostics_all_clear_for_a_plain_webhook(settings, engine):
    settings.connectors = [webhook("http://127.0.0.1:1/hooks")]
    found = health.diagnostics(engine, probe.connector_infos(settings))
    assert found and all(d.ok for d in found)


def test_export_history_of_a_sale(settings, engine, failing_receiver):
    settings.connectors = [webhook(failing_receiver.url), webhook(failing_receiver.url, name="backup", live=False)]
    receipt = sell(engine, settings)
    other = sell(engine, settings)
    run_once(settings, engine)
    history = health.export_history(engine, "sale", receipt)
    assert [(h.connector, h.state) for h in history] == [("hq", "retry_wait"), ("backup", "skipped")]
    assert history[0].error == "HTTP 500"
    assert all(h.source_id == receipt for h in history) and other != receipt
    assert health.export_history(engine, None, receipt) == history
    assert health.export_history(engine, "sale", "nope") == []


def test_redaction_and_ages():
    shown = health.redact_headers({"Authorization": "Bearer x", "User-Token": "t", "Time-Signature": "s",
                                   "Client-Token": "c", "webhook-signature": "v1,abc", "webhook-id": "hq:1"})
    assert shown == {"Authorization": "***", "User-Token": "***", "Time-Signature": "***", "Client-Token": "***",
                     "webhook-signature": "***", "webhook-id": "hq:1"}
    assert [health.fmt_age(s) for s in (None, 5, 125, 3 * 3600 + 300, 2 * 86400 + 4 * 3600, -30)] == [
        "—", "5s", "2m", "3h 05m", "2d 4h", "-30s"]
    assert health.first_line("\n  boom\nsecond") == "boom"
    start, end = health.day_bounds(date(2026, 12, 1), "Asia/Bangkok", time(4, 0))
    assert start == datetime(2026, 11, 30, 21, 0, tzinfo=UTC) and end - start == timedelta(days=1)


# -- test connection ---------------------------------------------------------------------------------

def test_connection_to_a_down_receiver_says_so(settings):
    url = f"http://127.0.0.1:{free_port()}/hooks"
    result = probe.test_connection(webhook(url), settings, timeout=2)
    assert not result.ok
    assert result.message.startswith(f"cannot reach {url}") and "refused" in result.message


def test_connection_to_a_running_receiver_reports_reachability_and_skew(settings, failing_receiver):
    result = probe.test_connection(webhook(failing_receiver.url), settings)
    assert result.ok, result.message
    assert result.message.startswith("reachable: HTTP ") and "clock skew" in result.message
    assert abs(result.skew_seconds) < 5
    assert failing_receiver.requests == []  # nothing was delivered


def test_connection_refuses_plain_http_to_other_hosts(settings):
    result = probe.test_connection(webhook("http://example.com/hooks"), settings)
    assert not result.ok and "loopback" in result.message


def test_clock_skew_from_date_header():
    assert probe.clock_skew("Tue, 01 Dec 2026 09:30:00 GMT", now=datetime(2026, 12, 1, 9, 31, tzinfo=UTC).timestamp()) == 60
    assert probe.clock_skew(None) is None and probe.clock_skew("not a date") is None


def test_file_drop_folder_check(settings, tmp_path):
    folder = tmp_path / "drop"
    c = ConnectorSettings(name="acc", kind="file_drop", folder=str(folder), live=True)
    result = probe.test_connection(c, settings)
    assert not result.ok and "does not exist" in result.message
    folder.mkdir()
    result = probe.test_connection(c, settings)
    assert result.ok and "writable" in result.message and "GB free" in result.message
    assert list(folder.iterdir()) == []


def test_peak_test_connection_without_the_peak_module(settings, monkeypatch):
    import sys

    import app.connectors

    monkeypatch.setitem(sys.modules, "app.connectors.peak", None)
    monkeypatch.delattr(app.connectors, "peak", raising=False)  # imported by an earlier test
    c = ConnectorSettings(name="peak", kind="peak", connect_id="x", connect_key="y", user_token="z")
    result = probe.test_connection(c, settings)
    assert not result.ok and "not available" in result.message
    assert probe.config_problem(ConnectorSettings(name="peak", kind="peak")) == \
        "missing connect_id, connect_key, user_token"


def test_peak_checks_are_used_when_the_peak_connector_has_them(settings, engine, monkeypatch):
    """The PEAK connector's own test connection and missing-code list are called when present."""
    import sys
    import types

    import app.connectors
    import data

    seen = []
    fake_connector = types.SimpleNamespace(test_connection=lambda c, s=None: (seen.append(c.name) or True, "token ok"))
    monkeypatch.setitem(sys.modules, "app.connectors.peak", fake_connector)
    monkeypatch.setattr(app.connectors, "peak", fake_connector, raising=False)
    c = ConnectorSettings(name="peak", kind="peak", connect_id="x", connect_key="y", user_token="z")
    assert probe.test_connection(c, settings) == probe.ProbeResult(True, "token ok") and seen == ["peak"]

    fake_data = types.SimpleNamespace(missing_external_ids=lambda e, name, since: [
        {"product_id": 1, "sku": "ZZ-1", "name": "sold a lot", "lines": 9}])
    monkeypatch.setitem(sys.modules, "data.peak", fake_data)
    monkeypatch.setattr(data, "peak", fake_data, raising=False)
    settings.connectors = [c]
    [missing] = [d for d in health.diagnostics(engine, probe.connector_infos(settings)) if "code" in d.check]
    assert missing.items[0] == "ZZ-1 sold a lot" and missing.count > 1  # then the products on sale without one
