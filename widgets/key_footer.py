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
        self._shown: tuple | None = None
        if rows > 1:
            self.add_class("-rows")
            self.styles.height = rows

    def _keys(self) -> tuple:
        """What the footer shows: the keys, their words, whether they are enabled."""
        return tuple((binding.key, binding.description, enabled, tooltip)
                     for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values() if binding.show)

    def bindings_changed(self, screen) -> None:
        # Textual's Footer recomposes (a dozen widgets mounted and styled) on every focus change and
        # binding refresh; most change nothing it shows. Recompose only when the keys shown differ.
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if self.is_attached and self._keys() != self._shown:
            await self.recompose()

    def compose(self):
        if self._bindings_ready:
            self._shown = self._keys()
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
