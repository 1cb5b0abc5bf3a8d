"""A DataTable that keeps each cell's rendering until that cell changes.

Textual's DataTable keys its cell cache on a counter that every add_row and update_cell bumps, so one
new cart line re-renders every visible cell through Rich (most of a frame's time at 100×30, which
scans arriving every 10 ms wait behind). Here a cell's lines are kept against the cell's own value
(the same object, so a changed cell is always rendered anew), its width, style and cursor state."""

from __future__ import annotations

from textual.cache import LRUCache
from textual.widgets import DataTable


class CachedCellTable(DataTable):
    CELL_CACHE = 4000

    def __init__(self, *args, **kw) -> None:
        self._own_cells: LRUCache = LRUCache(self.CELL_CACHE)  # before DataTable's init clears caches
        super().__init__(*args, **kw)

    def _render_cell(self, row_index, column_index, base_style, width, cursor=False, hover=False):
        if row_index < 0 or column_index < 0:  # header and row labels: few, and DataTable's own cache
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        value = self._data.get(row_key, {}).get(column_key)
        key = (row_key, column_key, row_index, base_style, width, cursor, hover, self._show_hover_cursor,
               self._pseudo_class_state, self.show_cursor, self.cursor_type)
        hit = self._own_cells.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._own_cells[key] = (value, lines)
        return lines

    def _clear_caches(self) -> None:
        # clear(), cursor, zebra, padding, fixed rows: whatever makes DataTable drop its caches.
        super()._clear_caches()
        self._own_cells.clear()

    def notify_style_update(self) -> None:
        self._own_cells.clear()  # CSS or theme changed: cursor and stripe colours with it
        super().notify_style_update()
