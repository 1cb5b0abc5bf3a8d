"""The manager's console on the site database (`[database] url` is the site itself): every store's
sales per business day, kept Z reports, stock with reservations, and from here the customer orders
of all stores, integration health, operators and products. Reads run in workers; the table shows
what came back."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label

from data.money import fmt_money, fmt_qty
from data.operators import OperatorInfo
from data.text import printable
from widgets.dialogs import ChoiceDialog
from widgets.key_footer import KeyFooter
from widgets.status_bar import StatusBar

VIEWS = {"sales": "Sales per day", "z": "Z reports", "stock": "Stock and reservations", "tills": "Tills' exports"}
STORE_KEYS = "123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Loaded:
    view: str
    store: str | None
    columns: tuple[str, ...]
    rows: list[tuple]
    keys: list[str]
    note: str = ""
    items: list = field(default_factory=list)
    """The records behind the rows (the Z view opens one)."""


class BackOfficeScreen(Screen):
    BINDINGS = [
        Binding("s", "switch_store", "Store", id="backoffice_store", tooltip="Show one store or all stores"),
        Binding("1", "view('sales')", "Sales/day", id="backoffice_sales"),
        Binding("2", "view('z')", "Z reports", id="backoffice_z"),
        Binding("3", "view('stock')", "Stock", id="backoffice_stock"),
        Binding("4", "view('tills')", "Tills", id="backoffice_tills",
                tooltip="Every till's outbox per connector, as each last reported it"),
        Binding("slash", "search", "Search", id="backoffice_search", key_display="/", tooltip="Stock: find items by name, sku, barcode"),
        Binding("enter", "open", "Open", id="backoffice_open", tooltip="Show the highlighted Z report"),
        Binding("f8", "orders", "Orders", id="backoffice_orders", tooltip="Customer orders of every store"),
        Binding("f11", "health", "Health", id="backoffice_health", tooltip="Integration health"),
        Binding("o", "operators", "Operators", id="backoffice_operators", tooltip="Operators and roles"),
        Binding("p", "products", "Products", id="backoffice_products", tooltip="Products and prices"),
        Binding("r", "reload", "Refresh", id="backoffice_reload"),
        Binding("t", "till", "Sale screen", id="backoffice_till", show=False,
                tooltip="Sell from this console (sales go straight into the site database)"),
        Binding("f12", "logout", "Log out", id="backoffice_logout"),
    ]

    class Ready(Message):
        def __init__(self, loaded: Loaded) -> None:
            super().__init__()
            self.loaded = loaded

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, operator: OperatorInfo) -> None:
        super().__init__()
        self.operator = operator
        self.store: str | None = None  # None: every store
        self.view_name = "sales"
        self.loaded: Loaded | None = None

    @property
    def ctx(self):
        return self.app.ctx

    def compose(self) -> ComposeResult:
        with Vertical(id="backoffice-body"):
            with Horizontal(id="backoffice-top"):
                yield Label("Back office", id="backoffice-title")
                yield Label("", id="backoffice-where")
            yield Input(placeholder="/ find items: name, sku or barcode · Enter searches · Esc back to the table",
                        id="backoffice-search")
            yield DataTable(id="backoffice-table", cursor_type="row", zebra_stripes=True)
        yield StatusBar(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        bar = self.query_one(StatusBar)
        bar.place = f"{self.ctx.settings.store.id} · {self.operator.name} · site database"
        bar.devices = self.app.device_text()
        self.query_one("#backoffice-search").display = False
        self.query_one(DataTable).focus()
        self.action_reload()

    def say(self, message: str, level: str = "info") -> None:
        self.query_one(StatusBar).say(message, level)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "search":
            return True if self.view_name == "stock" else None
        if action == "open":
            return True if self.view_name == "z" else None
        if action in ("operators", "products"):
            return True if self.operator.is_manager else None
        return True

    # -- loading -----------------------------------------------------------------------------------
    def _where(self) -> None:
        store = self.store or "all stores"
        self.query_one("#backoffice-where", Label).update(
            Text(f"{VIEWS[self.view_name]} · {printable(store)} · s switches store · 1–4 views"))

    def action_reload(self) -> None:
        self._where()
        query = self.query_one("#backoffice-search", Input).value if self.view_name == "stock" else ""
        self.say(f"loading {VIEWS[self.view_name].lower()} …")
        self._load(self.view_name, self.store, query)

    @work(thread=True, exclusive=True, group="backoffice", exit_on_error=False)
    def _load(self, view: str, store: str | None, query: str) -> None:
        try:
            loaded = load(self.ctx, view, store, query)
        except Exception as exc:  # noqa: BLE001 - one line on the screen; the console goes on
            from app.context import offline_reason

            self.post_message(self.Failed(offline_reason(exc)))
            return
        self.post_message(self.Ready(loaded))

    @on(Ready)
    def _ready(self, event: Ready) -> None:
        loaded = event.loaded
        if loaded.view != self.view_name or loaded.store != self.store:
            return  # the operator moved on meanwhile
        self.loaded = loaded
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns(*loaded.columns)
        for key, row in zip(loaded.keys, loaded.rows):
            table.add_row(*row, key=key)
        self.say(loaded.note or f"{len(loaded.rows):,} row(s)")
        self.refresh_bindings()

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.say(f"cannot read the site database: {event.error}", "error")

    # -- actions -----------------------------------------------------------------------------------
    def action_view(self, name: str) -> None:
        if name not in VIEWS:
            return
        self.view_name = name
        search = self.query_one("#backoffice-search", Input)
        search.display = name == "stock"
        self.query_one(DataTable).focus()
        self.refresh_bindings()
        self.action_reload()

    @work(exclusive=True, group="flow")
    async def action_switch_store(self) -> None:
        import asyncio

        from data.back_office import stores

        try:
            found = await asyncio.to_thread(stores, self.ctx.engine)
        except Exception as exc:  # noqa: BLE001
            self.say(f"cannot read the stores: {exc}", "error")
            return
        choices = [("0", "All stores", "*")]
        choices += [(STORE_KEYS[i], f"{s.id}  {s.name}", s.id) for i, s in enumerate(found[:len(STORE_KEYS)])]
        picked = await self.app.push_screen_wait(ChoiceDialog("Store", "Which store?", choices))
        if picked is None:
            return
        self.store = None if picked == "*" else picked
        self.action_reload()

    def action_search(self) -> None:
        self.query_one("#backoffice-search", Input).focus()

    @on(Input.Submitted, "#backoffice-search")
    def _searched(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(DataTable).focus()
        self.action_reload()

    @on(DataTable.RowSelected, "#backoffice-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.view_name != "z" or not self.loaded or table.row_count == 0:
            return
        from app.devices.receipt_layout import layout_report
        from app.screens.report import ReportScreen
        from data.reports import report_from_json

        if not 0 <= table.cursor_row < len(self.loaded.items):
            return
        row = self.loaded.items[table.cursor_row]
        try:
            doc = report_from_json(row.report)
        except (KeyError, ValueError, TypeError) as exc:
            self.say(f"{row.reference}: the kept report cannot be read ({exc})", "error")
            return
        self.app.push_screen(ReportScreen(row.reference, layout_report(doc, self.ctx.printer.width),
                                          self.ctx.printer.width))

    @work(exclusive=True, group="flow")
    async def action_orders(self) -> None:
        from app.screens.inventory import InventoryScreen
        from app.screens.orders import OrdersScreen

        choice = await self.app.push_screen_wait(OrdersScreen(self.ctx, self.operator, approve=self._approve))
        if not choice:
            return
        kind, number = choice
        if kind == "recall":
            self.say(f"{number}: orders are recalled for pickup or change at a till; here they are managed only")
        elif kind == "stock" and number:
            import asyncio

            from data import orders

            try:
                inv = await asyncio.to_thread(self.ctx.on_orders, orders.inventory, number)
            except Exception as exc:  # noqa: BLE001
                self.say(str(exc), "error")
                return
            await self.app.push_screen_wait(InventoryScreen(inv, self.ctx.settings.store.timezone))

    async def _approve(self, reason: str, action: str):
        """The back office is for managers: a manager approves by being logged in."""
        return self.operator if self.operator.is_manager else None

    def action_health(self) -> None:
        from app.screens.health import HealthScreen

        self.app.push_screen(HealthScreen(self.ctx, self.operator))

    def action_operators(self) -> None:
        self._push_manager_screen("app.screens.operators", "OperatorsScreen")

    def action_products(self) -> None:
        self._push_manager_screen("app.screens.products", "ProductsScreen")

    def _push_manager_screen(self, module: str, name: str) -> None:
        import importlib

        try:
            screen = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            self.say("not available in this version", "warning")
            return
        self.app.push_screen(screen(self.operator))

    def action_till(self) -> None:
        from app.screens.sale import SaleScreen

        self.app.push_screen(SaleScreen(self.operator))

    def action_logout(self) -> None:
        from data import audit

        audit.record_now(self.ctx.engine, "logout", operator=self.operator.code, **self.ctx.audit_where())
        self.app.pop_screen()


def load(ctx, view: str, store: str | None, query: str) -> Loaded:
    """Blocking (a worker): the rows of one view, formatted for the table."""
    from data import back_office

    engine, settings = ctx.engine, ctx.settings
    currency, zone = settings.store.currency, settings.store.timezone

    def money(v) -> Text:
        return Text(fmt_money(v, currency), justify="right")

    if view == "sales":
        days = back_office.sales_by_day(engine, store, timezone=zone, cutoff=settings.store.cutoff)
        rows = [(d.business_date, d.store_id, Text(f"{d.receipts:,}", justify="right"), money(d.sales),
                 money(d.refunds), money(d.net), money(d.deposits), money(d.vat)) for d in days]
        return Loaded(view, store, ("Day", "Store", "Receipts", "Sales", "Refunds", "Net", "Deposits", "VAT"), rows,
                      [f"{d.business_date}/{d.store_id}" for d in days],
                      note="" if days else "no receipts in the last 14 days")
    if view == "z":
        zs = back_office.z_reports(engine, store)
        rows = [(z.business_date, z.store_id, z.terminal, f"Z{z.z_number}", money(z.sales_total),
                 money(z.expected_cash), money(z.counted_cash), money(z.variance)) for z in zs]
        return Loaded(view, store, ("Day", "Store", "Till", "Z", "Sales", "Expected", "Counted", "Variance"),
                      rows, [str(z.id) for z in zs], note="" if zs else "no Z reports yet", items=zs)
    if view == "tills":
        from app.site_link import age
        from data.types import utcnow

        now = utcnow()
        tills = back_office.till_statuses(engine, store)
        rows = [(t.store_id, t.terminal, Text(printable(t.connector)), Text(f"{t.waiting:,}", justify="right"),
                 Text(f"{t.failed:,}", style="bold" if t.failed else "", justify="right"),
                 age(now - t.oldest_waiting) if t.oldest_waiting else "",
                 age(now - t.reported_at) + " ago", Text(printable(t.last_error), overflow="ellipsis", no_wrap=True))
                for t in tills]
        return Loaded(view, store, ("Store", "Till", "Connector", "Waiting", "Failed", "Oldest", "Reported", "Last error"),
                      rows, [f"{t.store_id}/{t.terminal}/{t.connector}" for t in tills],
                      note="" if tills else "no till has reported yet (tills report through their site connector)")
    items = back_office.stock(engine, store, query=query)
    rows = [(Text(printable(i.sku)), Text(printable(i.name), overflow="ellipsis", no_wrap=True), i.store_id,
             Text(fmt_qty(i.on_hand), justify="right"), Text(fmt_qty(i.reserved), justify="right"),
             Text(fmt_qty(i.available), justify="right", style="bold" if i.available <= 0 else ""))
            for i in items]
    note = "" if items else ("no item matches" if query else "no stock levels yet")
    return Loaded(view, store, ("SKU", "Item", "Store", "On hand", "Reserved", "Available"), rows,
                  [f"{i.sku}/{i.store_id}" for i in items], note=note)
