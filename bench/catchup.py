"""Site catch-up: 10,000 sales made while the site database was unreachable, delivered by
app.exports.run_once once it is back, against a raw psycopg COPY of the same rows.

A till (a 2,000-product demo store, seeded in-process into bench/out/work/catchup/) commits 10,000 sales
of 3 lines (distinct products, quantities 1-3, cash or card) with `data.sales.commit_sale(...,
exports=targets(settings))` while `[site] url` points at a closed port: every sale writes its
`sale.completed` job for the implicit `site` connector. One run_once shows the site offline (no attempt
used); the jobs are then made due (as they would be ≈ 10 s later) and the URL pointed at a throwaway
PostgreSQL database (created and dropped here; migrated, seeded with the same catalogue, so stock moves
from 100 of each item). The figure is the wall time of run_once loops until `outbox.backlog(engine,
"site")` is 0 (bounded at 120 s): reading each batch of 500 records from the till's SQLite, one site
transaction per batch (sale, sale_line, payment, stock_move rows and the stock_level upsert), and the
jobs' outcomes written back. The site is then checked: every receipt once, lines, payments and stock.

Baseline, in the same run and the same PostgreSQL database: the sale, sale_line and payment rows of the
same 10,000 sales read with sqlite3 from the till's file and written with psycopg COPY into tables of the
same shape and indexes (`CREATE TABLE scratch.x (LIKE public.x INCLUDING ALL)`, logged), one
transaction; median of 3 (truncated between). The same with stock_move added is printed for information.
Target (issue: catch-up after 10,000 offline sales): under 30 s. `--profile` runs the catch-up under
cProfile and prints where the time goes.

PostgreSQL: TILL_BENCH_PG_URL, else TILL_TEST_PG_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/postgres;
the benchmark says so and exits 0 without a figure if it cannot connect.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, fmt_ms, header, load, median, report  # noqa: E402

SALES = 10_000
LINES = 3
PRODUCTS = 2_000
TARGET_SECONDS = 30.0
LIMIT_SECONDS = 120.0
COPY_RUNS = 3
CLOSED = "postgresql+psycopg://postgres@127.0.0.1:1/postgres"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BASELINE_TABLES = ("sale", "sale_line", "payment")
EXTRA_TABLES = ("stock_move",)


def pg_base() -> str:
    return os.environ.get("TILL_BENCH_PG_URL") or os.environ.get("TILL_TEST_PG_URL") or DEFAULT_PG


def libpq(url) -> str:
    """A SQLAlchemy URL as psycopg's conninfo."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_site(base_url: str):
    """A throwaway database on the server: (its SQLAlchemy URL, the admin conninfo, its name), or None
    when the server cannot be reached."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    admin = libpq(base.set(database=base.database or "postgres"))
    name = f"till_bench_catchup_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    except psycopg.Error as exc:
        print(f"  skipped: PostgreSQL at {base.render_as_string()} is not reachable or refuses a new database "
              f"({' '.join(str(exc).split())[:200]}); set TILL_BENCH_PG_URL", flush=True)
        return None
    return base.set(database=name).render_as_string(hide_password=False), admin, name


def drop_site(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_till(folder: Path):
    """A fresh 2,000-product demo store (seeded in-process: about a second)."""
    from app.config import DEMO_CONFIG, load_settings
    from app.tui import place_from_settings
    from data.db import make_engine, upgrade
    from data.demo import seed_demo
    from data.operators import by_code

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "till.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    settings = load_settings(folder)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    place = place_from_settings(settings, engine)
    seed_demo(engine, place, products=PRODUCTS)
    return settings, engine, place, by_code(engine, "1")


def make_site(url: str) -> None:
    from data.db import make_engine, upgrade
    from data.demo import seed_demo
    from data.places import ensure_place

    engine = make_engine(url)
    upgrade(engine)
    seed_demo(engine, ensure_place(engine, store_id="BKK01", store_name="Demo Store", terminal="SITE", currency="THB",
                                   locale="th_TH", timezone="Asia/Bangkok", prices_include_vat=True,
                                   cash_rounding=Decimal("0.25")), products=PRODUCTS)
    engine.dispose()


def make_sales(engine, place, count: int, seed: int = 11):
    """(cart, payment) per sale: 3 distinct generated products (ids 11..2,000), quantities 1-3."""
    from sqlalchemy import select

    from data.cart import Cart
    from data.models import Barcode, Product
    from data.payments import CARD, CASH, PaymentState
    from data.pricing import price_cart

    with engine.connect() as conn:
        rows = conn.execute(select(Product.id, Product.sku, Product.name, Product.price, Product.vat_rate, Barcode.code)
                            .join(Barcode, Barcode.product_id == Product.id).where(Product.id > 10)).all()
    rng = random.Random(seed)
    out = []
    for n in range(count):
        cart = Cart(uid=f"catchup-{seed}-{n:06d}")
        for pid, sku, name, price, vat, code in rng.sample(rows, LINES):
            cart.add(product_id=pid, sku=sku, name=name, price=price, vat_rate=vat,
                     quantity=Decimal(rng.randint(1, 3)), barcode=code)
        totals = price_cart(cart, currency=place.currency, prices_include_vat=place.prices_include_vat)
        payment = PaymentState(totals.total, place.currency, place.cash_rounding)
        payment.apply(CASH if n % 3 else CARD)
        out.append((cart, payment))
    return out


class Phases:
    """Wall time spent in the catch-up's parts (wrapped module functions, called once per batch of 500)."""

    PARTS = (("data.outbox", "claim_in_order", "claim jobs (till)"),
             ("data.site_sync", "read_records", "read records (till)"),
             ("data.site_sync", "apply_records", "site transaction"),
             ("data.site_sync", "_apply_sales", "  of which receipts (sale, line, payment, stock rows)"),
             ("data.outbox", "finish_many", "record outcomes (till)"))

    def __init__(self) -> None:
        import importlib

        self.spent: dict[str, float] = {}
        self.saved = []
        for module, attr, label in self.PARTS:
            mod = importlib.import_module(module)
            original = getattr(mod, attr)
            self.saved.append((mod, attr, original))
            setattr(mod, attr, self._timed(original, label))

    def _timed(self, fn, label):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - t
        return timed

    def restore(self) -> None:
        for mod, attr, original in self.saved:
            setattr(mod, attr, original)

    def line(self, total: float) -> str:
        parts = [f"{label.strip()} {self.spent.get(label, 0.0):.2f} s" for _m, _a, label in self.PARTS]
        return "where the time goes: " + ", ".join(parts) + f" (of {total:.2f} s)"


