"""F8: customer orders of this store (and, with a site database, of every store).

The list loads in a worker on open and on every keystroke in the search (newest first, a page of
them; the count says how many match), with the detail of the order the cursor lands on unless that
one is shown already: list and detail arrive together and are painted in one frame. Actions work on
the selection — or on the highlighted order when nothing is selected — and report per order what
they did or why not. Enter and `n` hand back to the sale screen, which owns the cart:
("recall", number) or ("new", None).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from app.context import SiteOffline, TillContext
from data import orders
from data.money import fmt_money, fmt_qty
from data.operators import OperatorInfo
from data.orders import ActionResult, OrderError, OrderFilter, OrderView
from data.text import printable
from widgets.key_footer import KeyFooter
from widgets.order_list import OrderList

PAGE = 50  # a screenful and more; the summary says how many match, the search narrows
NARROW_BELOW = 110  # below this width the detail goes under the list
DETAIL_WIDTH = 32  # as #orders-detail in till.tcss
STATUS_CYCLE = ("active", None, "open", "ready", "partial", "delivered", "cancelled")


@dataclass(frozen=True)
class Loaded:
    rows: list
    count: int
    detail: OrdersScreen.DetailLoaded | None = None  # of the order the cursor lands on, if not shown yet


class OrdersScreen(Screen[tuple[str, str | None] | None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="orders_close"),
        Binding("slash", "search", "Search", id="orders_search", key_display="/"),
        Binding("o", "status", "Status", id="orders_status", tooltip="Cycle the status filter"),
        Binding("p", "print_copies", "Copy", id="orders_print", tooltip="Print receipt copies of the selection"),
        Binding("l", "picking", "Picking", id="orders_picking", tooltip="Print picking lists of the selection"),
        Binding("r", "ready", "Ready", id="orders_ready", tooltip="Mark the selection ready for pickup"),
        Binding("d", "delivered", "Delivered", id="orders_delivered", tooltip="Mark the selection delivered"),
        Binding("x", "cancel_orders", "Cancel", id="orders_cancel", tooltip="Cancel the selection (manager)"),
        Binding("n", "new", "New", id="orders_new", tooltip="Make a new order from the current cart"),
        Binding("i", "stock", "Stock", id="orders_stock", show=False, tooltip="Stock of an item with reservations"),
        # The list's own ↑/↓ when it has focus; from the search field these take the cursor (and the
        # keys) back to the list.
        Binding("down", "from_search(1)", "Down", id="orders_search_down", show=False),
        Binding("up", "from_search(-1)", "Up", id="orders_search_up", show=False),
        Binding("shift+down", "from_search(1, True)", "Extend", id="orders_search_extend_down", show=False),
        Binding("shift+up", "from_search(-1, True)", "Extend", id="orders_search_extend_up", show=False),
        # priority: from the search field too, where the field's own Ctrl+A (go to start) would take it;
        # the list's binding id, so that one [keys] line remaps both
        Binding("ctrl+a", "select_all_shown", "All", id="orders_select_all", priority=True),
    ]

    class Results(Message):
        def __init__(self, action: str, results: list[ActionResult]) -> None:
            super().__init__()
            self.action, self.results = action, results

    class Offline(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class ListLoaded(Message):
        def __init__(self, seq: int, loaded: Loaded) -> None:
            super().__init__()
            self.seq, self.loaded = seq, loaded

    class DetailLoaded(Message):
        def __init__(self, number: str, order: OrderView, history: list, generation: int) -> None:
            super().__init__()
            self.number, self.order, self.history, self.generation = number, order, history, generation

    def __init__(self, ctx: TillContext, operator: OperatorInfo, *, approve, cart_has_lines: bool = False) -> None:
        """`approve(reason, action)` is the sale screen's: a manager on the till, or a manager's PIN."""
        super().__init__()
        self.ctx, self.operator, self.approve = ctx, operator, approve
        self.cart_has_lines = cart_has_lines
        self.status_filter: str | None = "active"
        self.filter_error = ""
        self._seq = 0
        self.count = 0
        self.selected_count = 0
        self.offline: str | None = None
        self.detail: OrderView | None = None
        self.busy = False
        self._binding_state: tuple | None = None
        # An action changed orders: details read before it (the one shown too) are out of date.
        self._generation = 0
        self._detail_generation = 0
        self._fetching: str | None = None  # the order whose detail a worker reads now
        self._summary_text = ""

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        width = self.app.size.width
        room = width - DETAIL_WIDTH if width >= NARROW_BELOW else width
        with Vertical(id="orders-body"):
            with Horizontal(id="orders-top"):
                yield Label("Customer orders", id="orders-title")
                yield Label("", id="orders-summary")
            yield Input(placeholder="/ search: number, name, phone · status:open store:BKK01 from:2026-11-01",
                        id="orders-search")
            with Horizontal(id="orders-main"):
                yield OrderList(self.ctx.currency, self.ctx.place.timezone, width=room - 2, id="orders-list")
                yield Static("", id="orders-detail")
            yield Static("", id="orders-results")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < NARROW_BELOW, "-narrow")
        self.query_one(OrderList).focus()
        self.reload()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("print_copies", "picking", "ready", "delivered", "cancel_orders") and (
                self.offline or not self.query_one(OrderList).chosen()):
            return None
        if action == "new" and not self.cart_has_lines:
            return None
        return True

    # -- loading -----------------------------------------------------------------------------------
    def current_filter(self) -> OrderFilter:
        text = self.query_one("#orders-search", Input).value
        return OrderFilter.parse(text, status=self.status_filter)

    def reload(self) -> None:
        try:
            flt = self.current_filter()
            self.filter_error = ""
        except OrderError as exc:
            self.filter_error = str(exc)
            self._summary()
            return
        self._seq += 1
        shown = self.detail.number if self.detail is not None and self._detail_generation == self._generation else None
        self._load(self._seq, flt, self.query_one(OrderList).cursor_row, shown, self._generation)

    @work(thread=True, exclusive=True, group="orders-load")
    def _load(self, seq: int, flt: OrderFilter, cursor: int, shown: str | None, generation: int) -> None:
        """Blocking: the page of orders, and the detail of the one at `cursor` unless it is `shown`."""
        try:
            if self.ctx.has_site and seq == 1:
                from data.pickups import link_deposits

                # Deposits taken while the site was offline join their orders now.
                self.ctx.on_orders(lambda engine: link_deposits(self.ctx.engine, engine))
            rows, count = self.ctx.on_orders(orders.list_orders, flt, limit=PAGE, tz=self.ctx.place.timezone)
            detail = None
            if rows and (number := rows[min(cursor, len(rows) - 1)].number) != shown:
                detail = self._read_detail(number, generation)
        except SiteOffline as exc:
            self.post_message(self.Offline(str(exc)))
            return
        self.post_message(self.ListLoaded(seq, Loaded(rows, count, detail)))

    @on(ListLoaded)
    def _loaded(self, event: ListLoaded) -> None:
        if event.seq != self._seq:
            return  # a newer keystroke's result is on its way
        self.offline = None
        self.count = event.loaded.count
        table = self.query_one(OrderList)
        with self.app.batch_update():
            table.show(event.loaded.rows)  # Highlighted follows if the cursor is on another order now
            if event.loaded.detail is not None:
                self._detail(event.loaded.detail)
            elif not event.loaded.rows:
                self._no_detail()
            self._summary()
            self._refresh_bindings_if_changed()

    @on(Offline)
    def _offline(self, event: Offline) -> None:
        self.offline = event.reason
        self.query_one(OrderList).show([])
        self._no_detail()
        self._results_text(Text(f"{event.reason}. Orders cannot be shown now; selling goes on (Esc).",
                                style="bold"))
        self._summary()
        self._refresh_bindings_if_changed()

    def _refresh_bindings_if_changed(self) -> None:
        """The footer recomposes on every refresh (slow): only when what check_action says changes."""
        state = (bool(self.offline), bool(self.query_one(OrderList).chosen()), self.cart_has_lines)
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    def _summary(self) -> None:
        status = self.status_filter or "all"
        shown = len(self.query_one(OrderList).numbers)
        parts = [f"status: {status}", f"{shown} of {self.count}" if self.count > shown else f"{self.count} orders"]
        if self.selected_count:
            parts.append(f"{self.selected_count} selected")
        if self.offline:
            parts = ["site offline"]
        if self.filter_error:
            parts.append(self.filter_error)
        text = " · ".join(parts)
        if text != self._summary_text:  # unchanged (most keystrokes' selection): no repaint, no frame
            self._summary_text = text
            # Fixed one-line box: no layout pass needed for new text (it runs on every keystroke).
            self.query_one("#orders-summary", Label).update(Text(text), layout=False)

    @on(Input.Changed, "#orders-search")
    def _search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#orders-search")
    def _search_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(OrderList).focus()

    @on(OrderList.SelectionChanged)
    def _selection(self, event: OrderList.SelectionChanged) -> None:
        self.selected_count = event.count
        self._summary()
        self._refresh_bindings_if_changed()

    @on(OrderList.Highlighted, "#orders-list")
    def _highlighted(self, event: OrderList.Highlighted) -> None:
        """The cursor moved (keys, mouse, or the rows changed under it): that order's detail, at once
        (a read is a few milliseconds; with ↓ held, a late one for an order passed by is dropped)."""
        number = event.number
        if number is None:
            self._no_detail()
        elif (self.detail is None or self.detail.number != number
              or self._detail_generation != self._generation) and self._fetching != number:
            self._fetching = number
            self._fetch_detail(number, self._generation)

    def _no_detail(self) -> None:
        self.detail = None
        self.query_one("#orders-detail", Static).update("" if self.offline else Text("no orders match", style="italic"),
                                                        layout=False)

    @work(thread=True, exclusive=True, group="orders-detail")
    def _fetch_detail(self, number: str, generation: int) -> None:
        try:
            loaded = self._read_detail(number, generation)
        except SiteOffline as exc:
            self.post_message(self.Offline(str(exc)))
            return
        self.post_message(loaded or self.DetailLoaded(number, None, [], generation))

    def _read_detail(self, number: str, generation: int) -> DetailLoaded | None:
        """Blocking (workers): the order and its export history; None if it is gone meanwhile."""
        try:
            order = self.ctx.on_orders(orders.get_order, number)
        except OrderError:
            return None  # the next reload drops it
        history = self.ctx.on_orders(_history, number)  # the order's exports are where the order is
        return self.DetailLoaded(number, order, history, generation)

    @on(DetailLoaded)
    def _detail(self, event: DetailLoaded) -> None:
        if self._fetching == event.number:
            self._fetching = None
        if event.order is None or event.generation != self._generation:
            return  # gone meanwhile, or read before an action changed it: the reload after it reads again
        if event.number != self.query_one(OrderList).highlighted:
            return
        self.detail = event.order
        self._detail_generation = event.generation
        # The box's size is the stylesheet's, not its text's: no layout pass (two, with Textual's
        # re-measure) for every order the cursor or a keystroke lands on.
        self.query_one("#orders-detail", Static).update(order_detail(event.order, self.ctx.currency, event.history),
                                                        layout=False)

    # -- keys --------------------------------------------------------------------------------------
    def action_search(self) -> None:
        self.query_one("#orders-search", Input).focus()

    def action_from_search(self, step: int, extend: bool = False) -> None:
        table = self.query_one(OrderList)
        table.focus()
        if extend:
            table.action_extend(step)
        else:
            table.action_cursor(step)

    def action_select_all_shown(self) -> None:
        table = self.query_one(OrderList)
        table.focus()
        table.action_select_all()

    def action_status(self) -> None:
        i = STATUS_CYCLE.index(self.status_filter) if self.status_filter in STATUS_CYCLE else 0
        self.status_filter = STATUS_CYCLE[(i + 1) % len(STATUS_CYCLE)]
        self.reload()

    def action_close(self) -> None:
        search = self.query_one("#orders-search", Input)
        if search.has_focus and search.value:
            search.value = ""
            self.query_one(OrderList).focus()
            return
        self.dismiss(None)

    def action_new(self) -> None:
        self.dismiss(("new", None))

    def action_stock(self) -> None:
        self.dismiss(("stock", None))

    @on(OrderList.Activated, "#orders-list")
    def _recall(self, event: OrderList.Activated) -> None:
        event.stop()
        self.dismiss(("recall", event.number))

    def _chosen(self) -> list[str]:
        return self.query_one(OrderList).chosen()

    def action_ready(self) -> None:
        self._run("ready", self._chosen())

    def action_delivered(self) -> None:
        self._run("delivered", self._chosen())

    def action_print_copies(self) -> None:
        self._run("copies", self._chosen())

    def action_picking(self) -> None:
        self._run("picking", self._chosen())

    @work(exclusive=True, group="orders-action")
    async def action_cancel_orders(self) -> None:
        numbers = self._chosen()
        if not numbers:
            return
        from widgets.dialogs import Prompt

        approver = await self.approve(f"cancel {len(numbers)} order(s)", "order.cancel")
        if approver is None:
            return
        reason = await self.app.push_screen_wait(Prompt(
            "Cancel orders", f"reason to cancel {', '.join(numbers[:3])}{' …' if len(numbers) > 3 else ''}",
            lambda t: t.strip(), hint="why (for the audit log) · Enter = cancel the orders · Esc = keep them"))
        if not reason:
            return
        self._run("cancel", numbers, approver=approver, reason=reason)

    def _run(self, action: str, numbers: list[str], **kw) -> None:
        if not numbers or self.busy:
            return
        self.busy = True
        self._results_text(Text(f"{action}: working on {len(numbers)} order(s) …"))
        self._act(action, numbers, kw)

    @work(thread=True, exclusive=True, group="orders-action")
    def _act(self, action: str, numbers: list[str], kw: dict) -> None:
        try:
            results = run_action(self.ctx, self.operator, action, numbers, exports=self.app.export_targets, **kw)
        except SiteOffline as exc:
            results = [ActionResult(n, False, str(exc)) for n in numbers]
        self.post_message(self.Results(action, results))

    @on(Results)
    def _results(self, event: Results) -> None:
        self.busy = False
        failed = [r for r in event.results if not r.ok]
        lines = Text()
        for r in event.results:
            lines.append(f"{r.number}: ", style="bold")
            lines.append(printable(r.message) + "\n", style="" if r.ok else "bold")
        self._results_text(lines)
        if failed:
            self.app.bell()
        if any(r.ok for r in event.results) and event.action in ("copies", "picking", "delivered", "cancel"):
            self.app.print_spool()
        self.query_one(OrderList).clear_selection()
        self.selected_count = 0
        self._generation += 1
        self.reload()

    def _results_text(self, text: Text) -> None:
        self.query_one("#orders-results", Static).update(text)

    @property
    def results_text(self) -> str:
        return str(self.query_one("#orders-results", Static).render())


def _history(engine, number: str) -> list:
    from data.health import export_history

    return export_history(engine, "order", number)


def order_detail(order: OrderView, currency: str, history: list = ()) -> Text:
    m = lambda v: fmt_money(v, currency)  # noqa: E731
    d = order.details
    t = Text()
    t.append(f"{order.number}  {order.status}\n", style="bold")
    t.append(printable(d.customer_name or "-") + "  " + printable(d.customer_phone) + "\n")
    t.append(f"total {m(order.total)} · paid {m(order.paid)} · due {m(order.balance)}\n", style="bold")
    how = {"pickup": f"pick up at {order.fulfil_store}", "deliver": "deliver", "ship": "ship"}[d.delivery_method]
    t.append(how + (f": {printable(d.delivery_address)}" if d.delivery_address else "") + "\n")
    if d.expected_date:
        t.append(f"expected {d.expected_date}\n")
    for line in order.lines:
        state = "" if line.status == "open" else f" ({line.status})"
        picked = f" {fmt_qty(line.picked)} picked" if line.picked and line.status != "delivered" else ""
        t.append(f"{fmt_qty(line.quantity):>4} x ", style="dim" if line.status == "voided" else "")
        t.append(printable(line.name), style="dim" if line.status == "voided" else "")
        t.append(f"{picked}{state}\n", style="dim")
    if d.comments:
        t.append("note: " + printable(d.comments) + "\n", style="italic")
    if history:
        t.append("exports\n", style="bold")
        for job in history:
            t.append(f" {printable(job.connector)} {job.event} {job.state}")
            if job.error:
                t.append(f": {printable(job.error)[:60]}", style="italic")
            t.append("\n")
    return t


def run_action(ctx: TillContext, operator: OperatorInfo, action: str, numbers: list[str], *,
               approver: OperatorInfo | None = None, reason: str = "", exports: tuple = ()) -> list[ActionResult]:
    """Blocking (a worker): one result per order, in order; one order's failure does not stop the rest."""
    from data import pickups, spool

    engine, place = ctx.engine, ctx.place
    if action == "ready":
        return ctx.on_orders(orders.mark_ready, numbers, operator=operator.code, exports=exports)
    out: list[ActionResult] = []
    for number in numbers:
        try:
            if action == "copies":
                order = ctx.on_orders(orders.get_order, number)
                receipts = [p.receipt_number for p in order.payments if p.receipt_number and p.kind in
                            ("deposit", "applied", "refund")]
                receipts = [r for r in dict.fromkeys(receipts) if _on_this_till(engine, r)]
                if not receipts:
                    out.append(ActionResult(number, False, "no receipt of this order on this till"))
                    continue
                for r in receipts:
                    spool.enqueue(engine, place.terminal_id, "copy", r)
                out.append(ActionResult(number, True, f"printing copy of {', '.join(receipts)}"))
            elif action == "picking":
                order = ctx.on_orders(orders.get_order, number)
                if not order.open_lines:
                    out.append(ActionResult(number, False, f"{order.status}: nothing left to pick"))
                    continue
                spool.enqueue(engine, place.terminal_id, "picking", order.number)
                out.append(ActionResult(number, True, f"printing picking list ({len(order.open_lines)} lines)"))
            elif action == "delivered":
                receipt, view = pickups.deliver_paid(engine, ctx.orders_db(), place, operator, number,
                                                     print_receipt=ctx.printer.enabled, exports=exports)
                out.append(ActionResult(number, True, f"delivered, receipt {receipt}" if receipt else "delivered"))
            elif action == "cancel":
                view = ctx.on_orders(orders.cancel_order, number, operator=operator.code, reason=reason,
                                     approved_by=approver.code if approver else None,
                                     exports=exports)
                given = pickups.give_back_deposits(engine, ctx.orders_db(), place, operator, approver or operator,
                                                   view, reason=reason, print_receipt=ctx.printer.enabled,
                                                   exports=exports)
                left = orders.get_order(ctx.orders_db(), number).credit
                msg = "cancelled, reservations released"
                if given:
                    msg += f"; deposit given back on {', '.join(given)}"
                if left > 0:
                    msg += f"; {fmt_money(left, ctx.currency)} paid elsewhere is refunded where it was paid"
                out.append(ActionResult(number, True, msg))
            else:
                out.append(ActionResult(number, False, f"unknown action {action}"))
        except OrderError as exc:
            out.append(ActionResult(number, False, _strip_number(str(exc), number)))
        except SiteOffline:
            raise
        except Exception as exc:  # noqa: BLE001 - one order's trouble is reported, the others go on
            out.append(ActionResult(number, False, f"{exc.__class__.__name__}: {escape(str(exc))[:120]}"))
    return out


def _strip_number(message: str, number: str) -> str:
    """Results already start with the order number."""
    prefix = f"{number}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _on_this_till(engine, receipt: str) -> bool:
    from sqlmodel import select

    from data.db import read_session
    from data.models import Sale

    with read_session(engine) as s:
        return s.exec(select(Sale.id).where(Sale.receipt_number == receipt)).first() is not None

