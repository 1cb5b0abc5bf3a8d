"""The sale screen: where a cashier lives all day. The scan field always has focus; every other action
is an F-key binding. Multi-step actions (price override → manager PIN, …) are async workers that wait
on typed dialogs; database work in them runs in a thread."""

from __future__ import annotations

import asyncio
import logging
import re
from decimal import Decimal

from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label

from app.error_guard import one_line
from app.screens.cash import CashActions
from app.screens.order_actions import OrderActions
from data import audit, drafts, spool
from data.cart import Cart, CartError, Discount, parse_discount, parse_quantity
from data.catalog import ProductInfo, lookup
from data.members import create_member, find_member
from data.money import fmt_money, to_decimal, MoneyError
from data.operators import OperatorInfo
from data.phones import PhoneError
from data.pricing import discount_amount, discount_percent_of, price_cart
from data.sales import SaleError, commit_sale, last_receipt_number
from data.text import printable
from widgets.cart_table import CartTable, cart_rows
from widgets.fields import OrderedInput
from widgets.key_footer import KeyFooter
from widgets.dialogs import ConfirmDialog, Prompt
from widgets.status_bar import StatusBar
from widgets.totals_panel import LastSale, TotalsPanel

log = logging.getLogger(__name__)

QTY_CODE = re.compile(r"^\s*([^*\s]+)\s*\*\s*(.+?)\s*$")
# Things a scanner or a cashier types as a code: digits, or a SKU-like token without spaces.
CODE_LIKE = re.compile(r"^[0-9]+$")

EDIT_ACTIONS = {"search", "member", "quantity", "price", "discount", "basket_discount", "void", "park"}
LINE_ACTIONS = {"quantity", "price", "discount", "void"}


def parse_price(text: str) -> Decimal:
    try:
        value = to_decimal(text)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if value < 0:
        raise ValueError("a price cannot be negative")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("a price has at most 2 decimal places")
    if value > Decimal("9999999"):
        raise ValueError("that price is too high; check it")
    return value


def _quantity(text: str) -> Decimal:
    try:
        return parse_quantity(text)
    except CartError as exc:
        raise ValueError(str(exc)) from None


def _discount(text: str) -> Discount:
    try:
        return parse_discount(text)
    except CartError as exc:
        raise ValueError(str(exc)) from None


