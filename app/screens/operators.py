"""Operators and roles (F12 → "Operators and roles", managers only; the back-office console pushes
`OperatorsScreen(operator)` too): every operator in a table; `n` new, `e`/Enter edit (name, role,
discount limit, permissions), `p` reset PIN (typed twice, masked), `l` lock or unlock, Esc back.

Reading and every change run in thread workers through data.operator_admin (which audits them with
the acting manager's code) and come back as messages. The dialogs check what they can on the spot and,
when the database refuses (code taken, last manager), say why and keep everything typed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Input, Label, Static

from data import operator_admin
from data.operator_admin import AdminError, OperatorRow
from data.operators import PERMISSIONS, OperatorInfo
from data.text import one_line, printable
from widgets.cart_table import right
from widgets.dialogs import ConfirmDialog
from widgets.key_footer import KeyFooter
from app.screens.save_dialog import FormDialog, SaveDialog, Toggle
from widgets.status_bar import StatusBar

log = logging.getLogger("till.console")

ROLE_HINT = "c = cashier · s = supervisor · m = manager"
PERMISSION_SHORT = {"manage_orders": "orders"}  # the table column; the dialog uses PERMISSIONS' words


@dataclass(frozen=True)
class OperatorEdit:
    code: str
    name: str | None  # None: unchanged
    role: str
    discount_limit_pct: Any
    permissions: tuple[str, ...]
    pin: str | None = None  # new operators only


class OperatorDialog(FormDialog[OperatorRow]):
    FIELD_PREFIX = "op-"

    """A new operator (`row` None: code and PIN too) or an existing one's name, role, limit, permissions.
    Enter moves to the next field and saves on the last; Ctrl+S saves from anywhere; Esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="operator_form_cancel"),
        Binding("ctrl+s", "save", "Save", id="operator_form_save", priority=True),
    ]

    def __init__(self, row: OperatorRow | None, save: Callable[[OperatorEdit], OperatorRow]) -> None:
        super().__init__(save)
        self.row = row

    @property
    def is_new(self) -> bool:
        return self.row is None

    @property
    def chain(self) -> list[str]:
        """The fields Enter walks through (the permission toggles are reached with Tab)."""
        fields = ["code"] if self.is_new else []
        fields += ["name", "role", "limit"]
        return fields + (["pin", "pin2"] if self.is_new else [])

    def compose(self) -> ComposeResult:
        r = self.row
        title = "New operator" if r is None else f"Operator {r.code}"
        with Vertical(id="operator-form", classes="dialog admin-form"):
            yield Label(Text(printable(title)), classes="dialog-title")
            with Grid(classes="form-grid"):
                if r is None:
                    yield Label("Code", classes="form-label")
                    yield Input(placeholder="letters or digits, e.g. 5", id="op-code", classes="form-input",
                                restrict=r"[0-9A-Za-z]*", max_length=16)
                yield Label("Name", classes="form-label")
                yield Input(value=printable(r.name) if r else "", placeholder="name on receipts", id="op-name",
                            classes="form-input")
                yield Label("Role", classes="form-label")
                yield Input(value=r.role if r else "", placeholder=f"{ROLE_HINT}; empty = cashier", id="op-role",
                            classes="form-input")
                yield Label("Discount %", classes="form-label")
                yield Input(value=str(r.discount_limit_pct) if r else "", id="op-limit", classes="form-input",
                            placeholder="largest discount allowed; empty = the role's default" if r is None else "")
                for i, (key, words) in enumerate(PERMISSIONS.items()):
                    yield Label("Permissions" if i == 0 else "", classes="form-label")
                    yield Toggle(words, value=bool(r and key in r.permissions), id=f"op-perm-{key}", compact=True)
                if r is None:
                    yield Label("PIN", classes="form-label")
                    yield Input(password=True, placeholder="4 to 8 digits", id="op-pin", classes="form-input",
                                restrict=r"[0-9]*", max_length=operator_admin.PIN_MAX)
                    yield Label("PIN again", classes="form-label")
                    yield Input(password=True, placeholder="the same PIN", id="op-pin2", classes="form-input",
                                restrict=r"[0-9]*", max_length=operator_admin.PIN_MAX)
            yield Static("", classes="admin-error")
            yield Static(f"Role: {ROLE_HINT}", classes="muted")
            yield Static("Enter = next field · Space = toggle · Ctrl+S = save · Esc = cancel", classes="muted")
        yield KeyFooter(rows=1)

    def on_mount(self) -> None:
        self.query_one(f"#op-{self.chain[0]}", Input).focus()

    def collect(self) -> OperatorEdit | None:
        r = self.row
        code = operator_admin.check_code(self._value("code")) if r is None else r.code
        # A name as it was shown is no change (one pulled from the site may be longer than a typed one may
        # be, or hold control bytes the field leaves out): None leaves it as it is.
        name = None if r is not None and self._value("name") == printable(r.name) else \
            operator_admin.check_name(self._value("name"))
        role_text = self._value("role")
        role = "cashier" if r is None and not role_text.strip() else operator_admin.parse_role(role_text)
        limit_text = self._value("limit").strip()
        limit = None if (r is None and not limit_text) else operator_admin.parse_discount_limit(limit_text)
        perms = tuple(key for key in PERMISSIONS if self.query_one(f"#op-perm-{key}", Checkbox).value)
        pin = None
        if r is None:
            pin = operator_admin.check_pin(self._value("pin"))
            if self._value("pin2") != pin:
                for key in ("pin", "pin2"):
                    self.query_one(f"#op-{key}", Input).value = ""
                raise AdminError("the two PINs differ; type the PIN twice again")
        return OperatorEdit(code, name, role, limit, perms, pin)

    def refocus_on(self, reason: str) -> str | None:
        reason = reason.lower()
        for word, key in (("pin", "pin"), ("code", "code"), ("name", "name"), ("role", "role"),
                          ("manager", "role"), ("discount", "limit")):
            if word in reason and (key in self.chain):
                return f"#op-{key}"
        return None


