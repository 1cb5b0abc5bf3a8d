"""From a receipt number to paper: load the record, lay it out, send it. Blocking: run it in a worker."""

from __future__ import annotations

from app.context import TillContext
from app.devices.printer import PrintJob
from app.devices.receipt_layout import layout_receipt
from data.sales import receipt_doc


def receipt_lines(ctx: TillContext, receipt: str, *, copy: bool = False) -> list[str]:
    return layout_receipt(receipt_doc(ctx.engine, receipt), ctx.printer.width, copy=copy)


def print_receipt(ctx: TillContext, receipt: str, *, open_drawer: bool = False, copy: bool = False) -> None:
    lines = receipt_lines(ctx, receipt, copy=copy)
    drawer = open_drawer and ctx.settings.printer.open_drawer_on_cash and not copy
    ctx.printer.print_job(PrintJob(tuple(lines), cut=True, open_drawer=drawer, code=receipt))
