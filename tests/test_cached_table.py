"""The cart table keeps each cell's rendering until the cell changes: a changed cell, a moved cursor
and a cleared table must still show what is true."""

from __future__ import annotations

from rich.text import Text
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


def _pass_lines(table) -> list:
    """Lines as a frame paints them (render_lines: the per-pass shared style and columns)."""
    from textual.geometry import Region

    return table.render_lines(Region(0, 0, table.size.width, table.size.height))


async def test_lines_follow_the_cursor_the_scroll_and_the_header():
    app = TableApp()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one(CachedCellTable)
        item, _qty = table.add_columns("item", "qty")
        for n in range(12):
            table.add_row(f"thing{n:02d}", str(n), key=f"k{n}")
        await pilot.pause()
        lines = _pass_lines(table)
        assert "thing00" in lines[1].text and len(table._own_lines) > 0
        on_cursor = lines[1]
        table.move_cursor(row=1)
        await pilot.pause()
        lines = _pass_lines(table)
        assert lines[1].text == on_cursor.text and lines[1] != on_cursor  # same row, cursor style gone
        assert lines[2] != _pass_lines(table)[3]  # the cursor row looks unlike its neighbours
        table.move_cursor(row=11)  # scrolls: every line on screen is another row now
        await pilot.pause()
        texts = [strip.text for strip in _pass_lines(table)]
        assert "thing11" in texts[-1] and not any("thing00" in t for t in texts)
        assert texts == [table.render_line(y).text for y in range(table.size.height)]
        table.columns[item].label = Text("article")
        table.refresh()
        await pilot.pause()
        assert "article" in _pass_lines(table)[0].text
