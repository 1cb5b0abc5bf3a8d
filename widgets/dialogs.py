"""Small typed dialogs: a confirm, a one-field prompt that parses its value, and the PIN prompt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from data.text import printable

T = TypeVar("T")


class ConfirmDialog(ModalScreen[bool]):
    """Yes or no; Escape is no."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical { width: 60; max-width: 90%; height: auto; border: thick $primary; background: $panel; padding: 1 2; }
    ConfirmDialog .dialog-hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes"),
        Binding("n", "answer(False)", "No", id="confirm_no"),
        Binding("escape", "answer(False)", "Cancel", id="confirm_cancel"),
    ]

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self._title = title
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(printable(self._title), style="bold"))
            yield Static(Text(printable(self._question)))
            yield Static(Text("y = yes · n = no · Esc = cancel"), classes="dialog-hint")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class Prompt(ModalScreen[T | None], Generic[T]):
    """One field. `parse` turns the text into the value or raises ValueError with the message shown;
    the dialog stays open until the value is good or the cashier presses Escape."""

    DEFAULT_CSS = """
    Prompt { align: center middle; }
    Prompt > Vertical { width: 64; max-width: 95%; height: auto; border: thick $primary; background: $panel; padding: 0 1; }
    Prompt .prompt-title { text-style: bold; }
    Prompt .prompt-error { color: $error; height: auto; }
    Prompt .prompt-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt_cancel")]

    def __init__(self, title: str, label: str, parse: Callable[[str], T], *, value: str = "",
                 password: bool = False, hint: str = "", allow_empty: bool = False, error: str = "",
                 id: str | None = None) -> None:
        """`error`: shown from the start (why the last try was refused)."""
        super().__init__(id=id)
        self._title, self._label, self._parse = title, label, parse
        self._value, self._password, self._hint, self._allow_empty = value, password, hint, allow_empty
        self._error = error

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(printable(self._title)), classes="prompt-title")
            yield Static(Text(printable(self._label)), classes="prompt-label")
            yield Input(value=self._value, password=self._password, id="prompt-input")
            yield Static(Text(printable(self._error)), id="prompt-error", classes="prompt-error")
            yield Static(Text(printable(self._hint or "Enter = OK · Esc = cancel")), classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def error_text(self) -> str:
        return str(self.query_one("#prompt-error", Static).render())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if not text.strip() and not self._allow_empty:
            self._show_error("type a value, or Esc to cancel")
            return
        try:
            value = self._parse(text)
        except ValueError as exc:
            self._show_error(str(exc))
            self.app.bell()
            inp = self.query_one(Input)
            if self._password:
                inp.value = ""
            else:
                inp.select_all()  # typed again, the next try replaces it (arrows keep it for a correction)
            return
        self.dismiss(value)

    def _show_error(self, message: str) -> None:
        self.query_one("#prompt-error", Static).update(Text(printable(message)))

    def action_cancel(self) -> None:
        self.dismiss(None)


class PinPrompt(Prompt[str]):
    """A manager PIN: one field, Enter. Checking it is the caller's job (it is slow on purpose)."""

    def __init__(self, reason: str, error: str = "") -> None:
        super().__init__("Manager PIN", reason, _digits, password=True, error=error,
                         hint="Manager: type your PIN, Enter · Esc = cancel")


def _digits(text: str) -> str:
    text = text.strip()
    if not text.isdigit():
        raise ValueError("a PIN is digits only")
    return text


class ChoiceDialog(ModalScreen[str | None]):
    """A few numbered or lettered choices, one key each (shown in the footer too); Escape cancels.
    `choices` are (key, label, value); a choice given as None for value is shown greyed out."""

    DEFAULT_CSS = """
    ChoiceDialog { align: center middle; }
    ChoiceDialog > Vertical { width: 64; max-width: 95%; height: auto; border: thick $primary; background: $panel; padding: 0 1; }
    ChoiceDialog .choice-off { color: $text-disabled; }
    ChoiceDialog .dialog-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "choose(None)", "Cancel", id="choice_cancel")]

    def __init__(self, title: str, question: str, choices: list[tuple[str, str, str | None]]) -> None:
        super().__init__()
        self._title, self._question, self._choices = title, question, choices
        for i, (key, label, value) in enumerate(choices):
            if value is not None:
                self._bindings.bind(key, f"choose({value!r})", label, show=True)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(printable(self._title), style="bold"))
            if self._question:
                yield Static(Text(printable(self._question)))
            for key, label, value in self._choices:
                yield Static(Text(f" {key}  {label}"), classes="choice" if value is not None else "choice-off")
            yield Static(Text("press the key of a choice · Esc = cancel"), classes="dialog-hint")

    def action_choose(self, value: str | None) -> None:
        self.dismiss(value)
