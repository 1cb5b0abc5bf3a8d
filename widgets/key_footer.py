"""A Footer that lays its keys out in a grid of `rows` lines, so a cashier's eleven F-keys fit in 80
columns instead of scrolling off the right edge."""

from __future__ import annotations

import math

from textual.widgets import Footer


class KeyFooter(Footer):
    DEFAULT_CSS = """
    KeyFooter.-rows { layout: grid; grid-gutter: 0 1; }
    KeyFooter.-rows FooterKey { width: 1fr; margin: 0; }
    """

    def __init__(self, rows: int = 2, **kw) -> None:
        kw.setdefault("compact", True)
        kw.setdefault("show_command_palette", False)
        super().__init__(**kw)
        self.rows = rows
        if rows > 1:
            self.add_class("-rows")
            self.styles.height = rows

    def compose(self):
        yield from super().compose()
        if self.rows > 1:
            self.styles.grid_size_columns = max(1, math.ceil(self.styles.grid_size_columns / self.rows))


def key_display(key: str) -> str:
    """'f2' → 'F2', 'shift+f6' → 'S-F6', 'delete' → 'Del': short and readable in a Linux console font."""
    parts = key.split("+")
    names = {"delete": "Del", "escape": "Esc", "enter": "Enter", "space": "Space", "pageup": "PgUp",
             "pagedown": "PgDn", "up": "↑", "down": "↓", "plus": "+", "minus": "-", "equals_sign": "="}
    base = parts[-1]
    base = names.get(base, base.upper() if base.startswith("f") and base[1:].isdigit() else base)
    mods = {"shift": "S-", "ctrl": "^", "alt": "M-"}
    return "".join(mods.get(m, m + "+") for m in parts[:-1]) + base
