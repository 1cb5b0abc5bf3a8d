"""From the spool to paper: load the record, lay it out, send it. Blocking: run it in a worker.

Jobs leave the spool only once the printer took them; a failure leaves the job (and the ones after it)
pending for the next retry or reprint, so each receipt is printed once the printer is back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from app.context import TillContext
from app.devices.printer import PrinterError, PrintJob
from app.devices.receipt_layout import layout_order_confirmation, layout_picking_list, layout_receipt
from data import spool
from data.sales import receipt_doc


def receipt_lines(ctx: TillContext, receipt: str, *, copy: bool = False) -> list[str]:
    return layout_receipt(receipt_doc(ctx.engine, receipt), ctx.printer.width, copy=copy)


@dataclass(frozen=True)
class DrainResult:
    printed: tuple[str, ...]
    failed: str | None = None  # the receipt that could not be printed
    error: str | None = None
    waiting: int = 0  # jobs still in the spool


class Spooler:
    def __init__(self, ctx: TillContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()

    def drain(self) -> DrainResult:
        """Print every pending job of this terminal, in order, stopping at the first failure."""
        ctx = self.ctx
        with self._lock:
            printed: list[str] = []
            jobs = spool.pending(ctx.engine, ctx.place.terminal_id)
            for index, job in enumerate(jobs):
                try:
                    self._print(job)
                except PrinterError as exc:
                    spool.mark_failed(ctx.engine, job.id, str(exc))
                    return DrainResult(tuple(printed), job.reference, str(exc), len(jobs) - index)
                spool.mark_printed(ctx.engine, job.id)
                printed.append(job.reference)
            return DrainResult(tuple(printed))

    def _print(self, job: spool.SpoolJob) -> None:
        ctx = self.ctx
        try:
            lines = self._lines(job)
        except Exception as exc:  # noqa: BLE001 - a record that cannot be laid out must not jam the spool
            raise PrinterError(f"cannot lay out {job.reference}: {exc}") from exc
        drawer = job.open_drawer and job.kind == "receipt" and ctx.settings.printer.open_drawer_on_cash
        ctx.printer.print_job(PrintJob(tuple(lines), cut=True, open_drawer=drawer, code=job.reference))

    def _lines(self, job: spool.SpoolJob) -> list[str]:
        """Receipts come from this till's database; order papers from the orders database (the site's,
        if any: offline, they wait in the spool like a receipt for a printer that is off)."""
        ctx = self.ctx
        if job.kind not in ("order", "picking"):
            return receipt_lines(ctx, job.reference, copy=job.kind == "copy")
        from app.context import SiteOffline
        from data import orders

        try:
            order = ctx.on_orders(orders.get_order, job.reference)
        except SiteOffline as exc:
            raise PrinterError(str(exc)) from None
        place = ctx.place
        if job.kind == "picking":
            return layout_picking_list(orders.picking_doc(order, place.store_name, place.timezone), ctx.printer.width)
        return layout_order_confirmation(order, place.store_name, place.timezone, ctx.printer.width)