class SaleScreen(OrderActions, CashActions, Screen):
    BINDINGS = [
        Binding("f2", "search", "Search", id="search", tooltip="Find a product by name, SKU or barcode"),
        Binding("f3", "member", "Member", id="member", tooltip="Attach a member by phone"),
        Binding("f4", "quantity", "Qty", id="quantity", tooltip="Change the quantity of the selected line"),
        Binding("f5", "price", "Price", id="price", tooltip="Override the price (manager PIN)"),
        Binding("f6", "discount", "Disc", id="discount", tooltip="Discount on the selected line"),
        Binding("shift+f6", "basket_discount", "Basket", id="basket_discount", tooltip="Discount on the basket"),
        Binding("delete", "void", "Void", id="void", priority=True, tooltip="Void the selected line"),
        Binding("f7", "park", "Park", id="park", tooltip="Park this sale, or recall a parked one"),
        Binding("f8", "orders", "Orders", id="orders", tooltip="Customer orders: list, new order, pickup"),
        Binding("f9", "refund", "Refund", id="refund", tooltip="Refund by receipt number"),
        Binding("f10", "pay", "Pay", id="pay", tooltip="Take payment"),
        Binding("f11", "health", "Exports", id="health", tooltip="Integration health: export connectors and jobs"),
        Binding("f12", "menu", "Menu", id="menu", tooltip="Reprint, receipt, log out"),
        Binding("ctrl+r", "reprint", "Reprint", id="reprint", show=False, tooltip="Reprint the last receipt"),
        # priority: the scan field has focus, and its own (idle) scroll keys would stand in for these
        # in the command palette
        Binding("up", "cursor(-1)", "Up", id="cart_up", show=False, priority=True),
        Binding("down", "cursor(1)", "Down", id="cart_down", show=False, priority=True),
    ]

    def __init__(self, operator: OperatorInfo) -> None:
        super().__init__()
        self.operator = operator
        self.cart = Cart()
        self.held = None  # PaymentState with tenders already taken, kept across Escape
        self._status_bar: StatusBar | None = None
        self._binding_state: tuple | None = None

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        ctx = self.app.ctx
        with Horizontal(id="sale-body"):
            with Vertical(id="sale-main"):
                with Horizontal(id="scan-row"):
                    yield Label("Scan ›", id="scan-label")
                    yield OrderedInput(placeholder="barcode, SKU, 3*code, or text to search", id="scan", clear_on_submit=True)
                yield CartTable(ctx.currency, id="cart")
            yield TotalsPanel(ctx.currency, id="totals")
        yield StatusBar(id="status")
        yield KeyFooter(rows=2)

    @property
    def ctx(self):
        return self.app.ctx

    @property
    def scan_input(self) -> Input:
        return self.query_one("#scan", Input)

    @property
    def status_bar(self) -> StatusBar | None:
        """The screen's status bar once composed (cached: `say` runs on every scan)."""
        if self._status_bar is None:
            found = self.query_children(StatusBar)
            self._status_bar = found.first() if found else None
        return self._status_bar

    @property
    def status(self) -> StatusBar:
        return self.status_bar or self.query_one(StatusBar)

    def on_mount(self) -> None:
        place = self.ctx.place
        self.status.place = f"{place.store_id}/{place.terminal_code} · {self.operator.name}"
        self.status.devices = self.app.device_text()
        self._refresh()
        self.scan_input.focus()
        self.call_after_refresh(self._offer_open_cart)

    def on_screen_resume(self) -> None:
        self.scan_input.focus()
        self.status.devices = self.app.device_text()
        for code in self.app.take_pending_scans():  # scans that arrived while a dialog was open
            self.enter_code(code, from_scanner=True)

    def say(self, message: str, level: str = "info") -> None:
        # Device threads report at any time, also while this screen is being built or torn down.
        bar = self.status_bar
        if bar is not None:
            bar.say(message, level)

    def error(self, message: str) -> None:
        self.app.bell()
        self.say(message, "error")

    # -- state -----------------------------------------------------------------------------------
    def totals(self):
        return price_cart(self.cart, currency=self.ctx.currency, prices_include_vat=self.ctx.place.prices_include_vat)

    def _refresh(self, select: str | None = None) -> None:
        totals = self.totals()
        table = self.query_one(CartTable)
        table.show(cart_rows(self.cart, totals), select=select)
        self.query_one(TotalsPanel).show(totals, self.cart.item_count(), self.cart.member_phone or "")
        self._refresh_bindings_if_changed()

    def _refresh_bindings_if_changed(self) -> None:
        """What check_action allows depends only on these two facts. Refreshing bindings makes the
        Footer recompose, which is far too slow to do on every scan."""
        state = (bool(self.cart.lines), bool(self.held is not None and self.held.tenders))
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    def _changed(self, select: str | None = None) -> None:
        """Every change to the cart is saved before the screen shows it: a crash loses nothing."""
        drafts.save_open(self.ctx.engine, self.ctx.place.terminal_id, self.operator.id, self.cart)
        self._refresh(select)

    def _new_sale(self) -> None:
        self.cart = Cart()
        self.held = None
        if self.in_order_mode:
            self.clear_order_mode()
            self.refresh_bindings()
        self._refresh()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in EDIT_ACTIONS and self.held is not None and self.held.tenders:
            return None  # greyed: payment in progress, finish it (F10) first
        if action in LINE_ACTIONS and not self.cart.lines:
            return None
        if action == "basket_discount" and not self.cart.lines:
            return None
        if action == "pay" and not self.cart.lines:
            return None
        if action == "refund" and self.cart.lines:
            return None
        if action in ("park", "refund") and self.in_order_mode:
            return None  # an order cart is saved with F10, not parked
        return True

    def _guard(self, action: str) -> bool:
        """Bindings are greyed by check_action; this explains why when one is pressed anyway."""
        if self.check_action(action, ()):
            return True
        if self.held is not None and self.held.tenders and action in EDIT_ACTIONS:
            self.error("payment in progress: press F10 to finish it or remove its tenders")
        elif action in ("park", "refund") and self.in_order_mode:
            self.error("this cart is a customer order: F10 saves it or picks it up")
        elif action == "refund":
            self.error("finish or park this sale before a refund")
        else:
            self.error("the cart is empty")
        return False

    def _selected_line(self):
        line_id = self.query_one(CartTable).selected_line
        if line_id is None:
            return None
        try:
            return self.cart.line(line_id)
        except CartError:
            return None

    # -- scanning --------------------------------------------------------------------------------
    @on(Input.Submitted, "#scan")
    def _scanned(self, event: Input.Submitted) -> None:
        event.stop()
        self.enter_code(event.value)

    def enter_code(self, raw: str, *, from_scanner: bool = False) -> bool:
        """A scan or typed entry: barcode, SKU or N*code. Returns whether a line was added."""
        text = printable(raw).strip()
        if not text:
            return False
        if self.held is not None and self.held.tenders:
            self.error("payment in progress: press F10 to finish it before adding items")
            return False
        quantity = Decimal(1)
        code = text
        match = QTY_CODE.match(text)
        if match:
            try:
                quantity = parse_quantity(match.group(1))
            except CartError as exc:
                self.error(f"{exc} (in {text!r})")
                return False
            code = match.group(2)
        product = lookup(self.ctx.engine, code)
        if product is None:
            if not match and not CODE_LIKE.match(code) and not from_scanner:
                self._open_search(code)
                return False
            self.error(f"unknown code {code}")
            if not from_scanner and not self.scan_input.value:
                # Back for correction, selected so that the next scan replaces it instead of appending.
                self.scan_input.value = text
                self.scan_input.select_all()
            return False
        self.add_product(product, quantity)
        return True

    def add_product(self, product: ProductInfo, quantity: Decimal) -> None:
        try:
            line = self.cart.add(product_id=product.id, sku=product.sku, name=product.display_name,
                                 price=product.price, vat_rate=product.vat_rate, quantity=quantity,
                                 barcode=product.barcode)
        except CartError as exc:
            self.error(str(exc))
            return
        self.query_one(TotalsPanel).last_sale = None
        self._changed(select=line.line_id)
        self.say(f"{line.quantity:f} × {product.display_name}  {fmt_money(product.price, self.ctx.currency)}")

    def action_cursor(self, step: int) -> None:
        table = self.query_one(CartTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    # -- search ----------------------------------------------------------------------------------
    def action_search(self) -> None:
        if self._guard("search"):
            text = self.scan_input.value.strip()
            self.scan_input.value = ""
            self._open_search(text)

    def _open_search(self, text: str) -> None:
        from app.screens.search import SearchScreen

        def chosen(product: ProductInfo | None) -> None:
            if product is not None:
                self.add_product(product, Decimal(1))
            self.scan_input.focus()

        self.app.push_screen(SearchScreen(text), chosen)

    # -- manager approval ------------------------------------------------------------------------
    async def approve(self, reason: str, action: str) -> OperatorInfo | None:
        from app.screens.approval import approve

        return await approve(self, reason, action)

    def _audit(self, action: str, subject: str = "", **detail) -> None:
        audit.record_now(self.ctx.engine, action, operator=self.operator.code, subject=subject,
                         **self.ctx.audit_where(), **detail)

    # -- line edits ------------------------------------------------------------------------------
    @work(exclusive=True, group="flow")
    async def action_quantity(self) -> None:
        if not self._guard("quantity") or (line := self._selected_line()) is None:
            return
        qty = await self.app.push_screen_wait(
            Prompt("Quantity", printable(line.name), _quantity, value=str(line.quantity),
                   hint="a number more than 0, e.g. 2 or 0.5 · Esc = cancel"))
        if qty is None:
            return
        self.cart.set_quantity(line.line_id, qty)
        self._changed(select=line.line_id)
        self.say(f"quantity {qty} for {line.name}")

    @work(exclusive=True, group="flow")
    async def action_price(self) -> None:
        if not self._guard("price") or (line := self._selected_line()) is None:
            return
        price = await self.app.push_screen_wait(
            Prompt("Price override", f"{line.name} (list price {fmt_money(line.original_price, self.ctx.currency)})",
                   parse_price, value=f"{line.unit_price}"))
        if price is None:
            return
        approver = await self.approve(f"price of {line.name} → {fmt_money(price, self.ctx.currency)}", "price override")
        if approver is None:
            return
        self.cart.set_price(line.line_id, price)
        self._audit("price.override", line.sku, old=str(line.unit_price), new=str(price), approved_by=approver.code,
                    cart=self.cart.uid)
        self._changed(select=line.line_id)
        self.say(f"price of {line.name} set to {fmt_money(price, self.ctx.currency)} (approved by {approver.name})")

    @work(exclusive=True, group="flow")
    async def action_discount(self) -> None:
        if not self._guard("discount") or (line := self._selected_line()) is None:
            return
        discount = await self.app.push_screen_wait(
            Prompt("Line discount", printable(line.name), _discount, value="",
                   hint="an amount (20) or a percentage (10%) · 0 removes it · Esc = cancel"))
        if discount is None:
            return
        gross = self.totals().for_line(line.line_id).gross
        amount = discount_amount(discount, gross, self.ctx.currency)
        if not await self._within_limit(discount, amount, gross, f"discount on {line.name}"):
            return
        self.cart.set_line_discount(line.line_id, discount)
        self._audit("discount.line", line.sku, discount=discount.label(), amount=str(amount), cart=self.cart.uid)
        self._changed(select=line.line_id)
        self.say(f"discount {discount.label()} on {line.name}")

    @work(exclusive=True, group="flow")
    async def action_basket_discount(self) -> None:
        if not self._guard("basket_discount"):
            return
        discount = await self.app.push_screen_wait(
            Prompt("Basket discount", "on the whole sale", _discount,
                   hint="an amount (50) or a percentage (5%) · 0 removes it · Esc = cancel"))
        if discount is None:
            return
        totals = self.totals()
        base = totals.subtotal - totals.line_discounts
        amount = discount_amount(discount, base, self.ctx.currency)
        if not await self._within_limit(discount, amount, base, "basket discount"):
            return
        self.cart.basket_discount = discount
        self._audit("discount.basket", discount=discount.label(), amount=str(amount), cart=self.cart.uid)
        self._changed()
        self.say(f"basket discount {discount.label()}")

    async def _within_limit(self, discount: Discount, amount: Decimal, base: Decimal, what: str) -> bool:
        """A percentage is checked as typed (10 % of 52.25 rounds to 5.23, which is still 10 %)."""
        pct = discount.percent if discount.percent is not None else discount_percent_of(amount, base)
        if pct <= self.operator.discount_limit_pct:
            return True
        approver = await self.approve(f"{what}: {pct:.1f}% is over your {self.operator.discount_limit_pct:f}% limit",
                                      "discount")
        if approver is None:
            return False
        self._audit("discount.approved", what, percent=f"{pct:.2f}", approved_by=approver.code, cart=self.cart.uid)
        return True

    def action_void(self) -> None:
        if not self._guard("void") or (line := self._selected_line()) is None:
            return
        index = self.cart.lines.index(line)
        self.cart.void(line.line_id)
        self._audit("void.line", line.sku, name=line.name, quantity=str(line.quantity),
                    price=str(line.unit_price), cart=self.cart.uid)
        remaining = self.cart.lines
        self._changed(select=remaining[min(index, len(remaining) - 1)].line_id if remaining else None)
        self.say(f"voided {line.name}")

    # -- member ----------------------------------------------------------------------------------
    @work(exclusive=True, group="flow")
    async def action_member(self) -> None:
        if not self._guard("member"):
            return
        region = self.ctx.phone_region

        def parse(text: str):
            if not text.strip():
                return ("", None)
            try:
                return find_member(self.ctx.engine, text, region)
            except PhoneError as exc:
                raise ValueError(str(exc)) from None

        result = await self.app.push_screen_wait(
            Prompt("Member", "phone number", parse, value=self.cart.member_phone or "", allow_empty=True,
                   hint="empty removes the member · Esc = cancel"))
        if result is None:
            return
        phone, member = result
        if not phone:
            self.cart.member_id, self.cart.member_phone, self.cart.member_name = None, None, ""
            self._changed()
            self.say("member removed")
            return
        if member is None:
            if not await self.app.push_screen_wait(ConfirmDialog("New member", f"No member with {phone}. Register one?")):
                return
            member = await asyncio.to_thread(create_member, self.ctx.engine, phone)
            self._audit("member.created", phone)
        self.cart.member_id, self.cart.member_phone, self.cart.member_name = member.id, member.phone, member.name
        self._changed()
        self.say(f"member {member.phone} {member.name}".strip())

    # -- park / recall / restore -----------------------------------------------------------------
    @work(exclusive=True, group="flow")
    async def action_park(self) -> None:
        if not self._guard("park"):
            return
        ctx = self.ctx
        if self.cart.lines:
            totals = self.totals()
            label = f"{len(self.cart.lines)} lines · {fmt_money(totals.total, ctx.currency)}"
            drafts.park(ctx.engine, ctx.place.terminal_id, self.operator.id, self.cart, label)
            self._audit("sale.parked", self.cart.uid, total=str(totals.total))
            self._new_sale()
            self.say(f"sale parked ({label}); F7 on an empty sale recalls it")
            return
        from app.screens.parked import ParkedScreen

        parked = drafts.parked(ctx.engine, ctx.place.terminal_id)
        if not parked:
            self.say("no parked sales")
            return
        uid = await self.app.push_screen_wait(ParkedScreen(parked, ctx.currency))
        if uid is None:
            return
        try:
            self.cart = drafts.recall(ctx.engine, uid, self.operator.id)
        except LookupError as exc:
            self.error(str(exc))
            return
        self.held = None
        self._audit("sale.recalled", uid)
        if self.cart.order_number:
            number, self.cart = self.cart.order_number, Cart()
            drafts.discard(ctx.engine, uid)
            await self.recall_order(number)  # the order as it is now, not the parked copy
            return
        self._refresh(select=self.cart.lines[-1].line_id if self.cart.lines else None)
        self.say("parked sale recalled")

    @work(exclusive=True, group="flow")
    async def _offer_open_cart(self) -> None:
        ctx = self.ctx
        draft = drafts.open_draft(ctx.engine, ctx.place.terminal_id)
        if draft is None or draft.uid == self.cart.uid:
            return
        if not draft.cart.lines:
            drafts.discard(ctx.engine, draft.uid)
            return
        when = draft.updated_at.astimezone(_zone(ctx.place.timezone)).strftime("%H:%M")
        restore = await self.app.push_screen_wait(ConfirmDialog(
            "Unfinished sale",
            f"A sale with {draft.line_count} line(s) was left open at {when}. Restore it? (n parks it instead)"))
        if restore and draft.cart.order_number:
            # A recalled customer order: read it again (it may have changed); never sell it as a plain cart.
            drafts.discard(ctx.engine, draft.uid)
            self._audit("sale.restored", draft.uid, order=draft.cart.order_number)
            await self.recall_order(draft.cart.order_number)
            return
        if restore:
            self.cart = draft.cart
            self._audit("sale.restored", draft.uid)
            self._changed(select=self.cart.lines[-1].line_id)
            self.say("unfinished sale restored")
        else:
            drafts.park(ctx.engine, ctx.place.terminal_id, self.operator.id, draft.cart, f"left open {when}")
            self.say("unfinished sale parked; F7 recalls it")

    # -- payment ---------------------------------------------------------------------------------
    @work(exclusive=True, group="flow")
    async def action_pay(self) -> None:
        if not self._guard("pay"):
            return
        if self.in_order_mode:
            await self.pay_order()
            return
        from app.screens.payment import PaymentScreen
        from data.payments import PaymentState

        ctx = self.ctx
        totals = self.totals()
        if self.held is None or self.held.total != totals.total:
            self.held = PaymentState(totals.total, ctx.currency, ctx.place.cash_rounding)
        if self.held.complete and self.held.tenders:
            state = self.held  # paid, but the commit failed (database busy or gone): save it again as paid
        else:
            state = await self.app.push_screen_wait(PaymentScreen(self.held, ctx.settings.payment))
        self._refresh_bindings_if_changed()
        if state is None or not state.complete:
            if self.held.tenders:
                self.say(f"{fmt_money(self.held.remaining, ctx.currency)} still due; F10 to continue")
            return
        cash = any(t.tender == "cash" for t in state.tenders)
        try:
            receipt = await asyncio.to_thread(commit_sale, ctx.engine, ctx.place, self.operator, self.cart, state,
                                              print_receipt=ctx.printer.enabled, open_drawer=cash,
                                              exports=self.app.export_targets)
        except SaleError as exc:
            self.held = None
            self.error(f"sale not saved: {exc}")
            return
        except (SQLAlchemyError, OSError) as exc:  # locked, disk full, gone: the money is taken, try again
            log.error("sale not saved", exc_info=exc)
            self.error(f"sale not saved: the database failed ({one_line(exc)}); the cart and the payment are "
                       "kept, F10 saves it again")
            return
        self.sale_done(receipt, state, f"sale {receipt} complete")

    def sale_done(self, receipt: str, state, message: str) -> None:
        """After a committed sale (plain or an order's pickup): show the change, start afresh, print."""
        change = state.change
        self.query_one(TotalsPanel).last_sale = LastSale(receipt, state.paid + change, change)
        self._new_sale()
        self.say(f"{message} · change {fmt_money(change, self.ctx.currency)}")
        if self.ctx.printer.enabled:
            self.app.print_spool()

    # -- receipts --------------------------------------------------------------------------------
    def on_printed(self, result) -> None:
        """The app drained the spool; a failure is a warning, the sale is already safe."""
        if result.error:
            self.say(f"receipt {result.failed} not printed (printer: {result.error}); it waits in the spool, "
                     "Ctrl+R prints it when the printer is back", "warning")

    def action_reprint(self) -> None:
        ctx = self.ctx
        if not ctx.printer.enabled:
            self.error("no printer is configured; F12 shows the last receipt")
            return
        waiting = spool.pending(ctx.engine, ctx.place.terminal_id)
        if waiting:
            # The printer was down: print what is waiting (once), not an extra copy.
            self.say(f"printing {len(waiting)} waiting receipt(s)")
            self.app.print_spool()
            return
        receipt = last_receipt_number(ctx.engine, ctx.place.terminal_id)
        if receipt is None:
            self.error("no receipt to reprint yet")
            return
        self.reprint_copy(receipt)

    def reprint_copy(self, receipt: str) -> None:
        self._audit("receipt.reprint", receipt)
        spool.enqueue(self.ctx.engine, self.ctx.place.terminal_id, "copy", receipt)
        self.say(f"reprinting {receipt} (copy)")
        self.app.print_spool()

    @work(exclusive=True, group="flow")
    async def action_menu(self) -> None:
        from app.screens.menu import MenuScreen

        choice = await self.app.push_screen_wait(MenuScreen(manager=self.operator.is_manager))
        if choice == "reprint":
            self.action_reprint()
        elif choice == "receipt":
            self.show_last_receipt()
        elif choice == "x_report":
            self.show_x_report()
        elif choice == "float":
            self.count_float()
        elif choice in ("cash_in", "cash_out", "safe_drop"):
            self.cash_movement(choice)
        elif choice == "close_day":
            self.close_day()
        elif choice == "stock":
            self.action_stock()
        elif choice in ("operators", "products") and self.operator.is_manager:
            from app.screens.operators import OperatorsScreen
            from app.screens.products import ProductsScreen

            screen = OperatorsScreen if choice == "operators" else ProductsScreen
            self.app.push_screen(screen(self.operator))
        elif choice == "logout":
            self.logout()

    def action_health(self) -> None:
        from app.screens.health import HealthScreen

        self.app.push_screen(HealthScreen(self.ctx, self.operator))

    def show_last_receipt(self) -> None:
        from app.screens.receipt import ReceiptScreen

        receipt = last_receipt_number(self.ctx.engine, self.ctx.place.terminal_id)
        if receipt is None:
            self.error("no receipt yet on this terminal")
            return
        def closed(reprint: bool | None) -> None:
            if reprint:
                if self.ctx.printer.enabled:
                    self.reprint_copy(receipt)
                else:
                    self.error("no printer is configured")

        self.app.push_screen(ReceiptScreen(receipt), closed)

    def logout(self) -> None:
        if self.cart.lines:
            drafts.save_open(self.ctx.engine, self.ctx.place.terminal_id, self.operator.id, self.cart)
        self._audit("logout")
        self.app.pop_screen()

    # -- refund ----------------------------------------------------------------------------------
    @work(exclusive=True, group="flow")
    async def action_refund(self) -> None:
        if not self._guard("refund"):
            return
        from app.screens.refund import RefundScreen, load_refundable

        ctx = self.ctx
        original = await self.app.push_screen_wait(
            Prompt("Refund", "receipt number", lambda t: load_refundable(ctx.engine, t),
                   hint="e.g. BKK01-T1-000042 · Esc = cancel"))
        if original is None:
            return
        request = await self.app.push_screen_wait(RefundScreen(original, ctx.currency, ctx.place.cash_rounding))
        if request is None:
            return
        approver = await self.approve(f"refund {fmt_money(request.payment.total, ctx.currency)} "
                                      f"on {original.receipt_number}", "refund")
        if approver is None:
            return
        from data.sales import commit_refund

        cash = any(t.tender == "cash" for t in request.payment.tenders)
        try:
            number = await asyncio.to_thread(
                commit_refund, ctx.engine, ctx.place, self.operator, approver, original.receipt_number,
                request.quantities, request.payment, uid=request.uid, reason=request.reason,
                print_receipt=ctx.printer.enabled, open_drawer=cash, exports=self.app.export_targets)
        except SaleError as exc:
            self.error(f"refund not saved: {exc}")
            return
        paid_back = request.payment.paid
        self.query_one(TotalsPanel).last_sale = LastSale(number, paid_back, Decimal(0))
        self.say(f"refund {number}: give back {fmt_money(paid_back, ctx.currency)} "
                 f"({', '.join(t.tender for t in request.payment.tenders)})")
        if ctx.printer.enabled:
            self.app.print_spool()


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)

