"""Exports seen from outside, as DESIGN.md promises them: `till exports run --once` as a subprocess, a
real receiver on 127.0.0.1, secrets from files, a worker killed mid-send, file drops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from app.config import ConnectorSettings, load_settings
from app.connectors import peak as peak_connector_module
from app.exports import _rate_limited, run_once, targets
from data import outbox
from data.db import writer
from data.models import ExportJob
from data.types import utcnow
from tests.conftest import COFFEE, HIGHLIGHTER
from tests.fake_peak import CONNECT_KEY, FakePeak
from tests.peak_helpers import MEMBER, map_products, peak_connector, sell
from tests.webhook_receiver import SECRET, Receiver

ROOT = Path(__file__).parents[1]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def _fresh():
    peak_connector_module.forget_tokens()
    peak_connector_module._CONTACTS.clear()
    _rate_limited.clear()
    yield
    peak_connector_module.forget_tokens()


def jobs(engine) -> list[ExportJob]:
    with Session(engine) as s:
        return list(s.exec(select(ExportJob).order_by(ExportJob.id)))


def till(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args, "--home", str(home)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def add_toml(home: Path, text: str) -> None:
    path = home / "till.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def webhook_toml(url: str, *, name: str = "hq", secret_line: str | None = None, extra: str = "") -> str:
    secret_line = secret_line or f'secret = "{SECRET}"'
    return (f'[[connectors]]\nname = "{name}"\nkind = "webhook"\nurl = "{url}"\n'
            f'{secret_line}\nevents = ["sale.completed", "day.closed"]\nlive = true\n{extra}')


# -- a secret file that others may read --------------------------------------------------------------

def test_a_secret_file_readable_by_others_blocks_its_job_and_the_others_still_go(home, engine, place, receiver,
                                                                                tmp_path):
    secret = tmp_path / "hq.secret"
    secret.write_text(SECRET, encoding="utf-8")
    secret.chmod(0o644)
    add_toml(home, webhook_toml(receiver.url, secret_line=f'secret_file = "{secret}"'))
    add_toml(home, webhook_toml(receiver.url, name="bi"))
    settings = load_settings(home)
    receipt = sell(engine, place, [(COFFEE, 1)], targets=targets(settings))
    result = till(home, "exports", "run", "--once")
    assert "Traceback" not in result.stderr
    by_connector = {j.connector: j for j in jobs(engine)}
    hq, bi = by_connector["hq"], by_connector["bi"]
    assert hq.state == "blocked" and "chmod 600" in hq.last_error and hq.attempt_count == 0
    assert bi.state == "succeeded"  # the other connector is not held up by this one's configuration
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [f"bi:sale.completed:{receipt}:1"]
    # The health screen names the problem instead of failing to open.
    from app.connectors.probe import config_problem

    assert "chmod 600" in config_problem(settings.all_connectors()[0])
    secret.chmod(0o600)  # fixed: a retry delivers it, signed with the file's secret
    assert till(home, "exports", "retry", str(hq.id)).returncode == 0
    assert till(home, "exports", "run", "--once").returncode == 0
    assert {j.connector: j.state for j in jobs(engine)} == {"hq": "succeeded", "bi": "succeeded"}
    assert receiver.requests[-1]["valid"] and receiver.requests[-1]["headers"]["webhook-id"].startswith("hq:")


def test_a_peak_credential_file_readable_by_others_blocks_instead_of_stopping_the_run(settings, engine, place,
                                                                                     tmp_path):
    fake = FakePeak()
    try:
        map_products(engine)
        key = tmp_path / "connect_key"
        key.write_text(CONNECT_KEY, encoding="utf-8")
        key.chmod(0o640)
        settings.connectors = [peak_connector(fake.url, connect_key=None, connect_key_file=str(key))]
        sell(engine, place, [(COFFEE, 1)], member=MEMBER, targets=targets(settings))
        run_once(settings, engine)
        [job] = jobs(engine)
        assert job.state == "blocked" and "chmod 600" in job.last_error
        assert fake.posts() == []
    finally:
        fake.stop()


# -- one pass delivers everything that is due --------------------------------------------------------

def test_run_once_delivers_every_due_job_not_only_the_first_fifty(home, engine, place, receiver):
    add_toml(home, webhook_toml(receiver.url))
    settings = load_settings(home)
    for _ in range(60):
        sell(engine, place, [(HIGHLIGHTER, 1)], targets=targets(settings))
    result = till(home, "exports", "run", "--once")
    assert result.returncode == 0, result.stderr
    assert [j.state for j in jobs(engine)] == ["succeeded"] * 60
    assert len(receiver.documents) == 60 and len(receiver.requests) == 60


def test_a_job_failing_fast_is_tried_once_per_pass(settings, engine, place, receiver):
    """Delivering until nothing is due must not spin on a job whose retry is due again at once."""
    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url=receiver.url, secret=SECRET, live=True,
                                             retry_schedule=[0, 0, 0, 0, 0])]
    receiver.script = [(500, {})] * 10
    sell(engine, place, [(COFFEE, 1)], targets=targets(settings))
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "retry_wait" and job.attempt_count == 1 and len(receiver.requests) == 1


# -- a worker killed after the request left ----------------------------------------------------------

def test_a_killed_worker_is_taken_over_at_once_and_resent_with_the_same_key(home, engine, place, receiver):
    add_toml(home, webhook_toml(receiver.url))
    settings = load_settings(home)
    receipt = sell(engine, place, [(COFFEE, 1)], targets=targets(settings))
    receiver.script = [(0, {})]  # the receiver keeps the event and answers only after the worker is gone
    worker = subprocess.Popen([sys.executable, "-m", "app", "exports", "run", "--once", "--home", str(home)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert receiver.received.wait(60), "the worker never sent the event"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.release.set()
    assert jobs(engine)[0].state == "in_flight"
    # The next run does not wait two minutes for the dead worker's lease: that worker is gone.
    result = till(home, "exports", "run", "--once")
    assert result.returncode == 0, result.stdout + result.stderr
    [job] = jobs(engine)
    assert job.state == "succeeded"
    key = f"hq:sale.completed:{receipt}:1"
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [key, key]
    assert [r["headers"]["idempotency-key"] for r in receiver.requests] == [key, key]
    assert len(receiver.documents) == 1


def test_a_lease_of_a_live_worker_is_left_alone(settings, engine, place, receiver):
    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url=receiver.url, secret=SECRET, live=True)]
    sell(engine, place, [(COFFEE, 1)], targets=targets(settings))
    import socket

    [claimed] = outbox.claim(engine, "hq", f"{socket.gethostname()}:{os.getppid()}")  # alive: our parent
    assert outbox.recover_expired(engine) == 0
    assert run_once(settings, engine).delivered == 0 and receiver.requests == []
    [other] = jobs(engine)
    assert other.state == "in_flight"
    with writer(engine).begin() as conn:
        conn.execute(update(ExportJob).values(lease_owner="another-host:1"))
    assert outbox.recover_expired(engine) == 0  # another machine's worker: only its lease's end tells
    assert claimed.id == other.id


# -- Retry-After as a date ---------------------------------------------------------------------------

def test_retry_after_given_as_an_http_date_is_honoured(settings, engine, place, receiver):
    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url=receiver.url, secret=SECRET, live=True,
                                             retry_schedule=[1, 1, 1])]
    later = utcnow() + timedelta(minutes=10)
    receiver.script = [(503, {"Retry-After": format_datetime(later, usegmt=True)})]
    sell(engine, place, [(COFFEE, 1)], targets=targets(settings))
    run_once(settings, engine)
    [job] = jobs(engine)
    assert job.state == "retry_wait"
    assert job.next_attempt_at - utcnow() > timedelta(minutes=9)


# -- file drop ----------------------------------------------------------------------------------------

def test_file_drop_manifest_is_written_even_when_the_worker_died_after_the_rename(settings, engine, home, place,
                                                                                 cashier, tmp_path):
    from app.connectors import file_drop
    from data import reports

    folder = tmp_path / "drop"  # an absolute folder
    settings.connectors = [ConnectorSettings(name="accountant", kind="file_drop", live=True, folder=str(folder))]
    sell(engine, place, [(COFFEE, 1)], targets=targets(settings))
    reports.close_day(engine, place, cashier, {}, Decimal("45.00"), tolerance=Decimal("20"),
                      exports=targets(settings))
    [claimed] = outbox.claim(engine, "accountant", "t")
    assert file_drop.deliver(engine, folder, claimed).kind == "success"
    [csv] = folder.glob("*.csv")
    manifest = folder / f"{csv.name}.sha256"
    manifest.unlink()  # the worker died between the rename and the manifest
    with writer(engine).begin() as conn:
        conn.execute(update(ExportJob).values(state="pending", next_attempt_at=utcnow()))
    run_once(settings, engine)
    assert jobs(engine)[0].state == "succeeded"
    import hashlib

    assert manifest.read_text() == f"{hashlib.sha256(csv.read_bytes()).hexdigest()}  {csv.name}\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted([csv.name, manifest.name])  # no temporary left



# -- PEAK: a sale is in exactly one document ----------------------------------------------------------

def test_a_sale_with_a_member_but_no_member_job_goes_in_the_daily_entry_not_nowhere(settings, engine, place,
                                                                                   cashier, manager):
    """A sale whose member was not exported one by one (no phone on the cart, or sold before the PEAK
    connector was set up) is still a sale of the day: the POS Customer entry holds it, its refund is
    credited against that entry."""
    from data.cart import Cart
    from data.catalog import lookup
    from data.payments import CASH, PaymentState
    from data.pricing import price_cart
    from data.sales import commit_refund, commit_sale, refundable
    from tests.peak_helpers import bkk, days_ago

    fake = FakePeak()
    try:
        map_products(engine)
        settings.connectors = [peak_connector(fake.url)]
        day = days_ago(2)
        plain = sell(engine, place, [(COFFEE, 1)], at=bkk(day, 9), targets=targets(settings))
        member = sell(engine, place, [(HIGHLIGHTER, 1)], at=bkk(day, 10), member=MEMBER, targets=targets(settings))
        cart = Cart()  # a member chosen by id only (as the demo data does)
        info = lookup(engine, HIGHLIGHTER)
        cart.add(product_id=info.id, sku=info.sku, name=info.name, price=info.price, vat_rate=info.vat_rate,
                 quantity=Decimal(2), barcode=info.barcode)
        cart.member_id = 1
        totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
        pay = PaymentState(totals.total, place.currency, place.cash_rounding)
        pay.apply(CASH, None)
        quiet = commit_sale(engine, place, cashier, cart, pay, at=bkk(day, 11), exports=targets(settings))
        cart = Cart(member_phone="+66812345699")  # a phone only, no member (a customer order's phone)
        cart.add(product_id=info.id, sku=info.sku, name=info.name, price=info.price, vat_rate=info.vat_rate,
                 quantity=Decimal(1), barcode=info.barcode)
        pay = PaymentState(info.price, place.currency, place.cash_rounding)
        pay.apply(CASH, None)
        phone_only = commit_sale(engine, place, cashier, cart, pay, at=bkk(day, 12), exports=targets(settings))
        back = PaymentState(Decimal("35.00"), place.currency, place.cash_rounding)
        back.apply(CASH, None)
        refund = commit_refund(engine, place, cashier, manager, quiet,
                               {refundable(engine, quiet).lines[0].line_id: Decimal(1)}, back, uid="r-quiet",
                               at=bkk(day + timedelta(days=1), 9), exports=targets(settings))
        run_once(settings, engine)
        with writer(engine).begin() as conn:
            conn.execute(update(ExportJob).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        run_once(settings, engine)
        [entry] = fake.by_reference(f"POSDAY-BKK01-{day:%Y%m%d}")
        total = sum((p["quantity"] * p["price"] - p["discount"] for p in entry["products"]), Decimal(0))
        # 45 (plain) + 70 (the member sale without a member job) + 35 (the phone without a member)
        assert total == Decimal("150.00")
        assert f"{plain}–{phone_only}" in entry["remark"] and "n=3" in entry["remark"]
        assert len(fake.by_reference(member)) == 1  # the member sale went one by one, and only there
        assert fake.by_reference(phone_only) == []
        by_source = {j.source_id: j for j in jobs(engine)}
        assert by_source[phone_only].state == "skipped" and "daily" in by_source[phone_only].resolution
        [note] = fake.documents["creditnotes"]
        assert note["reference"] == f"CN-{refund}" and note["contactCode"] == "POS-CUST"
        assert f"POSDAY-BKK01-{day:%Y%m%d}" in note["tags"]
        assert {j.state for j in jobs(engine)} == {"succeeded", "skipped"}
    finally:
        fake.stop()


# -- dry run ------------------------------------------------------------------------------------------

def test_a_dry_run_pass_is_not_a_failure(home, engine, place, receiver):
    add_toml(home, webhook_toml(receiver.url).replace("live = true", "live = false"))
    settings = load_settings(home)
    sell(engine, place, [(COFFEE, 1)], targets=targets(settings))
    result = till(home, "exports", "run", "--once")
    assert result.returncode == 0, result.stdout + result.stderr
    [job] = jobs(engine)
    assert job.state == "skipped" and "dry run" in job.resolution and receiver.requests == []


# -- retry --all-failed -------------------------------------------------------------------------------

def test_retry_all_failed_does_not_send_again_what_a_person_skipped(home, engine, place, receiver):
    add_toml(home, webhook_toml(receiver.url))
    settings = load_settings(home)
    sell(engine, place, [(COFFEE, 1)], targets=targets(settings))
    sell(engine, place, [(HIGHLIGHTER, 1)], targets=targets(settings))
    first, second = jobs(engine)
    assert till(home, "exports", "skip", str(second.id), "--reason", "sent by hand").returncode == 0
    receiver.script = [(400, {})]
    till(home, "exports", "run", "--once")
    assert [j.state for j in jobs(engine)] == ["dead", "skipped"]
    result = till(home, "exports", "retry", "--all-failed")
    assert result.returncode == 0 and "1 job(s)" in result.stdout
    assert till(home, "exports", "run", "--once").returncode == 0
    assert [j.state for j in jobs(engine)] == ["succeeded", "skipped"]
    assert len(receiver.requests) == 2 and {r["headers"]["webhook-id"] for r in receiver.requests} == {
        first.idempotency_key}
    # Named on its own, a skipped job can still be sent (a person asks for exactly that one).
    assert till(home, "exports", "retry", str(second.id)).returncode == 0
    till(home, "exports", "run", "--once")
    assert [j.state for j in jobs(engine)] == ["succeeded", "succeeded"]


# -- PEAK: one run sends a day's entry and then the credit note that waits for it -------------------

def test_one_run_sends_the_days_entry_then_the_refunds_credit_note(home, engine, place, cashier, manager):
    from data.payments import CASH, PaymentState
    from data.sales import commit_refund, refundable
    from tests.fake_peak import CONNECT_ID, USER_TOKEN
    from tests.peak_helpers import bkk, days_ago

    fake = FakePeak()
    try:
        map_products(engine)
        add_toml(home, f'[[connectors]]\nname = "peak"\nkind = "peak"\nurl = "{fake.url}"\n'
                       f'connect_id = "{CONNECT_ID}"\nconnect_key = "{CONNECT_KEY}"\nuser_token = "{USER_TOKEN}"\n'
                       f'pos_customer_code = "POS-CUST"\nlive = true\n')
        settings = load_settings(home)
        day = days_ago(2)
        sold = sell(engine, place, [(COFFEE, 2)], at=bkk(day, 9), targets=targets(settings))
        member = sell(engine, place, [(HIGHLIGHTER, 1)], at=bkk(day, 10), member=MEMBER, targets=targets(settings))
        refunds = []
        for receipt, amount, uid in ((sold, "45.00", "r-1"), (member, "35.00", "r-2")):
            back = PaymentState(Decimal(amount), place.currency, place.cash_rounding)
            back.apply(CASH, None)
            refunds.append(commit_refund(engine, place, cashier, manager, receipt,
                                         {refundable(engine, receipt).lines[0].line_id: Decimal(1)}, back, uid=uid,
                                         at=bkk(day + timedelta(days=1), 9), exports=targets(settings)))
        result = till(home, "exports", "run", "--once")
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(fake.by_reference(f"POSDAY-BKK01-{day:%Y%m%d}")) == 1 and len(fake.by_reference(member)) == 1
        notes = {n["reference"]: n for n in fake.documents["creditnotes"]}
        assert sorted(notes) == sorted(f"CN-{r}" for r in refunds)
        assert f"POSDAY-BKK01-{day:%Y%m%d}" in notes[f"CN-{refunds[0]}"]["tags"]
        assert notes[f"CN-{refunds[1]}"]["contactCode"] == "0812345670"
        # Each document went after the one it credits.
        order = [(r["path"], r["body"]) for r in fake.requests if r["method"] == "POST" and r["path"] != "clienttoken"
                 and r["path"] != "contacts"]
        refs = [next(iter(b.values()))[next(iter(next(iter(b.values()))))][0]["reference"] for _, b in order]
        assert refs.index(f"CN-{refunds[0]}") > refs.index(f"POSDAY-BKK01-{day:%Y%m%d}")
        assert refs.index(f"CN-{refunds[1]}") > refs.index(member)
    finally:
        fake.stop()


def test_a_killed_workers_peak_job_is_looked_up_only_once_its_request_has_settled(settings, engine, place):
    """PEAK does not dedupe: a dead worker's request may still be turning into a document, so its job
    is taken over after SETTLE_SECONDS (then looked up), not the moment the worker is found gone."""
    import socket

    fake = FakePeak()
    try:
        map_products(engine)
        settings.connectors = [peak_connector(fake.url)]
        sell(engine, place, [(COFFEE, 1)], member=MEMBER, targets=targets(settings))
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout.strip()
        outbox.claim(engine, "peak", f"{socket.gethostname()}:{dead}", history=True)
        assert outbox.recover_expired(engine) == 0 and jobs(engine)[0].state == "in_flight"
        later = utcnow() + timedelta(seconds=outbox.SETTLE_SECONDS + 1)
        assert outbox.recover_expired(engine, now=later) == 1 and jobs(engine)[0].state == "uncertain"
    finally:
        fake.stop()


def test_a_failing_receiver_is_not_sent_the_whole_backlog_in_one_pass(settings, engine, place, receiver):
    from app.exports import BREAKER_AFTER

    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url=receiver.url, secret=SECRET, live=True)]
    receiver.script = [(503, {})] * 20
    for _ in range(BREAKER_AFTER + 3):
        sell(engine, place, [(COFFEE, 1)], targets=targets(settings))
    report = run_once(settings, engine)
    assert len(receiver.requests) == BREAKER_AFTER and report.failed == BREAKER_AFTER
    states = [(j.state, j.attempt_count) for j in jobs(engine)]
    assert states == [("retry_wait", 1)] * BREAKER_AFTER + [("pending", 0)] * 3  # the rest waits, untouched


# -- PEAK: from dry run to live ------------------------------------------------------------------------

def test_going_live_never_sends_a_credit_note_or_supplement_for_a_document_only_dry_run(settings, engine, place,
                                                                                       cashier, manager):
    """Documents built in dry run are not in PEAK: once live, a credit note or supplement that refers
    to one is blocked (saying which job to retry) instead of pointing at nothing; after that job went
    out, they follow."""
    from data.payments import CASH, PaymentState
    from data.sales import commit_refund, refundable
    from tests.peak_helpers import bkk, days_ago

    fake = FakePeak()
    try:
        map_products(engine)
        settings.connectors = [peak_connector(fake.url, live=False)]
        day = days_ago(3)
        sold = sell(engine, place, [(COFFEE, 2)], at=bkk(day, 9), targets=targets(settings))
        run_once(settings, engine)
        main = next(j for j in jobs(engine) if j.source_id == f"POSDAY-BKK01-{day:%Y%m%d}")
        assert main.state == "skipped" and "dry run" in main.resolution
        settings.connectors = [peak_connector(fake.url, live=True)]
        back = PaymentState(Decimal("45.00"), place.currency, place.cash_rounding)
        back.apply(CASH, None)
        refund = commit_refund(engine, place, cashier, manager, sold,
                               {refundable(engine, sold).lines[0].line_id: Decimal(1)}, back, uid="r-dry",
                               at=bkk(day + timedelta(days=1), 9), exports=targets(settings))
        sell(engine, place, [(HIGHLIGHTER, 1)], at=bkk(day, 20), targets=targets(settings))  # late
        run_once(settings, engine)
        by_source = {j.source_id: j for j in jobs(engine)}
        note, supplement = by_source[refund], by_source[f"POSDAY-BKK01-{day:%Y%m%d}-S1"]
        assert note.state == "blocked" and "dry run" in note.last_error and f"job {main.id}" in note.last_error
        assert supplement.state == "blocked" and "dry run" in supplement.last_error
        assert fake.documents["creditnotes"] == [] and fake.documents["receipts"] == []
        outbox.retry(engine, [main.id])  # a person sends the day's entry after all
        run_once(settings, engine)
        outbox.retry(engine, [note.id, supplement.id])  # (or wait for the 5-minute re-check)
        run_once(settings, engine)
        assert {j.source_id: j.state for j in jobs(engine)}[refund] == "succeeded"
        assert len(fake.by_reference(f"POSDAY-BKK01-{day:%Y%m%d}")) == 1
        assert len(fake.by_reference(f"POSDAY-BKK01-{day:%Y%m%d}-S1")) == 1
        assert [n["reference"] for n in fake.documents["creditnotes"]] == [f"CN-{refund}"]
    finally:
        fake.stop()
