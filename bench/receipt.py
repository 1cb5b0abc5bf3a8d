"""Receipt for a 30-line sale: layout, and render + send to a serial (pty) and a file printer.

One sale of 30 distinct products (quantities 1-3, paid in cash) is committed with data.sales.commit_sale
on a copy of the 100,000-product demo store, built like bench/commit.py builds its sales. Then, each
the median of 20 runs after 2 warm-up runs, the five cases below taking turns run by run so machine load
hits them alike:
  (a) layout   app.printing.receipt_lines(ctx, receipt): the sale loaded back (data.sales.receipt_doc)
               and laid out (layout_receipt) at the printer's width; also layout_receipt alone on the
               loaded ReceiptDoc.
  (b) serial   ReceiptPrinter("serial").print_job(...) to the slave end of a pty whose master end is read
               by tests.fake_devices.SerialPrinter (answers DLE EOT status queries as an online
               printer). The job is what the Spooler sends for a cash sale: the laid-out lines, the
               receipt number as a CODE128 barcode, cut, drawer pulse. print_job opens the port, asks
               for the three status bytes, sends, and closes. Between runs (untimed) the script waits
               until the fake printer has read the whole job, and checks at the end it got every one.
  (c) file     the same job to ReceiptPrinter("file") appending to a file in the work copy.
Baseline: python-escpos Dummy() (made inside the timed part, as print_job makes its printer per job),
textln() for each of the same laid-out lines, cut(); no layout, no status queries, no barcode, no
drawer. Ratios: each figure ÷ the baseline. No targets: the figures are reported.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, fmt_ms, header, load, report, work_copy  # noqa: E402

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LINES = 30
RUNS = 20
WARMUP = 2


def make_sale(engine, place, seed: int = 30):
    from sqlalchemy import select

    from data.cart import Cart
    from data.models import Barcode, Product
    from data.payments import CASH, PaymentState
    from data.pricing import price_cart

    rng = random.Random(seed)
    ids = rng.sample(range(11, 100_001), LINES)
    with engine.connect() as conn:
        rows = conn.execute(select(Product.id, Product.sku, Product.name, Product.price, Product.vat_rate, Barcode.code)
                            .join(Barcode, Barcode.product_id == Product.id).where(Product.id.in_(ids))).all()
    catalogue = {r[0]: r for r in rows}
    cart = Cart(uid=f"bench-receipt-{seed}")
    for pid in ids:
        _, sku, name, price, vat, code = catalogue[pid]
        cart.add(product_id=pid, sku=sku, name=name, price=price, vat_rate=vat,
                 quantity=Decimal(rng.randint(1, 3)), barcode=code)
    totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
    payment = PaymentState(totals.total, place.currency, place.cash_rounding)
    payment.apply(CASH)
    return cart, payment


def interleaved(cases: dict[str, tuple], runs: int = RUNS, warmup: int = WARMUP) -> dict[str, list[float]]:
    """name → (fn, after or None); one run of each in turn, so machine load hits them alike.
    `after` runs untimed after each run of its case."""
    out: dict[str, list[float]] = {name: [] for name in cases}
    for n in range(warmup + runs):
        for name, (fn, after) in cases.items():
            t0 = time.perf_counter()
            fn()
            t = time.perf_counter() - t0
            if after is not None:
                after()
            if n >= warmup:
                out[name].append(t)
    return out


def main() -> int:
    header(f"receipt: a {LINES}-line sale, layout and render + send (serial pty, file) vs python-escpos Dummy")
    load()
    home = work_copy("receipt")

    from app.cli import _engine_for, setup_logging
    from app.config import load_settings
    from app.context import TillContext, make_printer
    from app.tui import place_from_settings

    setup_logging(home)  # before python-escpos is imported: it calls logging.basicConfig()
    settings = load_settings(home)
    engine = _engine_for(settings)
    place = place_from_settings(settings, engine)

    import app.devices.escpos_text as printer_mod  # print_job imports write_line from here on each job
    from app.devices.printer import PrintJob, ReceiptPrinter
    from app.devices.receipt_layout import layout_receipt
    from app.printing import receipt_lines
    from data.operators import by_code
    from data.sales import commit_sale, receipt_doc
    from tests.fake_devices import Pty, SerialPrinter

    cart, payment = make_sale(engine, place)
    receipt = commit_sale(engine, place, by_code(engine, "1"), cart, payment)
    ctx = TillContext(settings=settings, printer=make_printer(settings))
    ctx.set_database(engine, place)
    cfg = settings.printer
    width = cfg.width

    lines = receipt_lines(ctx, receipt)
    doc = receipt_doc(engine, receipt)
    job = PrintJob(tuple(lines), cut=True, open_drawer=True, code=receipt)

    from escpos.printer import Dummy

    def dummy() -> bytes:
        d = Dummy()
        for line in lines:
            d.textln(line)
        d.cut()
        return d.output

    pty = Pty()
    fake = SerialPrinter(pty)
    serial_printer = ReceiptPrinter("serial", port=pty.path, profile=cfg.profile, width=width, home=home,
                                    baudrate=cfg.baudrate, cjk=cfg.cjk, font=cfg.font)
    prn = home / "bench-receipts.prn"
    file_printer = ReceiptPrinter("file", port=str(prn), profile=cfg.profile, width=width, home=home,
                                  cjk=cfg.cjk, font=cfg.font)
    try:
        # How the lines go out (text in a code page, Kanji mode, or drawn as a raster image): one
        # untimed job, which also loads python-escpos and its capabilities.
        modes: dict[str, int] = {}
        write_line = printer_mod.write_line

        def counting(*args, **kw):
            mode = write_line(*args, **kw)
            modes[mode] = modes.get(mode, 0) + 1
            return mode

        printer_mod.write_line = counting
        try:
            serial_printer.print_job(job)
        finally:
            printer_mod.write_line = write_line
        job_bytes = len(fake.wait_for(b"\x1bp"))
        base_bytes = len(dummy())
        sent = [1]

        def delivered() -> None:
            """Untimed, after each serial job: the fake printer has read all of it (bounded wait)."""
            sent[0] += 1
            deadline = time.monotonic() + 5
            while bytes(fake.received).count(b"\x1dV") < sent[0] and time.monotonic() < deadline:
                time.sleep(0.001)

        t = interleaved({
            "lines": (lambda: receipt_lines(ctx, receipt), None),
            "layout": (lambda: layout_receipt(doc, width), None),
            "serial": (lambda: serial_printer.print_job(job), delivered),
            "file": (lambda: file_printer.print_job(job), None),
            "base": (dummy, None),
        })
        got = fake.printed
    finally:
        fake.stop()
        pty.unplug()
        engine.dispose()
    cuts = got.count(b"\x1dV")
    if cuts != sent[0] or got.count(receipt.encode()) != 2 * sent[0]:
        raise SystemExit(f"the fake printer got {cuts} cuts for {sent[0]} receipts")
    if prn.read_bytes().count(b"\x1dV") != RUNS + WARMUP:
        raise SystemExit("the file printer did not append every receipt")
    t_lines, t_layout, t_serial, t_file, t_base = (t[k] for k in ("lines", "layout", "serial", "file", "base"))

    med = statistics.median
    base = med(t_base)
    mode_text = "lines sent as " + ", ".join(f"{m} {n}" for m, n in sorted(modes.items()))
    print(f"  receipt {receipt}: {LINES} sale lines → {len(lines)} printed lines at {width} columns "
          f"({mode_text}); job {job_bytes:,} bytes, Dummy baseline {base_bytes:,} bytes")
    for label, xs in (("receipt_lines (load + layout)", t_lines), ("layout_receipt alone", t_layout),
                      ("serial pty print_job", t_serial), ("file print_job", t_file),
                      ("baseline: Dummy textln + cut", t_base)):
        print(f"  {label:<30} median {fmt_ms(med(xs))}  min {fmt_ms(min(xs))}  max {fmt_ms(max(xs))}  ({len(xs)} runs)")
    b = fmt_ms(base)
    report(f"receipt layout, {LINES} lines (receipt_lines)", fmt_ms(med(t_lines)), b, med(t_lines) / base, "–", None,
           note=f"layout_receipt alone {fmt_ms(med(t_layout))}")
    report(f"receipt render+send, {LINES} lines, serial pty", fmt_ms(med(t_serial)), b, med(t_serial) / base, "–",
           None, note=mode_text)
    report(f"receipt render+send, {LINES} lines, file", fmt_ms(med(t_file)), b, med(t_file) / base, "–", None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
