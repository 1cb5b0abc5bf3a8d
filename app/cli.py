"""The `till` command. Errors are one line on stderr and exit 1 (2 for usage); --debug shows tracebacks."""

from __future__ import annotations

import argparse
import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app import __version__

log = logging.getLogger("till")


class CliError(Exception):
    """A problem the user can fix, reported as one line."""


class UsageError(CliError):
    """Options that do not go together, or one that is missing: one line, exit 2 (as argparse's own)."""


def setup_logging(home: Path, debug: bool = False) -> None:
    """File logging in <home>/logs. Must run before python-escpos is imported: it calls basicConfig(),
    which would otherwise print onto the stderr that Textual draws on."""
    root = logging.getLogger()
    if any(getattr(h, "_till", False) for h in root.handlers):
        return
    try:
        folder = home / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFileHandler(folder / "till.log", maxBytes=2_000_000, backupCount=5,
                                                       encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler._till = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", type=Path, default=argparse.SUPPRESS,
                        help="folder with till.toml, till.db, logs (default: $TILL_HOME or the user data folder)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")

    parser = argparse.ArgumentParser(prog="till", parents=[common], description="Till: terminal point of sale")
    parser.add_argument("--version", action="version", version=f"till {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("run", parents=[common], help="start the console (default)")

    serve = sub.add_parser("serve", parents=[common], help="the console in a browser (textual-serve)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; anything else is reachable from the network)")
    serve.add_argument("--public-url", help="the URL browsers use, behind a reverse proxy "
                       "(default: taken from each request)")

    def demo_args(p: argparse.ArgumentParser, extra: bool) -> None:
        p.add_argument("--products", type=_count, default=1000, help="number of products (default 1000)")
        p.add_argument("--orders", type=_count, default=0, help="demo customer orders over the last 60 days (default 0)")
        if extra:
            p.add_argument("--sales", type=_count, default=0, help="past sales to create")
            p.add_argument("--days", type=_count, default=7, help="days the past sales spread over")

    demo_args(sub.add_parser("demo", parents=[common], help="create the demo store if needed, then start"), False)
    demo_args(sub.add_parser("seed-demo", parents=[common], help="create the demo store without starting"), True)

    report = sub.add_parser("report", parents=[common], help="X (running) and Z (closing) reports")
    report.add_argument("kind", choices=["x", "z"], help="x: the running report; z: close the day, or reprint one")
    report.add_argument("--date", type=_business_day, help="Z: reprint the kept Z of this business day (YYYY-MM-DD)")
    report.add_argument("--print", dest="to_printer", action="store_true", help="also print on the receipt printer")
    report.add_argument("--json", action="store_true", help="JSON instead of text")
    report.add_argument("--counted", help="Z: close the day with this blind cash count")
    report.add_argument("--operator", help="Z: the operator closing the day (asked for a PIN)")
    report.add_argument("--reason", default="", help="Z: why the count differs, when a manager approves")

    exports = sub.add_parser("exports", parents=[common], help="the export outbox")
    ex_sub = exports.add_subparsers(dest="exports_command", metavar="ACTION", required=True)
    ex_list = ex_sub.add_parser("list", parents=[common], help="export jobs")
    ex_list.add_argument("--state", choices=["pending", "in_flight", "retry_wait", "uncertain", "blocked", "dead",
                                             "succeeded", "skipped", "cancelled"])
    ex_list.add_argument("--connector")
    ex_list.add_argument("--json", action="store_true")
    ex_list.add_argument("--limit", type=_count, default=200, help="the newest N jobs (default 200; 0: all)")
    ex_show = ex_sub.add_parser("show", parents=[common], help="one job: payload and every attempt")
    ex_show.add_argument("id", type=int)
    ex_show.add_argument("--json", action="store_true")
    ex_retry = ex_sub.add_parser("retry", parents=[common], help="failed, dead or blocked jobs back to pending")
    ex_retry.add_argument("ids", type=int, nargs="*")
    ex_retry.add_argument("--all-failed", action="store_true")
    ex_retry.add_argument("--connector")
    ex_skip = ex_sub.add_parser("skip", parents=[common], help="skip a job, with a reason (audited)")
    ex_skip.add_argument("id", type=int)
    ex_skip.add_argument("--reason", required=True)
    ex_run = ex_sub.add_parser("run", parents=[common], help="deliver due jobs now")
    ex_run.add_argument("--once", action="store_true", help="one pass, then exit (for cron/systemd timers)")

    devices = sub.add_parser("devices", parents=[common], help="scanner and printer")
    dev_sub = devices.add_subparsers(dest="devices_command", metavar="ACTION", required=True)
    check = dev_sub.add_parser("check", parents=[common], help="status of the scanner and printer; prints a test page")
    check.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a scan (default 10)")

    imp = sub.add_parser("import", parents=[common], help="import products (CSV) or customer orders (JSON)")
    imp_sub = imp.add_subparsers(dest="import_command", metavar="WHAT", required=True)
    imp_products = imp_sub.add_parser("products", parents=[common], help="upsert products by sku from a CSV "
                                      "file (see README: Importing products)")
    imp_products.add_argument("file", type=Path, help="the CSV file: a header with sku, name, price, vat_rate "
                              "and optionally barcode, name_en, active, external_id.<connector>")
    imp_products.add_argument("--encoding", help="the file's encoding when it is not UTF-8, e.g. cp874 (Thai)")
    imp_products.add_argument("--dry-run", action="store_true", help="check the file against the database, "
                              "write nothing")
    imp_orders = imp_sub.add_parser("orders", parents=[common], help="customer orders from a JSON file "
                                    "(see README: Importing orders)")
    imp_orders.add_argument("file", type=Path, help="the JSON file ({\"orders\": [...]} or a list)")
    imp_orders.add_argument("--operator", default="import", help="recorded as the orders' creator (default import)")

    sync = sub.add_parser("sync", parents=[common], help="send waiting records to the site database and pull "
                          "catalogue changes now")
    sync_which = sync.add_mutually_exclusive_group()
    sync_which.add_argument("--push-only", action="store_true", help="only send the records that wait")
    sync_which.add_argument("--pull-only", action="store_true", help="only pull products, prices and operators")

    db = sub.add_parser("db", parents=[common], help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", parents=[common], help="apply migrations")
    return parser


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0 or value > 10_000_000:
        raise argparse.ArgumentTypeError(f"{text} is out of range (0 to 10,000,000)")
    return value


def _business_day(text: str) -> str:
    from datetime import date

    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    if (args.command or "run") == "run":
        from app.idle_gc import hold_for_startup

        hold_for_startup()  # the console turns collection back on once it is up
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `till exports list --json | head`: the reader left; stop quietly
        import os

        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        except (OSError, ValueError):
            pass
        return 141  # as a program killed by SIGPIPE
    except Exception as exc:
        if debug:
            raise
        from app.config import ConfigError

        if isinstance(exc, UsageError):
            print(f"till: error: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, CliError | ConfigError):
            message = str(exc)
        else:
            from data.db import DatabaseError

            message = str(exc) if isinstance(exc, DatabaseError) else f"{exc.__class__.__name__}: {exc}"
            if logging.getLogger().handlers:  # else logging's last resort would print the traceback on stderr
                log.exception("command failed")
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        print(f"till: error: {lines[0] if lines else exc.__class__.__name__}", file=sys.stderr)
        return 1
    finally:
        import gc

        gc.enable()  # if start-up stopped before the console was up (a bad config, say)


def _home(args) -> Path:
    from app.config import default_home

    home = getattr(args, "home", None) or default_home()
    return home.expanduser()


def _dispatch(args) -> int:
    command = args.command or "run"
    home = _home(args)
    if home.exists() and not home.is_dir():
        raise CliError(f"home folder {home} is not a folder")
    if command in ("demo", "seed-demo"):
        return _demo(args, home, start=command == "demo")
    if not home.is_dir():
        raise CliError(f"home folder {home} does not exist (run `till demo --home {home}` for a demo store)")
    setup_logging(home, getattr(args, "debug", False))
    from app.config import load_settings

    settings = load_settings(home)
    if command == "devices":
        return _devices_check(settings, args.wait)
    if command == "report":
        return _report(settings, args)
    if command == "exports":
        return _exports(settings, args)
    if command == "import" and args.import_command == "products":
        from app.product_import_cli import import_products_command

        return import_products_command(settings, args)
    if command == "import":
        return _import_orders(settings, args)
    if command == "serve":
        return _serve(settings, args)
    if command == "sync":
        from app.sync_cli import SyncError, sync

        try:
            return sync(settings, _engine_for(settings), push=not args.pull_only, pull=not args.push_only)
        except SyncError as exc:
            raise CliError(str(exc)) from None
    if command == "db":
        from data.db import make_engine, upgrade

        ran = upgrade(make_engine(settings.database_url))
        print("database upgraded" if ran else "database is up to date")
        return 0
    return _run(settings)


def _job_dict(job, payload=None, attempts=None) -> dict:
    def t(v):
        return v.isoformat().replace("+00:00", "Z") if v else None

    out = {"id": job.id, "connector": job.connector, "event": job.event, "source": f"{job.source_type}:{job.source_id}",
           "idempotency_key": job.idempotency_key, "state": job.state, "attempts": job.attempt_count,
           "next_attempt_at": t(job.next_attempt_at), "last_status": job.last_status, "last_error": job.last_error,
           "resolution": job.resolution, "created_at": t(job.created_at), "succeeded_at": t(job.succeeded_at)}
    if attempts is not None:
        out["payload"] = payload
        out["attempt_log"] = [{"attempt": a.attempt_no, "started_at": t(a.started_at), "finished_at": t(a.finished_at),
                               "outcome": a.outcome, "status": a.status_code, "error": a.error,
                               "response_body": a.response_body, "request_headers": a.request_headers}
                              for a in attempts]
    return out


def _exports(settings, args) -> int:
    import json
    import time

    from data import outbox

    engine = _engine_for(settings)
    action = args.exports_command
    if action == "list":
        limit = args.limit or 10_000_000
        found = outbox.list_jobs(engine, state=args.state, connector=args.connector, limit=limit + 1)
        jobs = [_job_dict(j) for j in found[:limit]]
        if len(found) > limit:  # on stderr: stdout stays the plain list (or JSON) it always is
            print(f"till: the newest {limit} jobs are shown; there are more (--limit N, 0 for all; or --state, "
                  f"--connector)", file=sys.stderr)
        if args.json:
            print(json.dumps(jobs, ensure_ascii=False, indent=2))
        else:
            for j in jobs:
                print(f"{j['id']:>6}  {j['state']:<10} {j['connector']:<12} {j['event']:<15} {j['source']:<28} "
                      f"tries {j['attempts']:<2} {j['last_error'][:60]}")
            if not jobs:
                print("no export jobs")
        return 0
    if action == "show":
        found = outbox.show_job(engine, args.id)
        if found is None:
            raise CliError(f"no export job {args.id}")
        data = _job_dict(*found)
        if args.json:
            print(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            for key in ("id", "connector", "event", "source", "idempotency_key", "state", "attempts",
                        "next_attempt_at", "last_status", "last_error", "resolution"):
                print(f"{key:>16}: {data[key]}")
            print("         payload:", json.dumps(data["payload"], ensure_ascii=False))
            for a in data["attempt_log"]:
                print(f"  attempt {a['attempt']} {a['started_at']} {a['outcome']} status={a['status']} {a['error']}")
        return 0
    if action == "retry":
        if not args.ids and not args.all_failed:
            raise UsageError("exports retry: name job ids, or --all-failed")
        done = outbox.retry(engine, args.ids, all_failed=args.all_failed, connector=args.connector,
                            operator="cli")
        if args.connector and outbox.paused(engine, args.connector):
            outbox.set_paused(engine, args.connector, None, operator="cli")
        print(f"{len(done)} job(s) back to pending")
        missing = sorted(set(args.ids) - set(done))
        if missing:
            raise CliError(f"not retried (unknown, or not failed): {', '.join(map(str, missing))}")
        return 0
    if action == "skip":
        try:
            ok = outbox.skip(engine, args.id, args.reason, operator="cli")
        except ValueError as exc:
            raise CliError(str(exc)) from None
        if not ok:
            raise CliError(f"job {args.id} is unknown or already finished")
        print(f"job {args.id} skipped")
        return 0
    from app.exports import run_once

    while True:
        report = run_once(settings, engine)
        print(f"delivered {report.delivered}, not delivered {report.failed} {report.states or ''}".rstrip(), flush=True)
        if args.once:
            return 0 if report.failed == 0 else 1
        time.sleep(5)


def _read_pin(prompt: str) -> str:
    import getpass

    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().strip()


def _report(settings, args) -> int:
    import json
    from decimal import Decimal, InvalidOperation

    from app.devices.receipt_layout import layout_report
    from app.tui import place_from_settings
    from data import reports
    from data.operators import LoginError, authenticate, authorise_manager

    engine = _engine_for(settings)
    place = place_from_settings(settings, engine)
    cutoff = settings.store.cutoff
    if args.kind == "x":
        if args.date or args.counted:
            raise CliError("report x: --date and --counted are for Z reports (the X is the running day)")
        doc = reports.x_report(engine, place, cutoff=cutoff)
    elif args.date and args.counted is not None:
        raise UsageError("report z: --date reprints a kept Z and --counted closes the day; give one of them")
    elif args.date:
        doc = reports.z_report(engine, place, args.date)
        if doc is None:
            raise CliError(f"no Z report for {args.date} on terminal {place.terminal_code}")
    elif args.counted is None:
        raise CliError("report z: closing the day needs the blind count: --counted AMOUNT --operator CODE "
                       "(or F12 → Close day on the till); --date D reprints a kept Z")
    else:
        from data.money import minor_units

        try:
            counted = Decimal(args.counted.strip())
        except InvalidOperation:
            counted = None
        if counted is None or not counted.is_finite() or counted < 0 or counted >= 10 ** 12 \
                or counted.normalize().as_tuple().exponent < -minor_units(place.currency):
            raise CliError(f"--counted {args.counted!r} is not an amount of cash in {place.currency}")
        if not args.operator:
            raise CliError("report z: --operator CODE: who closes the day")
        try:
            operator = authenticate(engine, args.operator, _read_pin(f"PIN for operator {args.operator}: "),
                                    store=place.store_id, terminal=place.terminal_code, purpose="login")
            from app.exports import targets

            exports = targets(settings)  # the same jobs as closing the day on the till (F12)
            try:
                doc = reports.close_day(engine, place, operator, {}, counted, cutoff=cutoff,
                                        tolerance=settings.cash.variance_tolerance, exports=exports)
            except reports.VarianceNeedsApproval as exc:
                if not args.reason.strip():
                    raise CliError(f"{exc}; give --reason and a manager's PIN") from None
                approver = authorise_manager(engine, _read_pin("Manager PIN: "), action="day close",
                                             store=place.store_id, terminal=place.terminal_code)
                doc = reports.close_day(engine, place, operator, {}, counted, cutoff=cutoff,
                                        tolerance=settings.cash.variance_tolerance, approver=approver,
                                        reason=args.reason, exports=exports)
        except LoginError as exc:
            raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(reports.report_json(doc), ensure_ascii=False, indent=2))
    else:
        print("\n".join(layout_report(doc, settings.printer.width)))
    if args.to_printer:
        from app.context import make_printer
        from app.devices.printer import PrinterError, PrintJob

        try:
            make_printer(settings).print_job(PrintJob(tuple(layout_report(doc, settings.printer.width))))
        except PrinterError as exc:
            raise CliError(f"report not printed: {exc}") from None
    return 0


def _devices_check(settings, wait: float) -> int:
    from app.context import make_printer
    from app.devices.check import check_printer, check_scanner, list_ports

    def say(line: str) -> None:
        print(line, flush=True)

    ports = list_ports()
    say("serial ports: " + (", ".join(ports) if ports else "none found"))
    ok = check_printer(make_printer(settings), settings.store.name, say)
    scanner = settings.scanner
    if scanner.port:
        ok = check_scanner(scanner.port, baudrate=scanner.baudrate, suffix=scanner.suffix, prefix=scanner.prefix,
                           wait=max(0.0, min(wait, 300.0)), say=say) and ok
    else:
        say("scanner: no [scanner] port (a keyboard-wedge scanner types into the sale field)")
    return 0 if ok else 1


def _engine_for(settings):
    from data.db import make_engine, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def orders_engine_for(settings, local):
    """Where customer orders live: the shared site database when `[site] url` is set (migrated like
    the till's own), else this till's database."""
    if not settings.site.url:
        return local
    from sqlalchemy.engine import make_url

    from data.db import make_engine, upgrade

    where = make_url(settings.site.url).render_as_string(hide_password=True)
    try:
        engine = make_engine(settings.site.url)
        upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - driver errors vary; the message is one line
        cause = exc.__cause__ or exc
        text = str(getattr(cause, "orig", None) or cause).strip().splitlines()
        raise CliError(f"site database {where} unreachable: {text[0] if text else cause.__class__.__name__}") \
            from None
    return engine


def read_input(path: Path) -> bytes:
    """An import file's bytes, or the one-line reason it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _import_orders(settings, args) -> int:
    from data.order_import import ImportFormatError, import_orders, parse
    from data.phones import region_of

    path = args.file.expanduser()
    text = read_input(path)
    try:
        raw_orders = parse(text)
    except ImportFormatError as exc:
        raise CliError(f"{path}: {exc}") from None
    engine = _engine_for(settings)
    from app.tui import place_from_settings

    place = place_from_settings(settings, engine)
    orders_db = orders_engine_for(settings, engine)
    kw = dict(store_id=place.store_id, operator=args.operator[:16], currency=place.currency,
              prices_include_vat=place.prices_include_vat, region=region_of(place.locale))
    if len(raw_orders) >= 200:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("orders"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("orders", total=len(raw_orders))
            result = import_orders(engine, orders_db, raw_orders, **kw,
                                   progress=lambda done, total: progress.update(task, completed=done))
    else:
        result = import_orders(engine, orders_db, raw_orders, **kw)
    for ext, number in result.imported:
        print(f"imported          {ext} → {number}")
    for ext, number in result.existing:
        print(f"already imported  {ext} ({number})")
    for ext, reason in result.rejected:
        print(f"rejected          {ext}: {reason}")
    print(f"{path.name}: {result.summary()}", flush=True)
    if result.rejected:
        raise CliError(f"{len(result.rejected)} of {len(raw_orders)} orders rejected (the others were imported)")
    return 0


def database_ready_without_work(settings) -> bool:
    """A quick look with the standard sqlite3 module: an SQLite file at the newest migration with
    operators in it. Then the console starts at once and opens the database behind the login screen;
    anything else takes the full path below, which migrates or explains the problem in one line."""
    import sqlite3

    from data.revision import HEAD_REVISION

    prefix = "sqlite:///"
    url = settings.database_url
    if not url.startswith(prefix):
        return False
    path = Path(url[len(prefix):])
    if not path.is_file():
        return False
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=2)
        try:
            revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
            operator = con.execute("SELECT 1 FROM operator LIMIT 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return revision is not None and revision[0] == HEAD_REVISION and operator is not None


def console_for(settings):
    """The console exactly as `till run` starts it (the benchmarks call this too)."""
    from app.tui import make_app

    if database_ready_without_work(settings):
        return make_app(settings)
    from data.demo import has_data

    engine = _engine_for(settings)
    if not has_data(engine):
        raise CliError(f"{settings.database_url}: no operators yet; run `till seed-demo --home {settings.home}` "
                       "for the demo store")
    return make_app(settings, engine=engine)


def _serve(settings, args) -> int:
    from app.serve import ServeError, serve

    if not database_ready_without_work(settings):
        from data.demo import has_data

        if not has_data(_engine_for(settings)):
            raise CliError(f"{settings.database_url}: no operators yet; run `till seed-demo --home {settings.home}` "
                           "for the demo store")
    try:
        return serve(settings.home, host=args.host, port=args.port, public_url=args.public_url,
                     title=f"Till · {settings.store.name}", debug=getattr(args, "debug", False))
    except ServeError as exc:
        raise CliError(str(exc)) from None


def _run(settings) -> int:
    console_for(settings).run()
    return 0


def _demo(args, home: Path, *, start: bool) -> int:
    from app.config import CONFIG_NAME, DEMO_CONFIG, load_settings

    config = home / CONFIG_NAME
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot make the home folder {home}: {exc.strerror or exc}") from None
    setup_logging(home, getattr(args, "debug", False))
    if not config.exists():
        try:
            config.write_text(DEMO_CONFIG, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {config}: {exc.strerror or exc}") from None
    settings = load_settings(home)
    engine = _engine_for(settings)
    from app.tui import place_from_settings
    from data.demo import has_data

    place = place_from_settings(settings, engine)
    if has_data(engine):
        print(f"{home}: already has a store; nothing seeded", file=sys.stderr)
        if args.orders:
            from data.orders import list_orders

            if list_orders(engine, limit=1)[1]:
                print(f"{home}: already has customer orders; --orders ignored", file=sys.stderr)
            else:
                from data.demo import seed_orders

                seed_orders(engine, place, args.orders)
                print(f"{args.orders} demo customer orders added", file=sys.stderr)
    else:
        _seed_with_progress(engine, place, args)
    if start:
        from app.tui import make_app

        make_app(settings, engine=engine, place=place).run()
    return 0


def _seed_with_progress(engine, place, args) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from data.demo import seed_demo

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        tasks: dict[str, int] = {}

        def report(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total)
            progress.update(tasks[step], completed=done, total=total)

        result = seed_demo(engine, place, products=args.products, sales=getattr(args, "sales", 0),
                           days=getattr(args, "days", 7), orders=args.orders, progress=report)
    orders = f", {result['orders']} customer orders" if result["orders"] else ""
    console.print(f"demo store ready: {result['products']} products, {result['members']} members, "
                  f"{result['sales']} sales{orders}; log in as 1 / 1111 (cashier) or 9 / 9999 (manager)")


if __name__ == "__main__":
    raise SystemExit(main())
