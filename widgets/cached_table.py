"""A DataTable that keeps each cell's and each line's rendering until that cell or row changes.

Textual's DataTable keys its line, row and cell caches on a counter that every add_row and update_cell
bumps, and its line cache on the line's place on screen, so one new cart line re-renders every visible
line and cell (most of a frame's time at 100×30, which scans arriving every 10 ms wait behind). Here a
cell's lines are kept against the cell's own value, and a row's line against the row's values (the
same objects, so a changed cell is always rendered anew), with everything else that shapes it: place
in the table, widths, crop, style, and whether the cursor or the mouse is on it."""

from __future__ import annotations

from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.strip import Strip
from textual.widgets import DataTable


class CachedCellTable(DataTable):
    CELL_CACHE = 4000
    LINE_CACHE = 1000

    def __init__(self, *args, **kw) -> None:
        self._own_cells: LRUCache = LRUCache(self.CELL_CACHE)  # before DataTable's init clears caches
        self._own_lines: LRUCache = LRUCache(self.LINE_CACHE)
        self._pass: tuple | None = None  # set while render_lines paints
        super().__init__(*args, **kw)

    def render_lines(self, crop):
        # What every line of this pass shares, looked up once instead of once per line (the widget's
        # style walks its ancestors; the ordered columns are a new list on every call).
        columns = self.ordered_columns
        self._pass = (self.rich_style, columns, tuple(column.get_render_width(self) for column in columns))
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def render_line(self, y: int) -> Strip:
        shared = self._pass
        if shared is None or self.fixed_rows:
            return super().render_line(y)
        if y >= (self.header_height if self.show_header else 0):
            y += self.scroll_offset.y
        scroll_x = self.scroll_offset.x
        return self._render_line(y, scroll_x, scroll_x + self.size.width, shared[0])

    def _render_line(self, y: int, x1: int, x2: int, base_style) -> Strip:
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        shared = self._pass
        columns, widths = (shared[1], shared[2]) if shared else (
            self.ordered_columns, tuple(column.get_render_width(self) for column in self.ordered_columns))
        row = self.rows.get(row_key)
        if row is None:  # the header
            row_index = -1
            values = tuple(column.label for column in columns)
        else:
            row_index = self._row_locations.get(row_key)
            cells = self._data.get(row_key, {})
            values = (row.label, *(cells.get(column.key) for column in columns))
        key = (row_key, line_no, row_index, x1, x2, self.size.width, base_style, widths, self._row_label_column_width,
               self._on_row(self.cursor_coordinate, row_index), self._on_row(self.hover_coordinate, row_index),
               self.cursor_type, self.show_cursor, self._show_hover_cursor, self._pseudo_class_state,
               self.fixed_columns, self.fixed_rows, self.zebra_stripes)
        hit = self._own_lines.get(key)
        if hit is not None and len(hit[0]) == len(values) and all(a is b for a, b in zip(hit[0], values)):
            return hit[1]
        strip = super()._render_line(y, x1, x2, base_style)
        self._own_lines[key] = (values, strip)
        return strip

    def _on_row(self, at: Coordinate, row_index: int):
        """What of a cursor at `at` shows on this row (all the line's rendering depends on)."""
        kind = self.cursor_type
        if kind == "row":
            return at.row == row_index
        if kind == "cell":
            return at.column if at.row == row_index else None
        if kind == "column":
            return at.column
        return None

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
        self._own_lines.clear()

    def notify_style_update(self) -> None:
        self._own_cells.clear()  # CSS or theme changed: cursor and stripe colours with it
        self._own_lines.clear()
        super().notify_style_update()