def catch_up(settings, engine) -> tuple[float, int, int]:
    """run_once until the site backlog is empty (or LIMIT_SECONDS): (seconds, sent, passes)."""
    from app.exports import run_once
    from data import outbox

    sent = passes = 0
    t0 = time.perf_counter()
    while outbox.backlog(engine, "site")[0] and time.perf_counter() - t0 < LIMIT_SECONDS:
        rep = run_once(settings, engine)
        passes += 1
        if rep.site is None or not rep.site.online or rep.site.error:
            raise SystemExit(f"catch-up stopped: {rep.site}")
        sent += rep.site.sent
    return time.perf_counter() - t0, sent, passes


def copy_baseline(db: Path, conninfo: str, tables: tuple[str, ...]) -> tuple[float, float, int]:
    """Read the tables' rows from the till's file and COPY them into scratch.<table>, one transaction:
    (total seconds, of which reading, rows)."""
    import psycopg

    with psycopg.connect(conninfo) as pg:
        pg.execute("TRUNCATE " + ", ".join(f"scratch.{t}" for t in tables))
        pg.commit()
        t0 = time.perf_counter()
        lite = sqlite3.connect(db)
        data = {}
        for t in tables:
            cur = lite.execute(f"SELECT * FROM {t} ORDER BY id")
            data[t] = ([d[0] for d in cur.description], cur.fetchall())
        lite.close()
        read = time.perf_counter() - t0
        rows = 0
        with pg.cursor() as cur:
            for t in tables:
                cols, values = data[t]
                with cur.copy(f"COPY scratch.{t} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
                rows += len(values)
        pg.commit()
        return time.perf_counter() - t0, read, rows


def site_summary(url: str) -> dict:
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(libpq(make_url(url))) as pg:
        def one(sql):
            return pg.execute(sql).fetchone()

        return {"sales": one("SELECT count(*), count(DISTINCT receipt_number), coalesce(sum(total), 0) FROM sale "
                             "s JOIN terminal t ON t.id = s.terminal_id WHERE t.code = 'T1'"),
                "lines": one("SELECT count(*), coalesce(sum(quantity), 0) FROM sale_line")[0:2],
                "payments": one("SELECT count(*) FROM payment")[0],
                "moves": one("SELECT count(*), coalesce(sum(quantity), 0) FROM stock_move")[0:2],
                "on_hand": one("SELECT sum(on_hand) FROM stock_level WHERE store_id = 'BKK01'")[0]}


def till_summary(db: Path) -> dict:
    lite = sqlite3.connect(db)
    try:
        return {"sales": lite.execute("SELECT count(*), count(DISTINCT receipt_number), sum(total) FROM sale").fetchone(),
                "lines": lite.execute("SELECT count(*), sum(quantity) FROM sale_line").fetchone(),
                "payments": lite.execute("SELECT count(*) FROM payment").fetchone()[0],
                "moves": lite.execute("SELECT count(*), sum(quantity) FROM stock_move").fetchone()}
    finally:
        lite.close()


def profile_catch_up(settings, engine) -> tuple[float, int, int]:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    try:
        result = catch_up(settings, engine)
    finally:
        prof.disable()
    for key in ("tottime", "cumulative"):
        print(f"  cProfile of the catch-up, top 15 by {key}:")
        pstats.Stats(prof, stream=sys.stdout).strip_dirs().sort_stats(key).print_stats(15)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="run the catch-up under cProfile (figure inflated)")
    args = parser.parse_args()
    header(f"catchup: {SALES:,} sales made offline reaching a PostgreSQL site vs a raw psycopg COPY of the "
           f"same rows, {PRODUCTS:,}-product demo till")
    load()
    made = create_site(pg_base())
    if made is None:
        return 0
    url, admin, name = made
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from app.connectors import site as site_connector
    from app.exports import run_once, targets
    from data import outbox
    from data.sales import commit_sale

    try:
        t0 = time.perf_counter()
        make_site(url)
        home = OUT / "work" / "catchup"
        settings, engine, place, cashier = make_till(home)
        print(f"  till and site seeded ({PRODUCTS:,} products each) in {time.perf_counter() - t0:.1f} s")

        settings.site.url = CLOSED
        exports = targets(settings)
        sales = make_sales(engine, place, SALES)
        t0 = time.perf_counter()
        for cart, payment in sales:
            commit_sale(engine, place, cashier, cart, payment, exports=exports)
        commit_s = time.perf_counter() - t0
        print(f"  {SALES:,} sales committed offline in {commit_s:.1f} s ({fmt_ms(commit_s / SALES)} per sale, "
              "each with its site job)")
        rep = run_once(settings, engine)
        waiting, _oldest = outbox.backlog(engine, "site")
        if rep.site is None or rep.site.online or waiting != SALES:
            raise SystemExit(f"expected the site offline and {SALES} jobs waiting: {rep.site}, {waiting}")
        print(f"  site offline: {waiting:,} jobs waiting ({rep.site.error[:70]}…)")
        with engine.begin() as conn:  # the retry time has come (≈ 10 s after the failed try)
            conn.execute(text("UPDATE export_job SET next_attempt_at = '2000-01-01 00:00:00' WHERE connector = 'site'"))

        settings.site.url = url
        catch = profile_catch_up if args.profile else catch_up
        phases = Phases()
        try:
            secs, sent, passes = catch(settings, engine)
        finally:
            phases.restore()
        left = outbox.backlog(engine, "site")[0]
        engine.dispose()
        site_connector.forget(url)
        if left or sent != SALES:
            raise SystemExit(f"catch-up incomplete after {secs:.0f} s: sent {sent}, {left} jobs left")
        got, want = site_summary(url), till_summary(home / "till.db")
        expected_on_hand = Decimal(100 * PRODUCTS) * 1000 + want["moves"][1]  # quantities are scaled by 1,000
        problems = [k for k in ("sales", "lines", "payments", "moves") if got[k] != want[k]]
        if problems or got["on_hand"] != expected_on_hand:
            raise SystemExit(f"the site disagrees with the till: {problems} site {got} till {want} "
                             f"on hand {got['on_hand']} != {expected_on_hand}")
        rows = want["sales"][0] + want["lines"][0] + want["payments"] + want["moves"][0]
        print(f"  catch-up: {sent:,} sales in {secs:.2f} s, {passes} run_once pass(es), {sent / secs:,.0f} sales/s "
              f"({rows / secs:,.0f} rows/s: sales, lines, payments, stock moves); the site holds each receipt once, "
              "lines, payments and stock agree with the till")
        print("  " + phases.line(secs))

        conninfo = libpq(make_url(url))
        import psycopg

        with psycopg.connect(conninfo, autocommit=True) as pg:
            pg.execute("CREATE SCHEMA scratch")
            for t in BASELINE_TABLES + EXTRA_TABLES:
                pg.execute(f"CREATE TABLE scratch.{t} (LIKE public.{t} INCLUDING ALL)")
        base, read_t, extra = [], [], []
        for _ in range(COPY_RUNS):
            s, r, n = copy_baseline(home / "till.db", conninfo, BASELINE_TABLES)
            base.append(s)
            read_t.append(r)
            extra.append(copy_baseline(home / "till.db", conninfo, BASELINE_TABLES + EXTRA_TABLES)[0])
        copy_s = median(base)
        print(f"  COPY of sale, sale_line, payment ({n:,} rows): " + "  ".join(f"{s:.2f} s" for s in base)
              + f" → median {copy_s:.2f} s (reading them from SQLite {median(read_t):.2f} s of it); "
              f"with stock_move too: median {median(extra):.2f} s")
        report(f"site catch-up ({SALES:,} offline sales of {LINES} lines → PostgreSQL)",
               f"{secs:.1f} s ({sent / secs:,.0f} sales/s)", f"COPY {copy_s:.2f} s", secs / copy_s, "< 30 s",
               None if args.profile else secs < TARGET_SECONDS,
               note="profiled" if args.profile else f"till commit {fmt_ms(commit_s / SALES)}/sale")
        if secs >= TARGET_SECONDS and not args.profile:
            print("  missed: run with --profile to see where the time goes")
    finally:
        site_connector.forget(url)
        drop_site(admin, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
