"""The customer, delivery and notes of a customer order. Enter moves to the next field; Enter on the
last one (or Ctrl+S anywhere) saves; Escape cancels and changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from data.orders import DELIVERY_METHODS, SOURCES, OrderDetails, OrderError
from data.phones import PhoneError, normalise_phone
from data.text import printable

FIELDS = (
    ("phone", "Phone", "member or customer phone, e.g. 0812345678"),
    ("name", "Name", "customer name"),
    ("method", "Delivery", "p = pick up · d = deliver · s = ship"),
    ("store", "Store", "store that hands it over"),
    ("address", "Address", "for deliver / ship"),
    ("source", "Source", "t = till · p = phone · e = e-commerce"),
    ("expected", "Expected", "YYYY-MM-DD, or +N days"),
    ("comments", "Comments", ""),
)


def _pick(text: str, options: tuple[str, ...], what: str) -> str:
    t = text.strip().lower()
    for o in options:
        if t and o.startswith(t):
            return o
    raise OrderError(f"{what}: type one of {', '.join(options)} (the first letter is enough)")


def parse_expected(text: str, today: date) -> str | None:
    t = text.strip()
    if not t:
        return None
    if t.startswith("+") and t[1:].isdigit():
        return (today + timedelta(days=int(t[1:]))).isoformat()
    try:
        day = date.fromisoformat(t)
    except ValueError:
        raise OrderError(f"expected date {t!r}: use YYYY-MM-DD or +N days") from None
    if day < today:
        raise OrderError(f"expected date {t} is in the past")
    return day.isoformat()


class OrderForm(ModalScreen[OrderDetails | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="order_form_cancel"),
        Binding("ctrl+s", "save", "Save", id="order_form_save", priority=True),
    ]

    def __init__(self, title: str, details: OrderDetails, *, region: str, today: date,
                 member_lookup=None) -> None:
        super().__init__()
        self._title, self.details, self.phone_region, self.today = title, details, region, today
        self.member_lookup = member_lookup  # phone -> member name or None (blocking; runs in a thread)

    def compose(self) -> ComposeResult:
        d = self.details
        values = {"phone": d.customer_phone, "name": d.customer_name, "method": d.delivery_method,
                  "store": d.fulfil_store, "address": d.delivery_address, "source": d.source,
                  "expected": d.expected_date or "", "comments": d.comments}
        with Vertical(id="order-form", classes="dialog"):
            yield Label(Text(printable(self._title)), classes="dialog-title")
            with Grid(id="order-form-grid"):
                for key, label, hint in FIELDS:
                    yield Label(label, classes="form-label")
                    # printable: an imported order's ESC bytes must not reach the terminal through the field
                    yield Input(value=printable(values[key]), placeholder=hint, id=f"of-{key}", classes="form-input")
            yield Static("", id="order-form-error", classes="prompt-error")
            yield Static("Enter = next field · Ctrl+S = save · Esc = cancel", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#of-phone", Input).focus()

    @property
    def error_text(self) -> str:
        return str(self.query_one("#order-form-error", Static).render())

    def _value(self, key: str) -> str:
        return self.query_one(f"#of-{key}", Input).value

    @on(Input.Submitted)
    async def _next(self, event: Input.Submitted) -> None:
        event.stop()
        key = (event.input.id or "")[3:]
        if key == "phone" and event.value.strip() and not self._value("name").strip() and self.member_lookup:
            import asyncio

            try:
                phone = normalise_phone(event.value, self.phone_region)
                name = await asyncio.to_thread(self.member_lookup, phone)
            except PhoneError:
                name = None
            if name:
                self.query_one("#of-name", Input).value = name
        keys = [k for k, _, _ in FIELDS]
        index = keys.index(key) if key in keys else -1
        if index == len(keys) - 1:
            self.action_save()
        else:
            self.query_one(f"#of-{keys[index + 1]}", Input).focus()

    def action_save(self) -> None:
        try:
            details = self.collect()
            details.check()
        except (OrderError, PhoneError) as exc:
            self.query_one("#order-form-error", Static).update(Text(printable(str(exc))))
            self.app.bell()
            return
        self.dismiss(details)

    def collect(self) -> OrderDetails:
        raw_phone = self._value("phone").strip()
        phone = normalise_phone(raw_phone, self.phone_region) if raw_phone else ""
        return replace(
            self.details, customer_phone=phone, customer_name=self._value("name").strip(),
            delivery_method=_pick(self._value("method"), DELIVERY_METHODS, "delivery"),
            fulfil_store=self._value("store").strip().upper(), delivery_address=self._value("address").strip(),
            source=_pick(self._value("source"), SOURCES, "source"),
            expected_date=parse_expected(self._value("expected"), self.today), comments=self._value("comments").strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
