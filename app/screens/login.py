"""Login: operator code, then PIN. Five wrong PINs lock the operator for five minutes (data.operators)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from data.operators import LoginError, OperatorInfo, authenticate
from data.text import printable


class LoginScreen(Screen):
    BINDINGS = [
        Binding("escape", "clear", "Clear", id="login_clear"),
    ]
    AUTO_FOCUS = "#login-operator"

    def compose(self) -> ComposeResult:
        place = self.app.ctx.place
        with Center(id="login-box"):
            with Vertical(id="login-form"):
                yield Label(Text(printable(f"{place.store_name}"), style="bold"), id="login-title")
                yield Label(Text(f"Store {place.store_id} · terminal {place.terminal_code}"), classes="muted")
                yield Label("Operator")
                yield Input(placeholder="operator code", id="login-operator", restrict=r"[0-9A-Za-z]*", max_length=16)
                yield Label("PIN")
                yield Input(placeholder="PIN", password=True, id="login-pin", restrict=r"[0-9]*", max_length=12)
                yield Static("", id="login-message")
        yield Footer()

    @property
    def message(self) -> str:
        return str(self.query_one("#login-message", Static).render())

    def _say(self, text: str, error: bool = True) -> None:
        msg = self.query_one("#login-message", Static)
        msg.update(Text(printable(text)))
        msg.set_class(error, "-error")

    @on(Input.Submitted, "#login-operator")
    def _operator_entered(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self._say("type your operator code")
            return
        self.query_one("#login-pin", Input).focus()

    @on(Input.Submitted, "#login-pin")
    def _pin_entered(self, event: Input.Submitted) -> None:
        event.stop()
        code = self.query_one("#login-operator", Input).value.strip()
        if not code:
            self._say("type your operator code")
            self.query_one("#login-operator", Input).focus()
            return
        if not event.value:
            self._say("type your PIN")
            return
        self._say("checking…", error=False)
        self._login(code, event.value)

    @work(exclusive=True, group="login")
    async def _login(self, code: str, pin: str) -> None:
        ctx = self.app.ctx
        try:
            operator = await asyncio.to_thread(authenticate, ctx.engine, code, pin, **ctx.audit_where())
        except LoginError as exc:
            pin_input = self.query_one("#login-pin", Input)
            pin_input.value = ""
            self._say(str(exc))
            self.app.bell()
            pin_input.focus()
            return
        self._logged_in(operator)

    def _logged_in(self, operator: OperatorInfo) -> None:
        from app.screens.sale import SaleScreen

        self.query_one("#login-pin", Input).value = ""
        self.query_one("#login-operator", Input).value = ""
        self._say("", error=False)
        self.app.push_screen(SaleScreen(operator))

    def on_screen_resume(self) -> None:
        self.query_one("#login-operator", Input).focus()

    def action_clear(self) -> None:
        for inp in self.query(Input):
            inp.value = ""
        self._say("", error=False)
        self.query_one("#login-operator", Input).focus()
