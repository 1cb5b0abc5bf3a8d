"""The PEAK connector against a fake PEAK on 127.0.0.1 (tests/fake_peak.py): auth headers, errors
inside HTTP 200, 429, uncertain answers reconciled by reference, a worker killed mid-send, dry-run,
blocking on products without a PEAK code, the daily entry and credit notes through run_once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from app.config import load_settings
from app.connectors import peak as connector
from app.exports import _rate_limited, run_once, targets
from data import outbox
from data.db import writer
from data.models import ExportAttempt, ExportJob
from data.types import utcnow
from tests.conftest import COFFEE, HIGHLIGHTER, WATER
from tests.fake_devices import free_port
from tests.fake_peak import CONNECT_ID, CONNECT_KEY, USER_TOKEN, FakePeak
from tests.peak_helpers import MEMBER, bkk, days_ago, map_products, peak_connector, sell

ROOT = Path(__file__).parents[1]


@pytest.fixture
def fake():
    f = FakePeak()
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def _fresh():
    connector.forget_tokens()
    connector._CONTACTS.clear()
    _rate_limited.clear()
    yield
    connector.forget_tokens()


def with_peak(settings, url: str, **kw):
    settings.connectors = [peak_connector(url, **kw)]
    return settings


def jobs(engine) -> list[ExportJob]:
    with Session(engine) as s:
        return list(s.exec(select(ExportJob).order_by(ExportJob.id)))


def attempts(engine, job_id: int) -> list[ExportAttempt]:
    with Session(engine) as s:
        return list(s.exec(select(ExportAttempt).where(ExportAttempt.job_id == job_id).order_by(ExportAttempt.id)))


def make_due(engine) -> None:
    with writer(engine).begin() as conn:
        conn.execute(update(ExportJob).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def member_sale(engine, place, settings, items=((COFFEE, 2),)) -> str:
    return sell(engine, place, list(items), member=MEMBER, targets=targets(settings))


def test_signature_and_timestamp_follow_peak():
    import hashlib
    import hmac
    from datetime import UTC, datetime

    stamp = connector.timestamp(datetime(2026, 12, 1, 2, 30, 5, tzinfo=UTC))
    assert stamp == "20261201023005"  # UTC, never Bangkok time
    assert connector.signature("cid", stamp) == hmac.new(b"cid", stamp.encode(), hashlib.sha1).hexdigest()
    assert connector.encode({"a": Decimal("35.00"), "b": [Decimal("-0.25")], "c": "x"}) == \
        b'{"a":35.00,"b":[-0.25],"c":"x"}'
    assert connector.encode({"a": Decimal("1.5")}, "string") == b'{"a":"1.5"}'


def test_member_sale_goes_one_by_one_with_signed_requests(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url)
    receipt = member_sale(engine, place, settings, [(COFFEE, 2), (WATER, 1)])
    sell(engine, place, [(COFFEE, 1)], targets=targets(settings))  # no member: no job of its own
    [job] = jobs(engine)
    assert (job.kind, job.event, job.source_id) == ("peak", "sale.completed", receipt)
    report = run_once(settings, engine)
    assert report.delivered == 1
    [job] = jobs(engine)
    assert job.state == "succeeded" and job.remote_id == "RE-00001"
    [doc] = fake.documents["receipts"]
    assert doc["reference"] == receipt and doc["contactCode"] == "0812345670"
    assert doc["issuedDate"] == utcnow().astimezone(place_zone(place)).strftime("%Y%m%d")
    assert [(p["productCode"], p["quantity"], p["price"], p["discount"]) for p in doc["products"]] == [
        ("P-CF-001", 2, Decimal("45.00"), Decimal("0.00")), ("P-WT-001", 1, Decimal("7.00"), Decimal("0.00"))]
    assert job.idempotency_key in doc["tags"]
    assert [c["code"] for c in fake.documents["contacts"]] == ["0812345670"]  # the member's contact, once
    [post] = fake.posts()
    assert post["headers"]["User-Token"] == USER_TOKEN and len(post["headers"]["Time-Stamp"]) == 14
    [attempt] = attempts(engine, job.id)
    assert attempt.request_headers["Client-Token"] == "***" and attempt.request_headers["User-Token"] == "***"
    # Another member sale reuses the token and the contact.
    member_sale(engine, place, settings)
    run_once(settings, engine)
    assert fake.token_requests == 1 and len(fake.documents["contacts"]) == 1
    assert len(fake.documents["receipts"]) == 2


def place_zone(place):
    from zoneinfo import ZoneInfo

    return ZoneInfo(place.timezone)


def test_500_then_200_gives_one_document(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url)
    fake.script = [("status", 500)]
    receipt = member_sale(engine, place, settings)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "retry_wait" and job.attempt_count == 1 and job.last_status == 500
    make_due(engine)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "succeeded" and len(fake.by_reference(receipt)) == 1
    # Before sending again it looked the reference up (nothing there), then sent once.
    lookups = [r for r in fake.requests if r["method"] == "GET" and r["path"] == "receipts"]
    assert [r["query"] for r in lookups] == [{"reference": receipt}]


def test_timeout_after_the_request_arrived_is_uncertain_then_reconciled_to_one(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url)
    fake.script = ["timeout"]
    receipt = member_sale(engine, place, settings)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "uncertain" and "may exist" in job.last_error
    assert len(fake.by_reference(receipt)) == 1  # PEAK made it; the till does not know
    make_due(engine)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "succeeded" and job.remote_id == "RE-00001"
    assert len(fake.by_reference(receipt)) == 1 and len(fake.posts()) == 1  # found, not sent again


def test_empty_200_and_502_are_uncertain(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url)
    fake.script = ["empty", ("status", 502)]
    first = member_sale(engine, place, settings)
    second = member_sale(engine, place, settings)
    run_once(settings, engine)
    assert [j.state for j in jobs(engine)] == ["uncertain", "uncertain"]
    make_due(engine)
    run_once(settings, engine)
    assert [j.state for j in jobs(engine)] == ["succeeded", "succeeded"]
    assert len(fake.by_reference(first)) == 1 and len(fake.by_reference(second)) == 1  # 502 made none: sent


def test_429_rate_waits_for_retry_after_without_using_an_attempt(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url)
    fake.script = [("429", "rate", 120)]
    member_sale(engine, place, settings)
    member_sale(engine, place, settings)
    run_once(settings, engine)
    first, second = jobs(engine)
    assert first.state == "retry_wait" and first.attempt_count == 0 and first.last_status == 429
    assert first.next_attempt_at - utcnow() > timedelta(seconds=100)
    assert second.state == "pending"  # the connector stops for the rest of the run
    run_once(settings, engine)
    assert jobs(engine)[1].state == "pending" and len(fake.posts()) == 1  # still waiting in this process


def test_429_concurrency_is_retried_after_a_short_wait(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url)
    fake.script = [("429", "concurrency", 8)]
    member_sale(engine, place, settings)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "succeeded" and len(fake.posts()) == 2 and len(fake.documents["receipts"]) == 1


def test_receiver_down_uses_no_attempts_then_delivers(settings, engine, place):
    map_products(engine)
    with_peak(settings, f"http://127.0.0.1:{free_port()}/api/v1")
    member_sale(engine, place, settings)
    for _ in range(3):
        make_due(engine)
        run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "retry_wait" and job.attempt_count == 0 and "cannot reach" in job.last_error
    fake = FakePeak()
    try:
        with_peak(settings, fake.url)
        make_due(engine)
        run_once(settings, engine)
        assert jobs(engine)[0].state == "succeeded" and len(fake.documents["receipts"]) == 1
    finally:
        fake.stop()


def test_rescode_error_inside_a_200_is_dead_not_success(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url)
    fake.script = [("row_error", "productCode P-CF-001 not found"), ("envelope_error", "400", "Invalid data")]
    member_sale(engine, place, settings)
    member_sale(engine, place, settings)
    run_once(settings, engine)
    first, second = jobs(engine)
    assert first.state == "dead" and "row resCode 400: productCode P-CF-001 not found" in first.last_error
    assert second.state == "dead" and "resCode 400: Invalid data" in second.last_error
    assert first.last_status == 200


def test_an_expired_token_is_fetched_again_once(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url)
    fake.script = ["token_expired"]
    member_sale(engine, place, settings)
    run_once(settings, engine)
    assert jobs(engine)[0].state == "succeeded" and fake.token_requests == 2


def test_refused_credentials_block_and_pause_the_connector(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url, connect_key="wrong")
    member_sale(engine, place, settings)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "blocked" and job.last_error.startswith("auth:")
    assert "credentials" in (outbox.paused(engine, "peak") or "")


def test_products_without_a_peak_code_block_with_a_diagnostic_then_go(settings, engine, place, fake):
    map_products(engine, except_skus=("WT-001",))
    with_peak(settings, fake.url, live=False)
    member_sale(engine, place, settings, [(COFFEE, 1), (WATER, 2)])
    run_once(settings, engine)  # dry-run checks it too
    [job] = jobs(engine)
    assert job.state == "blocked" and "no PEAK product code" in job.last_error and "WT-001" in job.last_error
    assert fake.requests == []
    with_peak(settings, fake.url)
    map_products(engine)  # the mapping is fixed: the job is checked again and goes
    make_due(engine)
    run_once(settings, engine)
    assert jobs(engine)[0].state == "succeeded" and len(fake.documents["receipts"]) == 1


def test_dry_run_builds_and_checks_but_sends_nothing(settings, engine, place, fake):
    map_products(engine)
    with_peak(settings, fake.url, live=False)
    receipt = member_sale(engine, place, settings)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "skipped" and "dry run" in job.resolution and fake.requests == []
    [attempt] = attempts(engine, job.id)
    body = json.loads(attempt.response_body)
    assert body["PeakReceipts"]["receipts"][0]["reference"] == receipt


def test_worker_killed_between_send_and_commit_leaves_one_document(settings, engine, place, fake, home):
    map_products(engine)
    (home / "till.toml").write_text(
        (home / "till.toml").read_text() + f'\n[[connectors]]\nname = "peak"\nkind = "peak"\nurl = "{fake.url}"\n'
        f'connect_id = "{CONNECT_ID}"\nconnect_key = "{CONNECT_KEY}"\nuser_token = "{USER_TOKEN}"\n'
        f'pos_customer_code = "POS-CUST"\nlive = true\ntimeout = 30\n', encoding="utf-8")
    settings = load_settings(home)
    receipt = member_sale(engine, place, settings)
    fake.script = ["hold"]  # PEAK keeps the document and answers only after the worker is gone
    worker = subprocess.Popen([sys.executable, "-m", "app", "exports", "run", "--once", "--home", str(home)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert fake.received.wait(60), "the worker never sent the document"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    fake.release.set()
    [job] = jobs(engine)
    assert job.state == "in_flight" and len(fake.by_reference(receipt)) == 1
    with writer(engine).begin() as conn:  # its lease runs out
        conn.execute(update(ExportJob).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "succeeded" and job.remote_id == "RE-00001"
    assert len(fake.by_reference(receipt)) == 1 and len(fake.posts()) == 1
    assert [a.outcome for a in attempts(engine, job.id)] == ["started", "success"]


def test_daily_entry_and_credit_note_through_the_runner(settings, engine, place, fake, cashier, manager):
    from data.payments import PaymentState
    from data.sales import commit_refund, refundable

    map_products(engine)
    with_peak(settings, fake.url)
    day = days_ago(3)  # day + 1 ended two days ago: its entry is ready (03:00 the next day) at any hour
    receipts = [sell(engine, place, [(COFFEE, 1), (HIGHLIGHTER, 2)], at=bkk(day, 9), targets=targets(settings)),
                sell(engine, place, [(COFFEE, 2)], at=bkk(day, 23, 59, 59), targets=targets(settings)),
                sell(engine, place, [(WATER, 1)], at=bkk(day + timedelta(days=1), 0, 0, 0),
                     targets=targets(settings))]
    original = refundable(engine, receipts[0])
    pay = PaymentState(Decimal("45.00"), place.currency, place.cash_rounding)
    pay.apply("cash", None)
    refund = commit_refund(engine, place, cashier, manager, receipts[0], {original.lines[0].line_id: Decimal(1)},
                           pay, uid="refund-1", at=bkk(day + timedelta(days=1), 10), exports=targets(settings))
    fake.script = [("status", 500)]  # the day's entry does not go at first: its credit note must wait
    run_once(settings, engine)
    waiting = {j.source_id: j for j in jobs(engine)}[refund]
    assert waiting.state == "retry_wait" and waiting.attempt_count == 0 and "waits for" in waiting.last_error
    assert fake.documents["creditnotes"] == []  # not before the day's entry is in PEAK
    make_due(engine)
    run_once(settings, engine)
    by_ref = {d["reference"]: d for d in fake.documents["receipts"]}
    entry = by_ref[f"POSDAY-BKK01-{day:%Y%m%d}"]
    assert entry["contactCode"] == "POS-CUST" and entry["issuedDate"] == f"{day:%Y%m%d}"
    total = sum((p["quantity"] * p["price"] - p["discount"] for p in entry["products"]), Decimal(0))
    assert total == Decimal("205.00")  # 45 + 70 + 90: both sales of the day, the refund not netted
    assert by_ref[f"POSDAY-BKK01-{day + timedelta(days=1):%Y%m%d}"]["products"][0]["productCode"] == "P-WT-001"
    [note] = fake.documents["creditnotes"]
    assert note["reference"] == f"CN-{refund}" and f"POSDAY-BKK01-{day:%Y%m%d}" in note["tags"]
    assert note["issuedDate"] == f"{day + timedelta(days=1):%Y%m%d}"
    states = {j.source_id: j.state for j in jobs(engine)}
    assert states[refund] == "succeeded" and states[f"POSDAY-BKK01-{day:%Y%m%d}"] == "succeeded"
    # A late sale of that day, after its entry went out: a supplement with only that sale.
    late = sell(engine, place, [(HIGHLIGHTER, 1)], at=bkk(day, 20), targets=targets(settings))
    run_once(settings, engine)
    supplement = fake.by_reference(f"POSDAY-BKK01-{day:%Y%m%d}-S1")
    assert len(supplement) == 1 and f"{late}–{late}" in supplement[0]["remark"]
    assert len(fake.by_reference(f"POSDAY-BKK01-{day:%Y%m%d}")) == 1


def test_test_connection_reports_the_token_and_the_clock(fake):
    ok, message = connector.test_connection(peak_connector(fake.url))
    assert ok and "client token obtained" in message and "clock skew" in message
    ok, message = connector.test_connection(peak_connector(fake.url, connect_key="wrong"))
    assert not ok and "refused" in message
    ok, message = connector.test_connection(peak_connector(f"http://127.0.0.1:{free_port()}/api/v1"))
    assert not ok and "cannot reach" in message


def test_secrets_from_the_environment_and_files(home, monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-file\n")
    secret.chmod(0o600)
    (home / "till.toml").write_text((home / "till.toml").read_text() + (
        f'\n[[connectors]]\nname = "peak"\nkind = "peak"\nconnect_key_file = "{secret}"\n'), encoding="utf-8")
    monkeypatch.setenv("TILL_CONNECTORS__PEAK__USER_TOKEN", "from-env")
    [c] = load_settings(home).connectors
    ps = connector.settings_of(c)
    assert ps.user_token == "from-env" and ps.connect_key == "from-file" and ps.missing_credentials() == ["connect_id"]


def test_connectors_import_no_textual():
    probe = "import sys, app.connectors.peak, app.exports; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'widgets')))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_webhook_jobs_of_a_dead_worker_still_go_back_to_pending(settings, engine, place, fake):
    """recover_expired: PEAK → uncertain, others → pending."""
    from app.config import ConnectorSettings
    from tests.webhook_receiver import SECRET

    map_products(engine)
    settings.connectors = [peak_connector(fake.url),
                           ConnectorSettings(name="hq", kind="webhook", url="http://127.0.0.1:9/h", secret=SECRET)]
    member_sale(engine, place, settings)
    outbox.claim(engine, "peak", "dead", limit=5)
    outbox.claim(engine, "hq", "dead", limit=5)
    with writer(engine).begin() as conn:
        conn.execute(update(ExportJob).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert outbox.recover_expired(engine) == 2
    assert {j.connector: j.state for j in jobs(engine)} == {"peak": "uncertain", "hq": "pending"}
    time.sleep(0)  # nothing else
