"""The manager screens' form dialogs: Enter walks the fields and saves on the last, Ctrl+S saves from
anywhere; the save runs in a thread worker and a refusal keeps the dialog open with every field as it
was typed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Static

from data.text import one_line, printable

log = logging.getLogger("till.console")
T = TypeVar("T")


class Toggle(Checkbox):
    """A checkbox whose X is there only when it is on: in 16 colours on and off may look alike."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.BUTTON_INNER = "X" if self.value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "X" if self.value else " "
        super().watch_value()


class SaveDialog(ModalScreen[T | None], Generic[T]):
    """A form whose OK goes through a blocking `save(value)` run in a thread worker: the dialog closes
    with what `save` returned, or stays open saying why not, with every field as it was typed."""

    class Saved(Message):
        def __init__(self, result: Any) -> None:
            super().__init__()
            self.result = result

    class Failed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(self, save: Callable[[Any], T]) -> None:
        super().__init__()
        self._save_fn = save
        self.saving = False

    @property
    def error_text(self) -> str:
        return str(self.query_one(".admin-error", Static).render())

    def show_error(self, message: str) -> None:
        self.query_one(".admin-error", Static).update(Text(printable(message)))

    def fail(self, message: str, focus: str | None = None) -> None:
        self.show_error(message)
        self.app.bell()
        if focus:
            self.query_one(focus).focus()

    def submit(self, value: Any) -> None:
        if self.saving:
            return
        self.saving = True
        self.show_error("saving …")
        self._save(value)

    @work(thread=True, exclusive=True, group="admin-save", exit_on_error=False)
    def _save(self, value: Any) -> None:
        try:
            result = self._save_fn(value)
        except ValueError as exc:  # AdminError, ProductError: said as they are
            self.post_message(self.Failed(str(exc)))
        except Exception as exc:  # noqa: BLE001 - the database went away, …: one line, and the log
            log.exception("manager screen: save failed")
            self.post_message(self.Failed(f"not saved: {one_line(exc)}"))
        else:
            self.post_message(self.Saved(result))

    @on(Saved)
    def _saved(self, event: Saved) -> None:
        event.stop()
        self.dismiss(event.result)

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        event.stop()
        self.saving = False
        self.fail(event.reason, self.refocus_on(event.reason))

    def refocus_on(self, reason: str) -> str | None:
        """The field to go back to for a refusal (subclasses know their fields)."""
        return None

    def action_cancel(self) -> None:
        self.dismiss(None)


class FormDialog(SaveDialog[T]):
    """A SaveDialog whose Inputs form a chain: Enter moves to the next and saves on the last."""

    FIELD_PREFIX = ""
    """Input ids are FIELD_PREFIX + a key of `chain`."""

    @property
    def chain(self) -> list[str]:
        """The field keys Enter walks through, in order."""
        return []

    def collect(self) -> Any:
        """What the fields say, checked; a ValueError says what is wrong."""
        raise NotImplementedError

    def nothing_to_save(self, value: Any) -> bool:
        return value is None

    def _value(self, key: str) -> str:
        return self.query_one(f"#{self.FIELD_PREFIX}{key}", Input).value

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        key = (event.input.id or "")[len(self.FIELD_PREFIX):]
        chain = self.chain
        if key not in chain or chain.index(key) == len(chain) - 1:
            self.action_save()
        else:
            self.query_one(f"#{self.FIELD_PREFIX}{chain[chain.index(key) + 1]}", Input).focus()

    def action_save(self) -> None:
        if self.saving:
            return
        try:
            value = self.collect()
        except ValueError as exc:  # AdminError, ProductError: said as they are
            self.fail(str(exc), self.refocus_on(str(exc)))
            return
        if not self.nothing_to_save(value):
            self.submit(value)
