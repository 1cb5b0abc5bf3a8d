"""Input that submits in key order.

Textual resolves Enter as a binding after the key event has bubbled, so in a fast burst
("1⏎1111⏎" from a pty, or a keyboard-wedge scanner sending two codes back to back) the characters
after Enter are already in the field when it submits. Here Enter is handled with the other keys,
in order, so each submit carries exactly what was typed before it. With `tab_submits`, Tab on a field
that holds text does the same (Tab's own focus move would come after the keys typed behind it).
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class OrderedInput(Input):
    def __init__(self, *args, clear_on_submit: bool = False, tab_submits: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clear_on_submit = clear_on_submit
        self.tab_submits = tab_submits

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" or (event.key == "tab" and self.tab_submits and self.value):
            event.stop()
            event.prevent_default()
            value = self.value
            if self.clear_on_submit:
                self.value = ""
            self.post_message(self.Submitted(self, value, None))
            return
        await super()._on_key(event)
