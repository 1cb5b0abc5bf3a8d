"""Customer orders on the sale screen (a mixin of SaleScreen, as CashActions is): F8 opens the
orders list; `n` there turns the cart into a new order; Enter recalls an order into the cart for
pickup or change; F10 on such a cart offers the five order choices instead of plain payment.

The cart stays the one thing the cashier edits. A recalled order's lines come in at the order's
prices; what is in the cart when "pick up" is chosen is what is handed over, and "save changes"
makes the cart the order's new content."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.exc import DBAPIError
from textual import work

from app.context import SiteOffline
from data import drafts, orders, pickups
from data.cart import Cart
from data.money import fmt_money, round_money
from data.orders import NewLine, OrderConflict, OrderDetails, OrderError, OrderView
from data.payments import PaymentState
from data.pricing import price_cart
from data.sales import SaleError
from data.text import printable
from widgets.dialogs import ChoiceDialog, Prompt

ORDER_LINE = "o"  # cart line ids of a recalled order's lines: "o<order line id>"


def parse_deposit(text: str, balance: Decimal, currency: str) -> Decimal:
    """'500' is an amount, '30%' a share of what is still to pay."""
    raw = text.strip().replace(",", "")
    try:
        if raw.endswith("%"):
            pct = Decimal(raw[:-1].strip())
            if not 0 < pct <= 100:
                raise ValueError("a percentage is more than 0 and at most 100")
            amount = round_money(balance * pct / 100, currency)
        else:
            amount = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not an amount or a percentage") from None
    if amount <= 0:
        raise ValueError("a deposit must be more than 0")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("an amount has at most 2 decimal places")
    if amount > balance:
        raise ValueError(f"at most {fmt_money(balance, currency)} is still to pay")
    return amount


class OrderActions:
    order_new: OrderDetails | None = None
    pickup: pickups.Pickup | None = None

    @property
    def in_order_mode(self) -> bool:
        return self.order_new is not None or self.pickup is not None

    def clear_order_mode(self) -> None:
        self.order_new = None
        self.pickup = None

    # -- F8 ----------------------------------------------------------------------------------------
    @work(exclusive=True, group="flow")
    async def action_orders(self) -> None:
        from app.screens.orders import OrdersScreen

        choice = await self.app.push_screen_wait(OrdersScreen(
            self.ctx, self.operator, approve=self.approve,
            cart_has_lines=bool(self.cart.lines) and not self.in_order_mode))
        if choice is None:
            return
        kind, number = choice
        if kind == "new":
            await self.start_new_order()
        elif kind == "recall" and number:
            await self.recall_order(number)
        elif kind == "stock":
            await self.show_stock()

    async def may_manage(self, what: str):
        """The operator, if the role may manage customer orders; else a manager's PIN (audited)."""
        if orders.can_manage(self.operator.role, self.ctx.settings.orders.manage_roles,
                             self.operator.permissions):
            return self.operator
        approver = await self.approve(f"{what}: needs a role that manages customer orders", "order.manage")
        if approver is not None and approver.id != self.operator.id:
            self._audit("override.order.manage", what, approved_by=approver.code)
        return approver

    def _today(self):
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(self.ctx.place.timezone)).date()

    def _member_name(self, phone: str) -> str | None:
        from data.members import find_member

        _, member = find_member(self.ctx.engine, phone, self.ctx.phone_region)
        return member.name if member else None

    async def _details(self, title: str, details: OrderDetails) -> OrderDetails | None:
        from app.screens.order_form import OrderForm

        return await self.app.push_screen_wait(OrderForm(title, details, region=self.ctx.phone_region,
                                                          today=self._today(), member_lookup=self._member_name))

    async def start_new_order(self) -> None:
        if not self.cart.lines:
            self.error("scan the items of the order first, then F8 → n")
            return
        if self.in_order_mode:
            self.error("this cart is an order already; F10 saves it")
            return
        if await self.may_manage("new customer order") is None:
            return
        place = self.ctx.place
        details = await self._details("New customer order", OrderDetails(
            customer_phone=self.cart.member_phone or "", customer_name=self.cart.member_name or "",
            member_phone=self.cart.member_phone, fulfil_store=place.store_id))
        if details is None:
            self.say("new order: cancelled; the cart is unchanged")
            return
        if self.cart.member_phone and details.customer_phone == self.cart.member_phone:
            from dataclasses import replace

            details = replace(details, member_phone=self.cart.member_phone)
        self.order_new = details
        self.refresh_bindings()
        who = details.customer_name or details.customer_phone
        self.say(f"new customer order for {who}: F10 to save, print or take a deposit")

    async def recall_order(self, number: str) -> None:
        if self.cart.lines:
            self.error("finish or park this sale before recalling an order")
            return
        ctx = self.ctx
        try:
            order = await asyncio.to_thread(ctx.on_orders, orders.get_order, number)
            products = await asyncio.to_thread(pickups.local_products, ctx.engine, [l.sku for l in order.lines])
        except (SiteOffline, OrderError) as exc:
            self.error(str(exc))
            return
        if order.status not in orders.OPEN_STATUSES:
            self.error(f"{order.number} is {order.status}: nothing to pick up")
            return
        picks = {l.id: l.open_qty for l in order.open_lines}
        try:
            cart = orders.pickup_cart(order, picks, products)
        except OrderError as exc:
            self.error(f"{order.number}: {exc}")
            return
        self._hold_order(order, picks, cart)
        who = order.details.customer_name or order.details.customer_phone
        self.say(f"order {order.number} ({printable(who)}): paid {fmt_money(order.credit, ctx.currency)} · "
                 "F10 to pick up, save changes or take a deposit")

    def _hold_order(self, order: OrderView, picks: dict[int, Decimal], cart: Cart) -> None:
        """The order in the cart for pickup, as Enter in F8 puts it there."""
        cart.order_number = order.number  # a crash restore recalls the order again instead of selling it
        self.cart = cart
        self.held = None
        self.pickup = pickups.Pickup(order, picks)
        self._changed(select=cart.lines[-1].line_id if cart.lines else None)
        self.refresh_bindings()

    # -- F10 on an order -----------------------------------------------------------------------------
    async def pay_order(self) -> None:
        new = self.order_new is not None
        choices = [
            ("1", "Pay deposit (amount or %)", "deposit"),
            ("2", "Save (no payment)" if new else "Save changes", "save"),
            ("3", "Print order confirmation", "print"),
            ("4", "Pick up entire order (pay the balance now)" if new else "Pick up what is in the cart", "pickup"),
            ("5", "Continue to payment (pay in full, collect later)", "full"),
            ("0", "Not an order: back to a plain sale" if new else "Put the order back unchanged", "leave"),
        ]
        title = "New customer order" if new else f"Order {self.pickup.order.number}"
        choice = await self.app.push_screen_wait(ChoiceDialog(title, "", choices))
        if choice is None:
            return
        if choice == "leave":
            if new:
                self.clear_order_mode()
                self.refresh_bindings()
                self.say("the cart is a plain sale again")
            else:
                drafts.discard(self.ctx.engine, self.cart.uid)
                self._done(f"order {self.pickup.order.number} left unchanged")
            return
        try:
            if new:
                await self._new_order_choice(choice)
            else:
                await self._recalled_choice(choice)
        except SiteOffline as exc:
            self.error(f"{exc}; the cart is kept, try again when the site is back")
        except OrderError as exc:
            self.error(str(exc))
        except DBAPIError as exc:  # the site database went away in the middle
            from app.context import offline_reason

            self.error(f"site database offline: {offline_reason(exc)}; what this till committed stands "
                       "(deposits join their order when the site is back)")

    def _lines(self, cart: Cart, with_ids: bool) -> list[NewLine]:
        out = []
        for line in cart.lines:
            lid = int(line.line_id[1:]) if with_ids and line.line_id.startswith(ORDER_LINE) and \
                line.line_id[1:].isdigit() else None
            out.append(NewLine.from_cart(line, lid))
        return out

    async def _create(self) -> OrderView:
        ctx = self.ctx
        place = ctx.place
        view = await asyncio.to_thread(
            ctx.on_orders, orders.create_order, place.store_id, self.operator.code, self._lines(self.cart, False),
            self.order_new, currency=ctx.currency, prices_include_vat=place.prices_include_vat,
            basket_discount=self.cart.basket_discount, exports=self._order_exports())
        drafts.discard(ctx.engine, self.cart.uid)
        return view

    def _order_exports(self):
        """Order events go to the outbox of the database that holds the order, in the order's own
        transaction: this till's, or with a site database the site's, which the back office delivers
        (README, Exports). The site connector takes no order events."""
        return self.app.export_targets

    def _done(self, message: str) -> None:
        self._new_sale()
        self.say(message)

    async def _new_order_choice(self, choice: str) -> None:
        view = await self._create()
        if choice == "save":
            self._done(f"order {view.number} saved; {fmt_money(view.balance, self.ctx.currency)} to pay on pickup")
        elif choice == "print":
            self._print_order(view.number)
            self._done(f"order {view.number} saved; printing the confirmation")
        elif choice in ("deposit", "full"):
            self._new_sale()
            await self._take_deposit(view, full=choice == "full")
        elif choice == "pickup":
            products = await asyncio.to_thread(pickups.local_products, self.ctx.engine, [l.sku for l in view.lines])
            picks = {l.id: l.open_qty for l in view.open_lines}
            # The saved order stays in the cart as if recalled: Escape at the payment keeps it there
            # (F10 → 4 again), instead of an empty cart and the order left in the list.
            self._new_sale()
            self._hold_order(view, picks, orders.pickup_cart(view, picks, products))
            await self._pickup(self.pickup, self.cart)

    async def _recalled_choice(self, choice: str) -> None:
        order = self.pickup.order
        ctx = self.ctx
        if choice == "save":
            approver = await self.may_manage(f"change {order.number}")
            if approver is None:
                return
            details = await self._details(f"Change {order.number}", order.details)
            if details is None:
                return
            lines = self._lines(self.cart, True)
            # The cart holds what is still open; the order keeps what was picked up already.
            picked = {l.id: l.picked for l in order.lines}
            lines = [NewLine(l.sku, l.name, l.quantity + picked.get(l.line_id, 0), l.unit_price, l.vat_rate,
                             l.original_price, l.barcode, l.discount, l.line_id) if l.line_id else l for l in lines]
            view = await asyncio.to_thread(ctx.on_orders, orders.update_order, order.number, order.version,
                                           self.operator.code, lines, details, basket_discount=self.cart.basket_discount,
                                           exports=self._order_exports())
            drafts.discard(ctx.engine, self.cart.uid)
            self._done(f"order {view.number} changed; total {fmt_money(view.total, ctx.currency)}, "
                       f"{fmt_money(view.balance, ctx.currency)} to pay")
        elif choice == "print":
            self._print_order(order.number)
            self.say(f"printing the confirmation of {order.number} (as saved; F10 → 2 saves cart changes)")
        elif choice in ("deposit", "full"):
            fresh = await asyncio.to_thread(ctx.on_orders, orders.get_order, order.number)
            # The order stays in the cart until the money is taken: Escape leaves it there, as at 2 and 4.
            if await self._take_deposit(fresh, full=choice == "full", recalled=True):
                drafts.discard(ctx.engine, self.cart.uid)
                self._new_sale()
        elif choice == "pickup":
            await self._pickup_cart()

    def _print_order(self, number: str) -> None:
        from data import spool

        if not self.ctx.printer.enabled:
            self.error("no printer is configured")
            return
        spool.enqueue(self.ctx.engine, self.ctx.place.terminal_id, "order", number)
        self.app.print_spool()

    async def _take_deposit(self, order: OrderView, *, full: bool, recalled: bool = False) -> bool:
        """Whether the money was taken. `recalled`: the order is in the cart (and stays there if not)."""
        from app.screens.payment import PaymentScreen

        ctx = self.ctx
        balance = order.balance
        if balance <= 0:
            self.say(f"order {order.number} is paid in full")
            return False
        kept = f"order {order.number}: no deposit taken; the order is still in the cart" if recalled else ""
        if full:
            amount = balance
        else:
            amount = await self.app.push_screen_wait(Prompt(
                f"Deposit on {order.number}", f"amount or % of {fmt_money(balance, ctx.currency)}",
                lambda t: parse_deposit(t, balance, ctx.currency), hint="e.g. 500 or 30% · Esc = no deposit"))
            if amount is None:
                self.say(kept or f"order {order.number} saved without a deposit")
                return False
        state = await self.app.push_screen_wait(PaymentScreen(
            PaymentState(amount, ctx.currency, ctx.place.cash_rounding), ctx.settings.payment))
        if state is None or not state.complete:
            self.say(kept or f"order {order.number} saved; no deposit taken")
            return False
        cash = any(t.tender == "cash" for t in state.tenders)
        try:
            receipt, view = await asyncio.to_thread(
                pickups.take_deposit, ctx.engine, ctx.orders_db(), ctx.place, self.operator, order, state,
                print_receipt=ctx.printer.enabled, open_drawer=cash, exports=self.app.export_targets)
        except (SaleError, OrderError) as exc:
            self.error(f"deposit not taken: {exc}")
            return False
        self.say(f"deposit {fmt_money(amount, ctx.currency)} on {order.number}, receipt {receipt} · change "
                 f"{fmt_money(state.change, ctx.currency)} · {fmt_money(view.balance, ctx.currency)} to pay on pickup")
        if ctx.printer.enabled:
            self.app.print_spool()
        return True

    async def _pickup_cart(self) -> None:
        """Hand over what is in the cart: order lines at their (possibly lowered) quantities, plus any
        extra items scanned meanwhile, which are simply sold with it."""
        ctx = self.ctx
        pickup = self.pickup
        order = pickup.order
        picks: dict[int, Decimal] = {}
        extra = []
        for line in self.cart.lines:
            if line.line_id.startswith(ORDER_LINE) and line.line_id[1:].isdigit():
                lid = int(line.line_id[1:])
                open_qty = next((l.open_qty for l in order.lines if l.id == lid), Decimal(0))
                if line.quantity > open_qty:
                    self.error(f"{printable(line.name)}: {line.quantity} is more than the {open_qty} ordered; "
                               "F10 → 2 saves the change first")
                    return
                picks[lid] = line.quantity
            else:
                extra.append(line)
        if not picks:
            self.error("no order line is in the cart; Esc, or F10 → 2 to save changes")
            return
        products = await asyncio.to_thread(pickups.local_products, ctx.engine, [l.sku for l in order.lines])
        cart = orders.pickup_cart(order, picks, products)
        cart.uid = self.cart.uid
        cart.member_id, cart.member_phone = self.cart.member_id, self.cart.member_phone or cart.member_phone
        cart.lines.extend(extra)
        await self._pickup(pickups.Pickup(order, picks), cart)

    async def _pickup(self, pickup: pickups.Pickup, cart: Cart) -> None:
        from app.screens.payment import PaymentScreen

        ctx = self.ctx
        order = pickup.order
        left = [l for l in order.open_lines if pickup.picks.get(l.id, 0) < l.open_qty]
        void_rest = False
        if left:
            answer = await self.app.push_screen_wait(ChoiceDialog(
                f"{order.number}: not everything is picked up",
                f"{len(left)} line(s) stay open. Keep them on the order for later, or void them?",
                [("k", "Keep them on the order for later", "keep"), ("v", "Void them (release the stock)", "void")]))
            if answer is None:
                return
            void_rest = answer == "void"
        # Fresh look first: if another till picked it up meanwhile, say so before taking any money.
        fresh = await asyncio.to_thread(ctx.on_orders, orders.get_order, order.number)
        if fresh.version != order.version:
            self.error(f"{order.number} was changed at another till ({fresh.status}); recall it again")
            self.clear_order_mode()
            self._new_sale()
            return
        total = price_cart(cart, currency=ctx.currency, prices_include_vat=ctx.place.prices_include_vat).total
        state = pickup.payment(ctx.currency, ctx.place.cash_rounding, total)
        if not state.complete:
            state = await self.app.push_screen_wait(PaymentScreen(state, ctx.settings.payment))
            if state is None or not state.complete:
                self.say(f"{order.number}: pickup not done; the cart is kept (F10 to try again)")
                return
        cash = any(t.tender == "cash" for t in state.tenders)
        try:
            receipt, view = await asyncio.to_thread(
                pickups.complete_pickup, ctx.engine, ctx.orders_db(), ctx.place, self.operator, pickup, cart, state,
                void_rest=void_rest, print_receipt=ctx.printer.enabled, open_drawer=cash,
                exports=self.app.export_targets)
        except OrderConflict as exc:
            self.error(f"{exc}; nothing was sold — give back any money taken")
            self.clear_order_mode()
            self._new_sale()
            return
        except (SaleError, OrderError) as exc:
            self.error(f"pickup not saved: {exc}")
            return
        self.sale_done(receipt, state, f"{order.number} {view.status}: receipt {receipt}")

    # -- stock ---------------------------------------------------------------------------------------
    @work(exclusive=True, group="flow")
    async def action_stock(self) -> None:
        await self.show_stock()

    async def show_stock(self) -> None:
        from app.screens.inventory import InventoryScreen

        ctx = self.ctx

        def load(code: str):
            return ctx.on_orders(orders.inventory, code)

        code = await self.app.push_screen_wait(Prompt("Item stock", "barcode, SKU", lambda t: t.strip(),
                                                      hint="scan or type the item · Esc = cancel"))
        if not code:
            return
        try:
            inv = await asyncio.to_thread(load, code)
        except (SiteOffline, OrderError) as exc:
            self.error(str(exc))
            return
        await self.app.push_screen_wait(InventoryScreen(inv, ctx.place.timezone))