class PinDialog(SaveDialog[OperatorRow]):
    """A new PIN for an operator, typed twice (masked); Enter, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pin_form_cancel")]

    def __init__(self, row: OperatorRow, save: Callable[[str], OperatorRow]) -> None:
        super().__init__(save)
        self.row = row

    def compose(self) -> ComposeResult:
        r = self.row
        with Vertical(id="pin-form", classes="dialog admin-form"):
            yield Label(Text(printable(f"New PIN for {r.code} {r.name}")), classes="dialog-title")
            with Grid(classes="form-grid"):
                yield Label("New PIN", classes="form-label")
                yield Input(password=True, placeholder="4 to 8 digits", id="pin-1", classes="form-input",
                            restrict=r"[0-9]*", max_length=operator_admin.PIN_MAX)
                yield Label("PIN again", classes="form-label")
                yield Input(password=True, placeholder="the same PIN", id="pin-2", classes="form-input",
                            restrict=r"[0-9]*", max_length=operator_admin.PIN_MAX)
            yield Static("", classes="admin-error")
            yield Static("Clears wrong-PIN locks. Enter = next / save · Esc = cancel", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#pin-1", Input).focus()

    @on(Input.Submitted, "#pin-1")
    def _first(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            operator_admin.check_pin(event.value)
        except AdminError as exc:
            event.input.value = ""
            self.fail(str(exc))
            return
        self.show_error("")
        self.query_one("#pin-2", Input).focus()

    @on(Input.Submitted, "#pin-2")
    def _second(self, event: Input.Submitted) -> None:
        event.stop()
        if self.saving:
            return
        first, second = self.query_one("#pin-1", Input), self.query_one("#pin-2", Input)
        try:
            pin = operator_admin.check_pin(first.value)
        except AdminError as exc:
            first.value = second.value = ""
            self.fail(str(exc), "#pin-1")
            return
        if second.value != pin:
            first.value = second.value = ""
            self.fail("the two PINs differ; type the new PIN twice again", "#pin-1")
            return
        self.submit(pin)


class OperatorsScreen(Screen):
    BINDINGS = [
        Binding("escape", "close", "Back", id="operators_close", tooltip="Back to where you came from"),
        Binding("n", "new", "New", id="operators_new", tooltip="Add an operator"),
        Binding("e", "edit", "Edit", id="operators_edit",
                tooltip="Name, role, discount limit and permissions of the highlighted operator"),
        Binding("enter", "edit", "Edit", id="operators_edit_enter", show=False, priority=True),
        Binding("p", "pin", "PIN", id="operators_pin", tooltip="Reset the highlighted operator's PIN"),
        Binding("l", "lock", "Lock/unlock", id="operators_lock", tooltip="Lock or unlock the highlighted operator"),
    ]

    class Loaded(Message):
        def __init__(self, rows: list[OperatorRow], keep: str | None) -> None:
            super().__init__()
            self.rows, self.keep = rows, keep

    class Done(Message):
        def __init__(self, text: str, level: str = "info", keep: str | None = None) -> None:
            super().__init__()
            self.text, self.level, self.keep = text, level, keep

    def __init__(self, operator: OperatorInfo) -> None:
        super().__init__()
        self.operator = operator
        self.rows: list[OperatorRow] = []
        self._binding_state: tuple | None = None

    @property
    def ctx(self):
        return self.app.ctx

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        store = self.ctx.settings.store
        yield Label(Text(printable(f"Operators and roles · {store.id}/{store.terminal}")), classes="admin-title")
        yield DataTable(id="operators-table", cursor_type="row", zebra_stripes=True)
        yield StatusBar(id="operators-status")
        yield KeyFooter(rows=1)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        fixed = {"code": 8, "role": 10, "status": 12, "limit": 6, "perms": 9}
        name = max(12, self.app.size.width - sum(fixed.values()) - 2 * 6 - 2)  # cell padding, scrollbar
        for key, label, width in (("code", "Code", fixed["code"]), ("name", "Name", name),
                                  ("role", "Role", fixed["role"]), ("status", "Status", fixed["status"]),
                                  ("limit", "Disc %", fixed["limit"]), ("perms", "Grants", fixed["perms"])):
            table.add_column(label, key=key, width=width)
        store = self.ctx.settings.store
        status = self.query_one(StatusBar)
        status.place = f"{store.id}/{store.terminal} · {self.operator.name}"
        if not self.operator.is_manager:
            self.say("operators and roles are for managers", "error")
        else:
            self.say("n new · e edit · p reset PIN · l lock or unlock · Esc back")
        table.focus()
        self.load()

    def say(self, message: str, level: str = "info") -> None:
        self.query_one(StatusBar).say(message, level)

    @property
    def highlighted(self) -> OperatorRow | None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("new", "edit", "pin", "lock") and not self.operator.is_manager:
            return False
        if action in ("edit", "pin", "lock"):
            row = self.highlighted
            if row is None:
                return None
            if action == "lock" and row.code == self.operator.code:
                return None  # a manager does not lock themselves (data.operator_admin refuses it too)
        return True

    def _refresh_bindings_if_changed(self) -> None:
        row = self.highlighted
        state = (row is not None, row is not None and row.code == self.operator.code)
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    # -- reading -----------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="operators-load", exit_on_error=False)
    def load(self, keep: str | None = None) -> None:
        try:
            rows = operator_admin.list_operators(self.ctx.engine)
        except Exception as exc:  # noqa: BLE001 - one line on the status bar, the detail in the log
            log.exception("operators: cannot read")
            self.post_message(self.Done(f"cannot read the operators: {one_line(exc)}", "error"))
            return
        self.post_message(self.Loaded(rows, keep))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        table = self.query_one(DataTable)
        keep = event.keep or (self.highlighted.code if self.highlighted else None)
        self.rows = event.rows
        with self.app.batch_update():
            table.clear()
            for r in event.rows:
                grants = ", ".join(PERMISSION_SHORT.get(p, p) for p in r.permissions) or "—"
                status = r.status()
                table.add_row(Text(printable(r.code)), Text(printable(r.name), no_wrap=True, overflow="ellipsis"),
                              r.role, Text(status, style="bold" if status != "active" else ""),
                              right(f"{r.discount_limit_pct}", 6), Text(printable(grants)), key=r.code)
            if keep is not None:
                for i, r in enumerate(event.rows):
                    if r.code == keep:
                        table.move_cursor(row=i)
                        break
        self._refresh_bindings_if_changed()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._refresh_bindings_if_changed()

    @on(Done)
    def _done(self, event: Done) -> None:
        if event.level == "error":
            self.app.bell()
        self.say(event.text, event.level)
        if event.level != "error" or event.keep:
            self.load(event.keep)

    # -- actions -----------------------------------------------------------------------------------
    def _where(self) -> dict[str, Any]:
        return {"by": self.operator.code, **self.ctx.audit_where()}

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_new(self) -> None:
        engine, where = self.ctx.engine, self._where()

        def save(edit: OperatorEdit) -> OperatorRow:  # runs in the dialog's thread worker
            return operator_admin.create_operator(engine, code=edit.code, name=edit.name, pin=edit.pin or "",
                                                  role=edit.role, discount_limit_pct=edit.discount_limit_pct,
                                                  permissions=edit.permissions, **where)

        self.app.push_screen(OperatorDialog(None, save), partial(self._after, "new operator"))

    def action_edit(self) -> None:
        row = self.highlighted
        if row is None:
            return
        engine, where = self.ctx.engine, self._where()

        def save(edit: OperatorEdit) -> OperatorRow:
            return operator_admin.update_operator(engine, row.code, name=edit.name, role=edit.role,
                                                  discount_limit_pct=edit.discount_limit_pct,
                                                  permissions=edit.permissions, **where)

        self.app.push_screen(OperatorDialog(row, save), partial(self._after, "edit"))

    def action_pin(self) -> None:
        row = self.highlighted
        if row is None:
            return
        engine, where = self.ctx.engine, self._where()
        save = lambda pin: operator_admin.reset_pin(engine, row.code, pin, **where)  # noqa: E731
        self.app.push_screen(PinDialog(row, save), partial(self._after, "PIN reset"))

    def _after(self, what: str, result: OperatorRow | None) -> None:
        if result is None:
            self.say(f"{what}: cancelled, nothing changed")
            self.load()  # Esc while saving: the list shows whatever was saved
            return
        done = {"new operator": "created", "edit": "saved", "PIN reset": "has a new PIN"}[what]
        note = "; still locked: l unlocks" if what == "PIN reset" and result.locked else ""
        self.say(printable(f"operator {result.code} {result.name} {done}{note}"))
        self.load(result.code)

    def action_lock(self) -> None:
        row = self.highlighted
        if row is None or row.code == self.operator.code:
            return
        engine, where = self.ctx.engine, self._where()
        if row.locked or row.locked_out():
            self._lock(engine, where, row.code, False)
            return
        question = (f"Lock {row.code} {row.name}? They cannot log in or approve anything until a manager "
                    "unlocks them (l again).")

        def answered(yes: bool | None) -> None:
            if yes:
                self._lock(engine, where, row.code, True)
            else:
                self.say("lock: cancelled")

        self.app.push_screen(ConfirmDialog("Lock operator", question), answered)

    @work(thread=True, exclusive=True, group="operators-change", exit_on_error=False)
    def _lock(self, engine, where: dict[str, Any], code: str, locked: bool) -> None:
        try:
            row = operator_admin.set_locked(engine, code, locked, **where)
        except AdminError as exc:
            self.post_message(self.Done(str(exc), "error", keep=code))
            return
        except Exception as exc:  # noqa: BLE001
            log.exception("operators: lock failed")
            self.post_message(self.Done(f"not changed: {one_line(exc)}", "error", keep=code))
            return
        self.post_message(self.Done(printable(f"operator {row.code} {row.name} {'locked' if locked else 'unlocked'}"),
                                    keep=code))
