"""The cart table keeps each cell's rendering until the cell changes: a changed cell, a moved cursor
and a cleared table must still show what is true."""

from __future__ import annotations

from textual.app import App

from widgets.cached_table import CachedCellTable


class TableApp(App):
    def compose(self):
        yield CachedCellTable(cursor_type="row")


def _lines(table) -> list[str]:
    return [table.render_line(y).text.rstrip() for y in range(table.size.height)]


async def test_cells_render_anew_when_they_change():
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(CachedCellTable)
        table.add_columns("item", "qty")
        table.add_row("coffee", "1", key="a")
        table.add_row("water", "2", key="b")
        await pilot.pause()
        assert any("coffee" in line and "1" in line for line in _lines(table))
        table.update_cell("a", list(table.columns)[1], "7")
        await pilot.pause()
        first = next(line for line in _lines(table) if "coffee" in line)
        assert first.split()[-1] == "7"
        assert len(table._own_cells) > 0  # something is cached
        table.move_cursor(row=1)
        await pilot.pause()
        assert table.cursor_row == 1 and any("water" in line for line in _lines(table))
        table.clear()
        table.add_row("milk", "3", key="c")
        await pilot.pause()
        lines = _lines(table)
        assert any("milk" in line for line in lines) and not any("coffee" in line for line in lines)
