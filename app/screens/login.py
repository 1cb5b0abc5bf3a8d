"""Login: operator code, then PIN. Five wrong PINs lock the operator for five minutes (data.operators)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from app.context import DatabaseUnavailable
from data.errors import LoginError
from data.text import printable
from widgets.fields import OrderedInput


class LoginScreen(Screen):
    BINDINGS = [
        Binding("escape", "clear", "Clear", id="login_clear"),
    ]
    AUTO_FOCUS = "#login-operator"

    def compose(self) -> ComposeResult:
        store = self.app.ctx.settings.store  # the database may still be opening: show the settings
        with Center(id="login-box"):
            with Vertical(id="login-form"):
                yield Label(Text(printable(store.name), style="bold"), id="login-title")
                yield Label(Text(printable(f"Store {store.id} · terminal {store.terminal}")), classes="muted")
                yield Label("Operator")
                yield OrderedInput(placeholder="operator code", id="login-operator", restrict=r"[0-9A-Za-z]*",
                                   max_length=16, tab_submits=True)
                yield Label("PIN")
                yield OrderedInput(placeholder="PIN", password=True, id="login-pin", restrict=r"[0-9]*", max_length=12)
                yield Static("", id="login-message")
        yield Footer()

    @property
    def message(self) -> str:
        return str(self.query_one("#login-message", Static).render())

    def _say(self, text: str, error: bool = True) -> None:
        msg = self.query_one("#login-message", Static)
        msg.update(Text(printable(text)))
        msg.set_class(error, "-error")

    # Keys typed quickly ("1⏎1111⏎" or "1⇥1111⏎" in one burst) reach the operator field before focus has moved on.
    # The code is fixed when Enter is pressed there; anything typed after it belongs to the PIN.
    _code: str | None = None

    @on(Input.Submitted, "#login-operator")
    def _operator_entered(self, event: Input.Submitted) -> None:
        event.stop()
        if self._code is not None:
            # A late Enter that was meant for the PIN field: the PIN is what was typed before it.
            typed = event.value
            late = typed[len(self._code):] if typed.startswith(self._code) and len(typed) > len(self._code) else ""
            self._submit_pin("".join(ch for ch in late if ch.isdigit()) or None)
            return
        code = event.value.strip()
        if not code:
            self._say("type your operator code")
            return
        self._code = event.value
        self._move_late_keys()
        self.query_one("#login-pin", Input).focus()

    @on(Input.Changed, "#login-operator")
    def _operator_changed(self, event: Input.Changed) -> None:
        if self._code is not None:
            self._move_late_keys()

    def _move_late_keys(self) -> None:
        code = self._code or ""
        value = self.query_one("#login-operator", Input).value  # now, not when the event was sent
        if value.startswith(code) and len(value) > len(code):
            self.query_one("#login-pin", Input).insert_text_at_cursor(
                "".join(ch for ch in value[len(code):] if ch.isdigit()))
            self.query_one("#login-operator", Input).value = code

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "login-operator":
            self._code = None  # the cashier went back to correct the code

    @on(Input.Submitted, "#login-pin")
    def _pin_entered(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit_pin(event.value)  # as typed before Enter: a scan right behind it is no part of it

    _checking = False

    def _submit_pin(self, pin: str | None = None) -> None:
        if self._checking:
            return  # an Enter typed while the PIN is checked (a scan, say) must not start another check
        code = self.query_one("#login-operator", Input).value.strip()
        if pin is None:
            pin = self.query_one("#login-pin", Input).value
        if not code:
            self._say("type your operator code")
            self.query_one("#login-operator", Input).focus()
            return
        if not pin:
            self._say("type your PIN")
            self.query_one("#login-pin", Input).focus()
            return
        self._say("checking…", error=False)
        self._checking = True
        self._login(code, pin)

    @work(exclusive=True, group="login")
    async def _login(self, code: str, pin: str) -> None:
        ctx = self.app.ctx

        def check():
            from data.operators import authenticate

            ctx.wait_ready()
            return authenticate(ctx.engine, code, pin, **ctx.audit_where())

        try:
            operator = await asyncio.to_thread(check)
        except (LoginError, DatabaseUnavailable) as exc:
            pin_input = self.query_one("#login-pin", Input)
            pin_input.value = ""
            self._say(str(exc))
            self.app.bell()
            pin_input.focus()
            return
        finally:
            self._checking = False
        self._logged_in(operator)

    def _logged_in(self, operator) -> None:
        import gc

        from app.screens.sale import SaleScreen

        # What exists now (app, screens, imported modules) lives as long as the till: keep it out of
        # the collector so full collections on the scan path stay short.
        gc.collect()
        gc.freeze()

        self.query_one("#login-pin", Input).value = ""
        self.query_one("#login-operator", Input).value = ""
        self._code = None
        if self.app.ctx.settings.is_back_office and operator.role in ("manager", "supervisor"):
            # On the site database: the manager's console (its `t` opens the sale screen); a cashier
            # gets the sale screen as on any till.
            from app.screens.backoffice import BackOfficeScreen

            self._say("", error=False)
            self.app.push_screen(BackOfficeScreen(operator))
            return
        self._say("", error=False)
        self.app.push_screen(SaleScreen(operator))

    def on_screen_resume(self) -> None:
        self.query_one("#login-operator", Input).focus()

    def database_failed(self, error: str) -> None:
        self._say(f"database: {error}")

    def action_clear(self) -> None:
        self._code = None
        for inp in self.query(Input):
            inp.value = ""
        self._say("", error=False)
        self.query_one("#login-operator", Input).focus()
