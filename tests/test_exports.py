"""The outbox and signed webhooks against a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from app.config import ConnectorSettings
from app.exports import run_once, targets
from app.tui import place_from_settings
from data import outbox
from data.db import writer
from data.models import ExportAttempt, ExportJob
from data.operators import by_code
from data.payments import CASH
from data.sales import commit_sale
from data.types import utcnow
from tests import carts
from tests.conftest import COFFEE, HIGHLIGHTER
from tests.fake_devices import free_port
from tests.webhook_receiver import SECRET, Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def with_webhook(settings, url: str, *, live: bool = True):
    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url=url, secret=SECRET, live=live,
                                             retry_schedule=[1, 1, 1])]
    return settings


def sell(engine, settings, code=HIGHLIGHTER, member=None) -> str:
    place = place_from_settings(settings, engine)
    cart, pay = carts.paid_cart(engine, place, [(code, 2)], CASH, Decimal(100), member=member)
    return commit_sale(engine, place, by_code(engine, "1"), cart, pay, exports=targets(settings))


def jobs(engine) -> list[ExportJob]:
    with Session(engine) as s:
        return list(s.exec(select(ExportJob).order_by(ExportJob.id)))


def make_due(engine) -> None:
    with writer(engine).begin() as conn:
        conn.execute(update(ExportJob).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_sale_writes_one_job_and_delivery_is_signed_and_once(settings, engine, receiver):
    with_webhook(settings, receiver.url)
    receipt = sell(engine, settings, member="+66812345670")
    [job] = jobs(engine)
    assert (job.event, job.source_id, job.state) == ("sale.completed", receipt, "pending")
    assert job.idempotency_key == f"hq:sale.completed:{receipt}:1"
    report = run_once(settings, engine)
    assert report.delivered == 1
    [request] = receiver.requests
    assert request["valid"] and request["headers"]["webhook-id"] == job.idempotency_key
    assert request["headers"]["idempotency-key"] == job.idempotency_key
    assert request["headers"]["user-agent"].startswith("till/")
    body = json.loads(request["body"])
    assert body["type"] == "sale.completed"
    data = body["data"]
    assert data["receipt_number"] == receipt and data["member_phone"] == "+66812345670"
    assert data["lines"][0] == {"sku": "HL-001", "barcode": HIGHLIGHTER, "name": "ปากกาเน้นข้อความ", "quantity": "2",
                                "unit_price": "35.00", "discount": "0.00", "vat_rate": "7", "total": "70.00"}
    assert data["totals"]["total"] == "70.00" and data["payments"] == [{"tender": "cash", "amount": "70.00"}]
    assert run_once(settings, engine).delivered == 0  # nothing due: no second delivery
    assert len(receiver.requests) == 1 and jobs(engine)[0].state == "succeeded"


def test_500_then_200_gives_one_document(settings, engine, receiver):
    with_webhook(settings, receiver.url)
    receiver.script = [(500, {})]
    sell(engine, settings)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "retry_wait" and job.attempt_count == 1 and job.last_status == 500
    make_due(engine)
    run_once(settings, engine)
    assert jobs(engine)[0].state == "succeeded"
    assert len(receiver.requests) == 2 and len(receiver.documents) == 1
    assert receiver.requests[0]["headers"]["webhook-id"] == receiver.requests[1]["headers"]["webhook-id"]


def test_retry_after_is_honoured(settings, engine, receiver):
    with_webhook(settings, receiver.url)
    receiver.script = [(429, {"Retry-After": "120"})]
    sell(engine, settings)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "retry_wait"
    assert job.next_attempt_at - utcnow() > timedelta(seconds=100)


def test_receiver_down_uses_no_attempts_then_delivers(settings, engine):
    port = free_port()
    with_webhook(settings, f"http://127.0.0.1:{port}/hooks")
    sell(engine, settings)
    for _ in range(3):
        make_due(engine)
        run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "retry_wait" and job.attempt_count == 0 and "cannot reach" in job.last_error
    r = Receiver()
    try:
        with_webhook(settings, r.url)
        make_due(engine)
        run_once(settings, engine)
        assert jobs(engine)[0].state == "succeeded" and len(r.documents) == 1
    finally:
        r.stop()


def test_410_kills_the_job_and_pauses_the_connector(settings, engine, receiver):
    with_webhook(settings, receiver.url)
    receiver.script = [(410, {})]
    sell(engine, settings)
    sell(engine, settings, COFFEE)
    run_once(settings, engine)
    first, second = jobs(engine)
    assert first.state == "dead" and "410" in first.last_error
    assert second.state == "pending" and outbox.paused(engine, "hq")
    assert len(receiver.requests) == 1


def test_bad_signature_is_rejected_by_the_receiver(settings, engine, receiver):
    receiver.secret = "whsec_" + "b3RoZXItc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY="
    with_webhook(settings, receiver.url)
    sell(engine, settings)
    run_once(settings, engine)
    assert receiver.requests[0]["valid"] is False
    assert jobs(engine)[0].state == "dead" and jobs(engine)[0].last_status == 401


def test_dry_run_builds_and_sends_nothing(settings, engine, receiver):
    with_webhook(settings, receiver.url, live=False)
    sell(engine, settings)
    run_once(settings, engine)
    assert receiver.requests == []
    [job] = jobs(engine)
    assert job.state == "skipped" and "dry run" in job.resolution


def test_plain_http_outside_loopback_is_blocked(settings, engine):
    with_webhook(settings, "http://192.0.2.1/hooks")
    sell(engine, settings)
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "blocked" and "loopback" in job.last_error


def test_worker_killed_mid_send_is_sent_again_and_receiver_keeps_one(settings, engine, receiver):
    with_webhook(settings, receiver.url)
    sell(engine, settings)
    [claimed] = outbox.claim(engine, "hq", "dead-worker")
    with writer(engine).begin() as conn:  # the worker died: its lease runs out
        conn.execute(update(ExportJob).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert outbox.recover_expired(engine) == 1
    # What the dead worker had sent before it died arrives too, with the same webhook-id.
    import httpx

    from app.connectors.webhook import deliver
    with httpx.Client() as client:
        deliver(client, receiver.url, SECRET, claimed)
    run_once(settings, engine)
    assert jobs(engine)[0].state == "succeeded"
    assert len(receiver.requests) == 2 and len(receiver.documents) == 1
    with Session(engine) as s:
        assert [a.outcome for a in s.exec(select(ExportAttempt).order_by(ExportAttempt.id))] == ["started", "success"]


def test_cli_list_show_retry_skip(settings, engine, home):
    port = free_port()
    (home / "till.toml").write_text(
        (home / "till.toml").read_text() + f'\n[[connectors]]\nname = "hq"\nkind = "webhook"\n'
        f'url = "http://127.0.0.1:{port}/hooks"\nsecret = "{SECRET}"\nlive = true\n'
        f'events = ["sale.completed"]\n', encoding="utf-8")
    sell(engine, with_webhook(settings, f"http://127.0.0.1:{port}/hooks"))
    sell(engine, settings, COFFEE)
    cli = [sys.executable, "-m", "app", "exports"]

    def run(*args):
        return subprocess.run([*cli, *args, "--home", str(home)], capture_output=True, text=True, timeout=60)

    listed = json.loads(run("list", "--json").stdout)
    assert [j["state"] for j in listed] == ["pending", "pending"]
    assert run("run", "--once").returncode == 1  # receiver down: not delivered, attempts kept
    first = listed[-1]["id"]
    shown = json.loads(run("show", str(first), "--json").stdout)
    assert shown["payload"]["type"] == "sale.completed" and shown["attempt_log"][0]["outcome"] == "connectivity"
    assert run("skip", str(first), "--reason", "").returncode == 1
    result = run("skip", str(first), "--reason", "sent by hand")
    assert result.returncode == 0, result.stderr
    assert run("retry", "999").returncode == 1
    assert run("retry", str(first)).returncode == 0
    assert json.loads(run("show", str(first), "--json").stdout)["state"] == "pending"
    bad = run("show", "12345")
    assert bad.returncode == 1 and bad.stderr.startswith("till: error:") and "Traceback" not in bad.stderr


async def test_console_sale_refund_and_day_close_write_jobs_and_deliver_in_background(settings, engine, receiver):
    from tests.pilot import enter, login, press, settle
    from tests.test_cash_flows import count, menu

    with_webhook(settings, receiver.url)
    settings.connectors[0].retry_schedule = [1]
    from app.tui import make_app

    app = make_app(settings, engine=engine)
    async with app.run_test(size=(100, 40)) as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        await press(pilot, "f10")
        await enter(pilot, "")
        assert [j.event for j in jobs(engine)] == ["sale.completed"]  # committed with the sale
        await press(pilot, "f9")
        await enter(pilot, "BKK01-T1-000001")
        await press(pilot, "a", "f1")
        await enter(pilot, "9999")
        await menu(pilot, "close_day")
        await count(pilot, {})
        await settle(pilot)
        await press(pilot, "escape")
        assert [j.event for j in jobs(engine)] == ["sale.completed", "sale.refunded", "day.closed"]
        # The 5 s background pass may be running already: asking joins it, so ask until a pass that
        # started after the day close has run (bounded).
        for _ in range(3):
            await app.deliver_exports().wait()
            if all(j.state == "succeeded" for j in jobs(engine)):
                break
        await settle(pilot)
    assert [j.state for j in jobs(engine)] == ["succeeded"] * 3
    types = [json.loads(r["body"])["type"] for r in receiver.requests]
    assert types == ["sale.completed", "sale.refunded", "day.closed"]
    day = json.loads(receiver.requests[2]["body"])["data"]
    assert day["kind"] == "Z" and day["sales_total"] == "45.00" and day["refunds_total"] == "45.00"


def test_file_drop_writes_the_days_csv_once_atomically_with_checksum(settings, engine, home, place, cashier):
    import hashlib

    from data import reports

    settings.connectors = [ConnectorSettings(name="accountant", kind="file_drop", live=True, folder="exports")]
    sell(engine, settings, member="+66812345670")
    sell(engine, settings, COFFEE)
    z = reports.close_day(engine, place, cashier, {}, Decimal("160.00"), tolerance=Decimal("20"),
                          exports=targets(settings))
    [job] = jobs(engine)
    assert job.event == "day.closed" and job.connector == "accountant"
    run_once(settings, engine)
    assert jobs(engine)[0].state == "succeeded"
    name = f"sales_BKK01_T1_{z.business_date.replace('-', '')}_r1.csv"
    path = home / "exports" / name
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode())
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("business_date,receipt_number,kind")
    assert [line.split(",")[1] for line in lines[1:]] == ["BKK01-T1-000001", "BKK01-T1-000002"]
    assert "+66812345670" in lines[1] and lines[1].split(",")[9] == "70.00"
    digest = (home / "exports" / f"{name}.sha256").read_text().split()[0]
    assert digest == hashlib.sha256(data).hexdigest()
    assert not list((home / "exports").glob(".*.tmp"))
    # The same job again (a worker died after the rename) finds its own file: still one file.
    with writer(engine).begin() as conn:
        conn.execute(update(ExportJob).values(state="pending", next_attempt_at=utcnow()))
    run_once(settings, engine)
    assert jobs(engine)[0].state == "succeeded" and len(list((home / "exports").glob("*.csv"))) == 1
    path.write_bytes(b"tampered")
    with writer(engine).begin() as conn:
        conn.execute(update(ExportJob).values(state="pending", next_attempt_at=utcnow()))
    run_once(settings, engine)
    assert jobs(engine)[0].state == "blocked" and "never overwritten" in jobs(engine)[0].last_error


def test_jobs_written_on_sqlite_read_back_as_written(engine):
    """The outbox writes SQLite rows with the driver directly: times and payload must read back exactly
    as SQLAlchemy would have stored them, and a duplicate key is still ignored."""
    from datetime import UTC, datetime, timedelta, timezone

    from data import outbox
    from data.db import writer

    at = datetime(2026, 12, 1, 16, 30, 5, 123456, tzinfo=timezone(timedelta(hours=7)))
    target = outbox.ExportTarget("hq", "webhook", ("sale.completed",), True)
    payload = {"type": "sale.completed", "data": {"receipt_number": "BKK01-T1-000001", "name": "กาแฟ"}}
    for _ in range(2):
        with writer(engine).begin() as conn:
            outbox.enqueue(conn, [target], "sale.completed", "sale", "BKK01-T1-000001", payload, at=at,
                           business_date="2026-12-01")
    [job] = outbox.list_jobs(engine)
    assert job.created_at == at and job.created_at.tzinfo is not None
    assert job.next_attempt_at == at.astimezone(UTC) and outbox.show_job(engine, job.id)[1] == payload
    assert (job.state, job.attempt_count, job.max_attempts, job.revision) == ("pending", 0, 12, 1)
    assert job.idempotency_key == "hq:sale.completed:BKK01-T1-000001:1" and job.business_date == "2026-12-01"
    assert outbox.claim(engine, "hq", "t", now=at + timedelta(microseconds=1))[0].id == job.id
