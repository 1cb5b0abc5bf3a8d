"""The orders list widget on its own (a tiny harness app) and in the F8 dialog: rows drawn from their
current content (never a stale cached line), marks, cursor, scrolling, keys and mouse, outside text
shown literally, the highlighted order's detail read once and at once, and 16 colours."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from textual import on
from textual.app import App, ComposeResult

from data.orders import OrderRow
from tests.pilot import login, press, settle
from tests.test_console16 import _frame, _only_16_colours, sixteen_colours  # noqa: F401 - a fixture
from widgets.order_list import OrderList


def row(n: int, *, status: str = "open", name: str = "Anong", total: str = "100.00", paid: str = "0.00") -> OrderRow:
    return OrderRow(id=n, number=f"ORD-BKK01-{n:06d}", status=status, store_id="BKK01", fulfil_store="BKK01",
                    customer_name=name, customer_phone=f"+668123456{n % 100:02d}",
                    created_at=datetime(2026, 11, 28, 3, 0, tzinfo=UTC), expected_date=None, total=Decimal(total),
                    paid=Decimal(paid), applied=Decimal(0), source="till")


class ListApp(App):
    def __init__(self, rows: list[OrderRow], width: int = 100) -> None:
        super().__init__()
        self.rows, self.list_width = rows, width
        self.heard: list[tuple[str, object]] = []

    def compose(self) -> ComposeResult:
        yield OrderList("THB", "Asia/Bangkok", width=self.list_width, id="orders-list")

    def on_mount(self) -> None:
        self.query_one(OrderList).show(self.rows)
        self.query_one(OrderList).focus()

    @on(OrderList.SelectionChanged)
    def _selection(self, event: OrderList.SelectionChanged) -> None:
        self.heard.append(("selection", event.count))

    @on(OrderList.Highlighted)
    def _highlighted(self, event: OrderList.Highlighted) -> None:
        self.heard.append(("highlighted", event.number))

    @on(OrderList.Activated)
    def _activated(self, event: OrderList.Activated) -> None:
        self.heard.append(("activated", event.number))


def screen_lines(app) -> list[str]:
    """The screen as painted (the compositor's lines), one string a line."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def line_of(app, number: str) -> str:
    return next(line for line in screen_lines(app) if number in line)


def background_of(app, number: str):
    strips = app.screen._compositor.render_strips()
    strip = next(s for s in strips if number in "".join(seg.text for seg in s))
    return next(seg.style.bgcolor for seg in strip if seg.text.strip())


async def test_a_changed_row_is_drawn_from_its_new_content_not_from_the_cache():
    app = ListApp([row(1), row(2)])
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        assert "open" in line_of(app, "ORD-BKK01-000001") and "100.00" in line_of(app, "ORD-BKK01-000001")
        lst = app.query_one(OrderList)
        # Same order, same place, same cursor: only its content changed (a reload after "ready").
        lst.show([row(1, status="ready", total="120.00", paid="120.00"), row(2)])
        await pilot.pause()
        first = line_of(app, "ORD-BKK01-000001")
        assert "ready" in first and "120.00" in first and "open" not in first
        assert "0.00" in first.split("120.00")[-1]  # nothing due
        # A row that moved up takes the stripe and cursor of its new place.
        lst.show([row(2)])
        await pilot.pause()
        assert "ORD-BKK01-000001" not in "\n".join(screen_lines(app))
        assert background_of(app, "ORD-BKK01-000002") != background_of(app, "Order")


async def test_space_shift_and_ctrl_a_mark_rows_and_say_how_many():
    app = ListApp([row(n) for n in range(5, 0, -1)])
    async with app.run_test(size=(100, 12)) as pilot:
        lst = app.query_one(OrderList)
        await pilot.press("space")
        assert line_of(app, "ORD-BKK01-000005").startswith(" * ")
        assert app.heard[-1] == ("selection", 1)
        await pilot.press("shift+down")
        assert lst.chosen() == ["ORD-BKK01-000005", "ORD-BKK01-000004"]
        assert line_of(app, "ORD-BKK01-000004").startswith(" * ") and lst.highlighted == "ORD-BKK01-000004"
        assert ("highlighted", "ORD-BKK01-000004") in app.heard
        cursor_bg = background_of(app, "ORD-BKK01-000004")
        assert cursor_bg != background_of(app, "ORD-BKK01-000005")
        await pilot.press("ctrl+a")
        assert app.heard[-1] == ("selection", 5)
        assert all(line_of(app, f"ORD-BKK01-{n:06d}").startswith(" * ") for n in range(1, 6))
        await pilot.press("ctrl+a")
        assert app.heard[-1] == ("selection", 0) and lst.chosen() == ["ORD-BKK01-000004"]
        assert not line_of(app, "ORD-BKK01-000005").startswith(" * ")
        # Filtered away: the selection keeps only the orders still shown.
        await pilot.press("space")
        lst.show([row(5), row(3)])
        await pilot.pause()
        assert lst.selected == set() and app.heard[-1] == ("selection", 0)


async def test_outside_text_is_shown_literally_and_without_control_bytes():
    app = ListApp([row(1, name="[bold]K[/]\x1b[2J\u202e"), row(2, name="x" * 40)])
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        first = line_of(app, "ORD-BKK01-000001")
        assert " [bold]K[/][2J " in first and "\x1b" not in first and "\u202e" not in first
        assert "x" * 15 + "…" in line_of(app, "ORD-BKK01-000002")  # the 16-wide customer column


async def test_the_cursor_stays_in_view_and_enter_or_a_second_click_opens():
    app = ListApp([row(n) for n in range(60, 0, -1)])
    async with app.run_test(size=(100, 12)) as pilot:
        lst = app.query_one(OrderList)
        await pilot.press("end")
        assert lst.highlighted == "ORD-BKK01-000001" and "ORD-BKK01-000001" in "\n".join(screen_lines(app))
        assert "ORD-BKK01-000060" not in "\n".join(screen_lines(app))
        await pilot.press("home", "pagedown")
        assert lst.highlighted == "ORD-BKK01-000049"  # one page of 11 rows below the header
        await pilot.press("enter")
        assert app.heard[-1] == ("activated", "ORD-BKK01-000049")
        await pilot.click(OrderList, offset=(5, 3))  # the third row on screen
        shown = [line for line in screen_lines(app) if "ORD-" in line]
        assert lst.highlighted is not None and lst.highlighted in shown[2]
        assert app.heard[-1] == ("highlighted", lst.highlighted)
        await pilot.click(OrderList, offset=(5, 3))
        assert app.heard[-1] == ("activated", lst.highlighted)


async def test_a_list_a_little_too_narrow_squeezes_the_customer_not_the_amounts():
    # The columns for 86 cells take 87 (120x40 with the detail beside and a scrollbar, say).
    app = ListApp([row(1, name="Somchai Jaidee the Second", total="1234.00")], width=86)
    async with app.run_test(size=(85, 8)) as pilot:
        await pilot.pause()
        line = line_of(app, "ORD-BKK01-000001")
        assert line.endswith(" 1,234.00 ") and "Somchai Jaide… " in line and len(line) == 85
        assert not app.query_one(OrderList).show_horizontal_scrollbar


# -- in the dialog -----------------------------------------------------------------------------------

def _orders(engine, place, names):
    from tests.order_helpers import make_order

    return [make_order(engine, place, customer_name=name, customer_phone=f"+6681234567{i}")
            for i, name in enumerate(names)]


async def test_the_detail_comes_with_the_list_and_is_read_only_for_another_order(make_till, engine, place,
                                                                                monkeypatch):
    from app.screens.orders import OrdersScreen

    made = _orders(engine, place, ["Kittisak", "Anong", "Somchai"])  # newest (Somchai) first
    reads: list[str] = []
    read = OrdersScreen._read_detail
    monkeypatch.setattr(OrdersScreen, "_read_detail", lambda self, n, g: reads.append(n) or read(self, n, g))
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot)
        await press(pilot, "f8")
        screen = app.screen
        assert isinstance(screen, OrdersScreen)
        assert reads == [made[2].number] and screen.detail.number == made[2].number
        await press(pilot, "slash", "O", "R", "D")  # every order matches: the highlighted one stays
        assert screen.query_one(OrderList).highlighted == made[2].number
        assert reads == [made[2].number]
        await press(pilot, "backspace", "backspace", "backspace", "A", "n", "o")
        assert screen.query_one(OrderList).numbers == [made[1].number]
        assert reads == [made[2].number, made[1].number] and screen.detail.number == made[1].number
        assert "Anong" in str(screen.query_one("#orders-detail").render())
        await press(pilot, "escape")  # clears the search: all three, the cursor stays on the first
        await press(pilot, "down")
        assert screen.detail.number == made[1].number and reads[-1] == made[1].number
        await press(pilot, "down")
        assert screen.detail.number == made[0].number and reads.count(made[0].number) == 1


async def test_the_orders_dialog_in_16_colours(make_till, engine, place, sixteen_colours):  # noqa: F811
    _orders(engine, place, ["Kittisak", "Anong [bold]K[/]", "สมชาย ใจดี"])
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot)
        await press(pilot, "f8", "space", "down")
        await settle(pilot)
        text, output, unseen = _frame(app)
        assert "Anong [bold]K[/]" in text and "1 selected" in text
        assert not _only_16_colours(output)
        assert unseen == []
