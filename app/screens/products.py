"""Products and prices (F12 → "Products and prices", managers only; the back-office console pushes
`ProductsScreen(operator)` too): a live search (name, SKU or barcode; inactive products too), the
results, and Enter opens a product: price, name, VAT, active, its barcodes (`a` adds, Delete removes)
and its id in each configured connector's system (PEAK codes and the like).

The search waits for a short pause in typing and runs in a thread worker on the catalogue's index
(quick on 100,000 products); saving runs in the dialog's worker through data.product_admin, which
audits every change (a price change as `price.change` with the old and new price)."""

from __future__ import annotations

import logging
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from app.screens.save_dialog import FormDialog, Toggle
from data import product_admin
from data.barcodes import BarcodeError, validate_gtin
from data.money import fmt_money
from data.operators import OperatorInfo
from data.product_admin import ProductDetail, ProductEdit, ProductRow
from data.text import one_line, printable
from widgets.cart_table import right
from widgets.dialogs import Prompt
from widgets.key_footer import KeyFooter
from widgets.status_bar import StatusBar

log = logging.getLogger("till.console")

SEARCH_DELAY = 0.15  # seconds of calm in typing before the search runs
Saved = tuple[ProductDetail, list[str]]


def admin_connectors(settings) -> list[str]:
    """Connectors whose systems know products by their own ids (the site database is ours: no ids)."""
    return [c.name for c in settings.connectors if c.kind != "site"]


def _barcode(text: str) -> str:
    try:
        return validate_gtin(printable(text))
    except BarcodeError as exc:
        raise ValueError(str(exc)) from None


