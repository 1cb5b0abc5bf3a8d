"""`till import products FILE.csv [--encoding E] [--dry-run]`: the command around data.product_import.

Prints the summary and each problem (the first SHOWN of each kind) on stdout. Exits 0 when every row
imported; 1 with one `till: error:` line when some rows had errors (the good rows are imported all the
same) or when the file as a whole cannot be read (then nothing is imported).
"""

from __future__ import annotations

import sys

from app.cli import CliError, _engine_for, read_input

SHOWN = 50
PROGRESS_FROM = 2000  # products; a bar on stderr when it is a terminal


def _show(lines: list[str], prefix: str = "") -> None:
    for line in lines[:SHOWN]:
        print(f"{prefix}{line}")
    if len(lines) > SHOWN:
        print(f"{prefix}… and {len(lines) - SHOWN} more")


def import_products_command(settings, args) -> int:
    from data.product_import import ImportFormatError, import_products

    path = args.file.expanduser()
    data = read_input(path)
    engine = _engine_for(settings)
    store = settings.store
    kw = {"encoding": args.encoding, "currency": store.currency, "dry_run": args.dry_run, "operator": "import",
          "store": store.id, "terminal": store.terminal, "source": path.name}
    try:
        if sys.stderr.isatty() and data.count(b"\n") >= PROGRESS_FROM:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("products"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task("products", total=None)
                result = import_products(engine, data, **kw,
                                         progress=lambda done, total: progress.update(task, completed=done,
                                                                                      total=total))
        else:
            result = import_products(engine, data, **kw)
    except ImportFormatError as exc:
        raise CliError(f"{path}: {exc}") from None
    print(f"{path.name}: {result.summary()}" + (" (dry run: nothing written)" if args.dry_run else ""))
    _show(result.errors)
    _show(result.warnings, "warning: ")
    sys.stdout.flush()
    if result.rejected:
        raise CliError(f"{result.rejected} of {result.rows} rows had errors and were not imported "
                       f"(the others were{' checked' if args.dry_run else ''})")
    return 0
