"""Export delivery throughput: app.exports.run_once delivering webhook jobs to a local receiver against a
raw httpx loop posting the same payloads with the same headers, in the same run.

A copy of the demo database gets JOBS `sale.completed` jobs (the payload of a real 3-line sale, one job
per receipt number) for one signed webhook connector pointing at tests/webhook_receiver.py on
127.0.0.1, which verifies every signature. run_once claims each job (lease and attempt row written
before the request), signs and posts it, and records the outcome: two write transactions per job
around the request. The baseline is one httpx.Client posting the same bodies with the same signed
headers to the same receiver, nothing recorded. Both run in alternating blocks of BLOCK so machine load
hits them alike. Figures are deliveries per second; the ratio is run_once's over the raw loop's.
Target (issue 5): at least 0.5.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, header, load, report, work_copy  # noqa: E402

JOBS = 600
BLOCK = 100


def main() -> int:
    import httpx

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app.cli import _engine_for
    from app.config import ConnectorSettings, load_settings
    from app.connectors import webhook
    from app.exports import run_once, targets
    from app.tui import place_from_settings
    from data import outbox, payloads
    from data.cart import Cart
    from data.catalog import lookup
    from data.db import writer
    from data.payments import CASH, PaymentState
    from data.pricing import price_cart
    from data.types import utcnow
    from tests.webhook_receiver import SECRET, Receiver

    header(f"delivery: run_once to a local webhook receiver vs a raw httpx loop, {JOBS} payloads each")
    load()
    home = work_copy("delivery")
    settings = load_settings(home)
    engine = _engine_for(settings)
    place = place_from_settings(settings, engine)
    receiver = Receiver()
    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url=receiver.url, secret=SECRET, live=True,
                                             events=["sale.completed"])]
    cart = Cart()
    for code in ("4006381333931", "8850000000010", "8850000000034"):
        info = lookup(engine, code)
        cart.add(product_id=info.id, sku=info.sku, name=info.name, price=info.price, vat_rate=info.vat_rate,
                 quantity=Decimal(2), barcode=info.barcode)
    totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
    pay = PaymentState(totals.total, place.currency, place.cash_rounding)
    pay.apply(CASH, None)
    now = utcnow()
    bodies = []
    with writer(engine).begin() as conn:
        for n in range(JOBS):
            receipt = f"{place.store_id}-{place.terminal_code}-{n + 1:06d}"
            payload = payloads.sale_completed(receipt, place, "1", cart, totals, pay, now)
            outbox.enqueue(conn, targets(settings), "sale.completed", "sale", receipt, payload, at=now)
            key = outbox.idempotency_key("hq", "sale.completed", receipt)
            bodies.append((key, payload))
    connector = settings.connectors[0]
    app_t = raw_t = 0.0
    delivered = sent = 0
    with httpx.Client(timeout=webhook.TIMEOUT) as client:
        run_once(settings, engine, client=client, limit=1)  # warm-up: imports, first connection
        client.post(receiver.url, content=b"{}", headers={"webhook-id": "w", "webhook-timestamp": "0",
                                                          "webhook-signature": "v1,x"})
        delivered = 1
        for start in range(1, JOBS, BLOCK):
            n = min(BLOCK, JOBS - start)
            t = time.perf_counter()
            delivered += run_once(settings, engine, client=client, limit=n).delivered
            app_t += time.perf_counter() - t
            t = time.perf_counter()
            for key, payload in bodies[start:start + n]:
                job = outbox.ClaimedJob(0, "hq", "webhook", "sale.completed", key, payload, 1, 0, key)
                body = webhook.body_of(job)
                ts = int(time.time())
                response = client.post(connector.url, content=body, headers={
                    "content-type": "application/json", "webhook-id": key, "webhook-timestamp": str(ts),
                    "webhook-signature": webhook.sign(SECRET, key, ts, body), "idempotency-key": key,
                    "user-agent": "till/bench"}, follow_redirects=False)
                sent += response.status_code == 200
            raw_t += time.perf_counter() - t
    receiver.stop()
    engine.dispose()
    if delivered != JOBS:
        raise SystemExit(f"run_once delivered {delivered} of {JOBS} jobs")
    invalid = [r for r in receiver.requests if not r["valid"] and r["headers"].get("webhook-id") != "w"]
    if invalid or sent != JOBS - 1:
        raise SystemExit(f"{len(invalid)} requests failed verification; raw loop got {sent} × 200")
    app_rate, raw_rate = (JOBS - 1) / app_t, (JOBS - 1) / raw_t
    print(f"  run_once:  {JOBS - 1} delivered in {app_t:.2f} s → {app_rate:,.0f}/s")
    print(f"  raw httpx: {JOBS - 1} posted in {raw_t:.2f} s → {raw_rate:,.0f}/s")
    ratio = app_rate / raw_rate
    report("export delivery throughput (webhook, local receiver)", f"{app_rate:,.0f} jobs/s",
           f"{raw_rate:,.0f} posts/s", ratio, "≥ 0.5×", ratio >= 0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