class ProductDialog(FormDialog[Saved]):
    FIELD_PREFIX = "pd-"

    """One product. Enter moves to the next field and saves on the last; Ctrl+S saves from anywhere;
    on the barcode list `a` adds one (check digit checked) and Delete removes the highlighted one.
    Nothing reaches the database before Save; Esc leaves the product as it was."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="product_form_cancel"),
        Binding("ctrl+s", "save", "Save", id="product_form_save", priority=True),
        Binding("a", "add_barcode", "Add barcode", id="product_barcode_add"),
        Binding("delete", "remove_barcode", "Remove barcode", id="product_barcode_remove"),
    ]

    class OwnerFound(Message):
        def __init__(self, code: str, owner: tuple[int, str] | None, error: str = "") -> None:
            super().__init__()
            self.code, self.owner, self.error = code, owner, error

    def __init__(self, detail: ProductDetail, *, connectors: list[str], currency: str, save, owner_of) -> None:
        """`save(edit)` and `owner_of(code)` are blocking (they run in this dialog's thread workers)."""
        super().__init__(save)
        self.detail = detail
        self.connectors = connectors
        self.currency = currency
        self.owner_of = owner_of
        self.barcodes: list[str] = list(detail.barcodes)

    @property
    def chain(self) -> list[str]:
        return ["name", "name_en", "price", "vat"] + [f"ext-{i}" for i in range(len(self.connectors))]

    def compose(self) -> ComposeResult:
        d = self.detail
        with Vertical(id="product-form", classes="dialog admin-form"):
            yield Label(Text(printable(f"{d.sku} · {d.name}"), no_wrap=True, overflow="ellipsis"), classes="dialog-title")
            with Grid(classes="form-grid"):
                yield Label("Name", classes="form-label")
                yield Input(value=printable(d.name), id="pd-name", classes="form-input")
                yield Label("English", classes="form-label")
                yield Input(value=printable(d.name_en), placeholder="English name (optional)", id="pd-name_en",
                            classes="form-input")
                yield Label(f"Price {self.currency}", classes="form-label")
                yield Input(value=str(d.price), placeholder="e.g. 45.50", id="pd-price", classes="form-input")
                yield Label("VAT %", classes="form-label")
                yield Input(value=str(d.vat_rate), placeholder="e.g. 7 or 0", id="pd-vat", classes="form-input")
                yield Label("Active", classes="form-label")
                yield Toggle("sold at the tills", value=d.active, id="pd-active", compact=True)
            yield Label("Barcodes · a adds · Del removes", classes="section-title")
            yield OptionList(id="pd-barcodes")
            yield Label("External ids", classes="section-title")
            if self.connectors:
                with Grid(classes="form-grid"):
                    for i, name in enumerate(self.connectors):
                        yield Label(Text(printable(name), no_wrap=True, overflow="ellipsis"), classes="form-label")
                        yield Input(value=printable(d.external_ids.get(name, "")),
                                    placeholder="id in that system; empty = none",
                                    id=f"pd-ext-{i}", classes="form-input")
            else:
                yield Static("no export connectors configured ([[connectors]] in till.toml)", classes="muted")
            others = {k: v for k, v in d.external_ids.items() if k not in self.connectors}
            if others:
                yield Static(Text(printable("also kept: " + ", ".join(f"{k} {v}" for k, v in sorted(others.items())))),
                             classes="muted")
            yield Static("", classes="admin-error")
            yield Static("Enter = next field · Tab = barcodes · Ctrl+S = save · Esc = cancel", classes="muted")
        yield KeyFooter(rows=1)

    def on_mount(self) -> None:
        self._show_barcodes()
        self.query_one("#pd-price", Input).focus()

    def _show_barcodes(self, highlight: int | None = None) -> None:
        options = self.query_one("#pd-barcodes", OptionList)
        options.clear_options()
        if self.barcodes:
            options.add_options([Option(Text(code), id=code) for code in self.barcodes])
            options.highlighted = min(highlight or 0, len(self.barcodes) - 1)
        else:
            options.add_option(Option(Text("no barcodes (the SKU still rings): a adds one", style="dim"),
                                      id="-none", disabled=True))
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("add_barcode", "remove_barcode"):
            if not isinstance(self.focused, OptionList):
                return False  # typing "a" in a field is a letter, not a barcode
            if action == "remove_barcode" and not self.barcodes:
                return None
        return True

    # -- barcodes ----------------------------------------------------------------------------------
    def action_add_barcode(self) -> None:
        def added(code: str | None) -> None:
            self.query_one("#pd-barcodes", OptionList).focus()
            if code is None:
                return
            if code in self.barcodes:
                self.show_error(f"barcode {code} is on this product already")
                return
            self.show_error(f"checking barcode {code} …")
            self._check_owner(code)

        self.app.push_screen(Prompt("Add barcode", f"barcode for {self.detail.sku}", _barcode,
                                    hint="EAN-13, EAN-8, UPC-A or GTIN-14 (check digit checked) · Esc = cancel"),
                             added)

    @work(thread=True, exclusive=True, group="product-owner", exit_on_error=False)
    def _check_owner(self, code: str) -> None:
        try:
            owner = self.owner_of(code)
        except Exception as exc:  # noqa: BLE001 - the save checks again; say why the check did not run
            log.exception("products: barcode owner check failed")
            self.post_message(self.OwnerFound(code, None, f"cannot check barcode {code}: {one_line(exc)}"))
            return
        self.post_message(self.OwnerFound(code, owner))

    @on(OwnerFound)
    def _owner_found(self, event: OwnerFound) -> None:
        event.stop()
        if event.error:
            self.fail(event.error)
            return
        if event.owner is not None and event.owner[0] != self.detail.id:
            self.fail(f"barcode {event.code} belongs to {event.owner[1]}; remove it there first")
            return
        self.barcodes.append(event.code)
        self._show_barcodes(len(self.barcodes) - 1)
        self.show_error(f"barcode {event.code} added to the list; Ctrl+S saves")

    def action_remove_barcode(self) -> None:
        options = self.query_one("#pd-barcodes", OptionList)
        index = options.highlighted
        if index is None or not self.barcodes or not 0 <= index < len(self.barcodes):
            return
        code = self.barcodes.pop(index)
        self._show_barcodes(index)
        self.show_error(f"barcode {code} taken off the list; Ctrl+S saves")

    # -- saving ------------------------------------------------------------------------------------
    def nothing_to_save(self, edit: ProductEdit) -> bool:
        if edit == ProductEdit():
            self.dismiss((self.detail, []))
            return True
        return False

    def collect(self) -> ProductEdit:
        """Only what differs from the product as it was opened: another manager's change to another
        field is not undone by this save."""
        d = self.detail
        # A name as it was shown is no change: an imported one may be longer than a typed one may be, or
        # hold control bytes the field leaves out, and must not stand in the way of a price change.
        name = d.name if self._value("name") == printable(d.name) else product_admin.check_name(self._value("name"))
        name_en = d.name_en if self._value("name_en") == printable(d.name_en) else \
            product_admin.check_name(self._value("name_en"), required=False)
        price = product_admin.parse_price(self._value("price"))
        vat = product_admin.parse_vat_rate(self._value("vat"))
        active = self.query_one("#pd-active", Checkbox).value
        ext = {}
        for i, connector in enumerate(self.connectors):
            was = d.external_ids.get(connector, "")
            if self._value(f"ext-{i}") == printable(was):
                continue
            value = product_admin.check_external_id(self._value(f"ext-{i}"))
            if value != was:
                ext[connector] = value
        return ProductEdit(
            name=name if name != d.name else None, name_en=name_en if name_en != d.name_en else None,
            price=price if price != d.price else None, vat_rate=vat if vat != d.vat_rate else None,
            active=active if active != d.active else None,
            add_barcodes=tuple(c for c in self.barcodes if c not in d.barcodes),
            remove_barcodes=tuple(c for c in d.barcodes if c not in self.barcodes),
            external_ids=ext)

    def refocus_on(self, reason: str) -> str | None:
        reason = reason.lower()
        for word, target in (("price", "#pd-price"), ("vat", "#pd-vat"), ("name", "#pd-name"),
                             ("barcode", "#pd-barcodes"), ("external id", "#pd-ext-0")):
            if word in reason:
                return target if self.query(target) else None
        return None


class ProductsScreen(Screen):
    BINDINGS = [
        Binding("escape", "close", "Back", id="products_close", tooltip="Back to where you came from"),
        Binding("enter", "open", "Open", id="products_open", priority=True,
                tooltip="Price, name, VAT, barcodes and external ids of the highlighted product"),
        Binding("down", "move(1)", "Down", id="products_down", show=False),
        Binding("up", "move(-1)", "Up", id="products_up", show=False),
        Binding("pagedown", "move(10)", "Page down", id="products_pgdn", show=False),
        Binding("pageup", "move(-10)", "Page up", id="products_pgup", show=False),
    ]

    class Results(Message):
        def __init__(self, seq: int, query: str, rows: list[ProductRow], error: str = "") -> None:
            super().__init__()
            self.seq, self.query, self.rows, self.error = seq, query, rows, error

    class Opened(Message):
        def __init__(self, detail: ProductDetail | None, error: str = "") -> None:
            super().__init__()
            self.detail, self.error = detail, error

    def __init__(self, operator: OperatorInfo, query: str = "") -> None:
        super().__init__()
        self.operator = operator
        self._initial = query
        self.rows: list[ProductRow] = []
        self.shown_query: str | None = None
        self._seq = 0
        self._timer = None
        self._opening = False
        self._open_when_shown = False  # Enter came before the results of the last keystroke
        self._keep_status = False  # what a save said stays up while the results are read again

    @property
    def ctx(self):
        return self.app.ctx

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        store = self.ctx.settings.store
        yield Label(Text(printable(f"Products and prices · {store.id}/{store.terminal}")), classes="admin-title")
        yield Input(value=self._initial, placeholder="search: name, SKU or barcode (inactive products too)",
                    id="products-search")
        yield DataTable(id="products-table", cursor_type="row", zebra_stripes=True)
        yield StatusBar(id="products-status")
        yield KeyFooter(rows=1)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.can_focus = False  # the search field keeps focus; ↑/↓ move the highlight
        fixed = {"sku": 10, "price": 10, "vat": 4, "barcode": 13, "state": 8}
        name = max(14, self.app.size.width - sum(fixed.values()) - 2 * 6 - 2)  # cell padding, scrollbar
        table.add_column("SKU", key="sku", width=fixed["sku"])
        table.add_column("Name", key="name", width=name)
        table.add_column(right("Price", fixed["price"]), key="price", width=fixed["price"])
        table.add_column(right("VAT", fixed["vat"]), key="vat", width=fixed["vat"])
        table.add_column("Barcode", key="barcode", width=fixed["barcode"])
        table.add_column("", key="state", width=fixed["state"])
        store = self.ctx.settings.store
        self.query_one(StatusBar).place = f"{store.id}/{store.terminal} · {self.operator.name}"
        if not self.operator.is_manager:
            self.say("products and prices are for managers", "error")
        else:
            self.say("type part of a name, SKU or barcode · ↑/↓ choose · Enter opens · Esc back")
        self.query_one(Input).focus()
        if self._initial:
            self.search_now(self._initial)

    def say(self, message: str, level: str = "info") -> None:
        self.query_one(StatusBar).say(message, level)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "open":
            if not self.operator.is_manager:
                return False
            return True if self.highlighted is not None else None
        return True

    @property
    def highlighted(self) -> ProductRow | None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    # -- search ------------------------------------------------------------------------------------
    @on(Input.Changed, "#products-search")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DELAY, lambda: self.search_now(event.value))

    @on(Input.Submitted, "#products-search")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()  # Enter while "open" is greyed (no results yet): the same as the binding
        self.action_open()

    def set_query(self, code: str) -> None:
        """A scan from the serial scanner: the code becomes the search."""
        search = self.query_one("#products-search", Input)
        search.value = code
        search.focus()
        self.search_now(code)

    def search_now(self, query: str) -> None:
        self._timer = None
        self._seq += 1
        self._search(self._seq, query)

    @work(thread=True, exclusive=True, group="products-search", exit_on_error=False)
    def _search(self, seq: int, query: str) -> None:
        try:
            rows = product_admin.search_products(self.ctx.engine, query) if query.strip() else []
        except Exception as exc:  # noqa: BLE001
            log.exception("products: search failed")
            self.post_message(self.Results(seq, query, [], f"search failed: {one_line(exc)}"))
            return
        self.post_message(self.Results(seq, query, rows))

    @on(Results)
    def _results(self, event: Results) -> None:
        if event.seq != self._seq:
            return  # a newer search is on its way
        had = self.highlighted is not None
        keep = self.highlighted.id if had else None
        self.rows, self.shown_query = event.rows, event.query
        currency = self.ctx.currency
        table = self.query_one(DataTable)
        with self.app.batch_update():
            table.clear()
            for p in event.rows:
                table.add_row(Text(printable(p.sku)), Text(printable(p.display_name), no_wrap=True, overflow="ellipsis"),
                              right(fmt_money(p.price, currency), 10), right(f"{p.vat_rate}", 4),
                              Text(printable(p.barcode or "")), Text("" if p.active else "inactive", style="bold"),
                              key=str(p.id))
            for i, p in enumerate(event.rows):
                if p.id == keep:
                    table.move_cursor(row=i)
                    break
        if event.error:
            self.app.bell()
            self.say(event.error, "error")
        elif self._keep_status:
            self._keep_status = False
        elif not event.query.strip():
            self.say("type part of a name, SKU or barcode · ↑/↓ choose · Enter opens · Esc back")
        elif not event.rows:
            self.say(f"nothing matches {printable(event.query)!r}")
        else:
            more = " (the first ones; type more to narrow)" if len(event.rows) >= product_admin.catalog.SEARCH_LIMIT else ""
            self.say(f"{len(event.rows)} shown{more} · ↑/↓ choose · Enter opens · Esc back")
        if had != (self.highlighted is not None):
            self.refresh_bindings()
        if self._open_when_shown:
            self._open_when_shown = False
            if self.rows:
                self.action_open()

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    # -- a product ---------------------------------------------------------------------------------
    def action_open(self) -> None:
        if self._timer is not None or self.query_one(Input).value != self.shown_query:
            # Enter before the results of the last keystroke: search now, open when they are in.
            self._open_when_shown = True
            self.search_now(self.query_one(Input).value)
            return
        row = self.highlighted
        if row is None or self._opening:
            if row is None:
                self.app.bell()
            return
        self._opening = True
        self._load(row.id)

    @work(thread=True, exclusive=True, group="products-open", exit_on_error=False)
    def _load(self, product_id: int) -> None:
        try:
            detail = product_admin.get_product(self.ctx.engine, product_id)
        except Exception as exc:  # noqa: BLE001
            log.exception("products: cannot read a product")
            self.post_message(self.Opened(None, f"cannot read the product: {one_line(exc)}"))
            return
        self.post_message(self.Opened(detail, "" if detail else "that product is gone; search again"))

    @on(Opened)
    def _opened(self, event: Opened) -> None:
        self._opening = False
        if event.detail is None:
            self.app.bell()
            self.say(event.error, "error")
            return
        ctx, engine = self.ctx, self.ctx.engine
        connectors = admin_connectors(ctx.settings)
        where: dict[str, Any] = {"by": self.operator.code, "connectors": connectors, **ctx.audit_where()}
        product_id = event.detail.id

        def save(edit: ProductEdit) -> Saved:  # runs in the dialog's thread worker
            return product_admin.save_product(engine, product_id, edit, **where)

        self.app.push_screen(ProductDialog(event.detail, connectors=connectors, currency=ctx.currency, save=save,
                                           owner_of=lambda code: product_admin.barcode_owner(engine, code)),
                             self._saved)

    def _saved(self, result: Saved | None) -> None:
        self.query_one(Input).focus()
        if result is None:
            self.say("product unchanged")
            return
        detail, said = result
        if said:
            self.say(printable(f"{detail.sku} saved: " + "; ".join(said)))
        else:
            self.say(printable(f"{detail.sku}: nothing to change"))
        self._keep_status = True
        self.search_now(self.query_one(Input).value)

    def action_close(self) -> None:
        self.app.pop_screen()
