"""The drawer from the sale screen (F12): float, cash in and out, safe drops, the X report and the
blind day close. A mixin of SaleScreen: these flows use its status line, approvals and printer."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from textual import work

from app.devices.printer import PrinterError, PrintJob
from app.devices.receipt_layout import layout_report
from app.screens.count import CountScreen
from app.screens.report import ReportScreen
from data import reports
from data.cash import CashError, record_movement
from data.money import MoneyError, fmt_money, to_decimal
from widgets.dialogs import ConfirmDialog, Prompt

MOVEMENTS = {"cash_in": "Cash in", "cash_out": "Cash out", "safe_drop": "Safe drop"}


def _amount(text: str) -> Decimal:
    try:
        value = to_decimal(text)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if value <= 0:
        raise ValueError("the amount must be more than zero")
    if value != value.quantize(Decimal("0.01")) or value > Decimal("9999999"):
        raise ValueError("that is not an amount of cash; check it")
    return value


def _reason(text: str) -> str:
    if not text.strip():
        raise ValueError("say why, e.g. 'change from the bank' or 'paid the window cleaner'")
    return text.strip()


class CashActions:
    """Needs from its host: ctx, operator, cart, say, error, approve, _audit."""

    @work(exclusive=True, group="flow")
    async def count_float(self) -> None:
        ctx = self.ctx
        result = await self.app.push_screen_wait(
            CountScreen("Opening float: count the drawer", ctx.settings.cash.denominations, ctx.currency))
        if result is None or result[1] <= 0:
            return
        counts, total = result
        await asyncio.to_thread(record_movement, ctx.engine, ctx.place, self.operator, "float", total, counts=counts)
        self.say(f"float of {fmt_money(total, ctx.currency)} counted into the drawer")

    @work(exclusive=True, group="flow")
    async def cash_movement(self, kind: str) -> None:
        ctx = self.ctx
        label = MOVEMENTS[kind]
        amount = await self.app.push_screen_wait(Prompt(label, "amount", _amount))
        if amount is None:
            return
        reason = ""
        if kind != "safe_drop":
            reason = await self.app.push_screen_wait(Prompt(label, f"reason for {fmt_money(amount, ctx.currency)}",
                                                            _reason))
            if reason is None:
                return
        approver = None
        limit = ctx.settings.cash.movement_limit
        if kind != "safe_drop" and amount > limit:
            approver = await self.approve(f"{label.lower()} of {fmt_money(amount, ctx.currency)} is over "
                                          f"{fmt_money(limit, ctx.currency)}", label.lower())
            if approver is None:
                return
        try:
            await asyncio.to_thread(record_movement, ctx.engine, ctx.place, self.operator, kind, amount,
                                    reason=reason, approver=approver, limit=limit)
        except CashError as exc:
            self.error(str(exc))
            return
        self.say(f"{label.lower()}: {fmt_money(amount, ctx.currency)}" + (f" ({reason})" if reason else ""))

    @work(exclusive=True, group="flow")
    async def show_x_report(self) -> None:
        ctx = self.ctx
        doc = await asyncio.to_thread(reports.x_report, ctx.engine, ctx.place, cutoff=ctx.settings.store.cutoff)
        self._audit("report.x", doc.business_date)
        await self._show_report("X report", doc)

    async def _show_report(self, title: str, doc) -> None:
        lines = layout_report(doc, self.ctx.printer.width)
        if await self.app.push_screen_wait(ReportScreen(title, lines, self.ctx.printer.width)):
            self.print_lines(lines)

    @work(thread=True, group="printer", exit_on_error=False)
    def print_lines(self, lines: list[str]) -> None:
        try:
            self.ctx.printer.print_job(PrintJob(tuple(lines)))
        except PrinterError as exc:
            self.app.call_from_thread(self.say, f"report not printed: {exc}", "warning")

    @work(exclusive=True, group="flow")
    async def close_day(self) -> None:
        """Blind: the count first, then the variance; beyond the tolerance a manager and a reason."""
        ctx = self.ctx
        if self.cart.lines:
            self.error("finish or park the open sale before closing the day")
            return
        result = await self.app.push_screen_wait(
            CountScreen("Close day: count the drawer (blind)", ctx.settings.cash.denominations, ctx.currency))
        if result is None:
            return
        counts, counted = result
        kw = dict(cutoff=ctx.settings.store.cutoff, tolerance=ctx.settings.cash.variance_tolerance,
                  exports=self.app.export_targets)
        try:
            doc = await asyncio.to_thread(reports.close_day, ctx.engine, ctx.place, self.operator, counts, counted, **kw)
        except reports.VarianceNeedsApproval as exc:
            m = lambda v: fmt_money(v, ctx.currency)  # noqa: E731
            go_on = await self.app.push_screen_wait(ConfirmDialog(
                "Count does not match",
                f"Counted {m(counted)}, expected {m(exc.expected)}: variance {m(exc.variance)}, more than "
                f"{m(ctx.settings.cash.variance_tolerance)}. A manager must approve it with a reason. Go on?"))
            if not go_on:
                self.say("day not closed; count again when ready")
                return
            approver = await self.approve(f"day-close variance {m(exc.variance)}", "day close")
            if approver is None:
                return
            reason = await self.app.push_screen_wait(Prompt("Variance", "reason for the difference", _reason))
            if reason is None:
                return
            doc = await asyncio.to_thread(reports.close_day, ctx.engine, ctx.place, self.operator, counts, counted,
                                          approver=approver, reason=reason, **kw)
        lines = layout_report(doc, ctx.printer.width)
        if ctx.printer.enabled:
            self.print_lines(lines)
        self.say(f"day {doc.business_date} closed: Z #{doc.number}, variance {fmt_money(doc.variance, ctx.currency)}")
        await self._show_report(f"Z report #{doc.number}", doc)
