"""Outside text (product and operator names, imported orders, receivers' errors) holding Rich markup,
ESC sequences, C0/C1 control bytes or very long names is shown literally and unstyled on the screens,
and never reaches the terminal as a control byte."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from textual.widgets import Input

from app.screens.products import ProductDialog, ProductsScreen
from data import catalog, product_admin
from data.db import write_session
from tests.pilot import enter, login, press, settle
from tests.test_manager_screens import menu_choose, set_field

MARKUP = "[bold]x[/] [link=y]z[/link] [/]"
EVIL = MARKUP + " \x1b[31mred\x1bp0 \x9b1m\x07bell\x85"
SHOWN = "[bold]x[/] [link=y]z[/link] [/] [31mredp0 1mbell"  # what is left once control bytes go
LONG = "Very long name " + "ยาวมาก " * 20  # 155 characters: the CSV import takes up to 200
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def screen_lines(app) -> list[str]:
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def assert_clean(app) -> None:
    """No control byte in anything painted, and no link from markup in outside text."""
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            assert not _CONTROL.search(segment.text), repr(segment.text)
            assert not (segment.style and segment.style.link), segment


def add_products(engine) -> None:
    with write_session(engine) as s:
        catalog.upsert_product(s, sku="EVIL-1", name=EVIL, name_en="", price=Decimal("10"), vat_rate=Decimal("7"))
        catalog.upsert_product(s, sku="LONG-1", name=LONG, price=Decimal("20"), vat_rate=Decimal("7"))


async def open_product(pilot, query: str) -> ProductDialog:
    await login(pilot, "9", "9999")
    await menu_choose(pilot, "products")
    assert isinstance(pilot.app.screen, ProductsScreen)
    await enter(pilot, query)
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ProductDialog)
    return dialog


async def test_products_screen_and_dialog_show_names_literally(make_till, engine):
    add_products(engine)
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot, "9", "9999")
        await menu_choose(pilot, "products")
        await enter(pilot, "EVIL-1")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ProductDialog)
        assert_clean(app)
        assert any(SHOWN[:30] in line for line in screen_lines(app))
        await press(pilot, "escape")
        assert isinstance(app.screen, ProductsScreen)
        assert_clean(app)
        assert any("[bold]x[/] [link=y]z[/link]" in line for line in screen_lines(app))


async def test_a_price_change_keeps_a_name_the_dialog_would_not_take(make_till, engine):
    """An imported name longer than the dialog's limit, or holding control bytes, does not stop a price
    change; the name stays as it was unless the manager edits it."""
    add_products(engine)
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_product(pilot, "LONG-1")
        set_field(dialog, "#pd-price", "25")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ProductsScreen), dialog.error_text
        set_field(app.screen, "#products-search", "EVIL-1")
        await press(pilot, "enter")
        dialog = app.screen
        assert isinstance(dialog, ProductDialog)
        set_field(dialog, "#pd-price", "11")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ProductsScreen), dialog.error_text
    long_row = product_admin.search_products(engine, "LONG-1")[0]
    evil_row = product_admin.search_products(engine, "EVIL-1")[0]
    assert long_row.price == Decimal("25.00") and product_admin.get_product(engine, long_row.id).name == LONG
    assert evil_row.price == Decimal("11.00") and product_admin.get_product(engine, evil_row.id).name == EVIL


async def test_an_edited_name_is_still_checked(make_till, engine):
    add_products(engine)
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        dialog = await open_product(pilot, "LONG-1")
        set_field(dialog, "#pd-name", LONG + "!")
        await press(pilot, "ctrl+s")
        assert app.screen is dialog and "at most 120" in dialog.error_text
        assert dialog.query_one("#pd-name", Input).value == LONG + "!"


# -- operators -----------------------------------------------------------------------------------------

def rename_operator(engine, code: str, name: str) -> None:
    """As the operator pull from the site database may bring a name: as it is there."""
    from sqlmodel import select

    from data.models import Operator

    with write_session(engine) as s:
        s.exec(select(Operator).where(Operator.code == code)).one().name = name


async def test_operators_screen_and_dialog_show_names_literally_and_keep_them(make_till, engine):
    from app.screens.operators import OperatorDialog
    from data.operators import by_code
    from tests.test_manager_screens import open_operators

    rename_operator(engine, "1", LONG + " " + EVIL)  # the field shows its end
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_operators(pilot)
        assert_clean(app)
        assert any("Very long name ยาวมาก" in line for line in screen_lines(app))
        screen.query_one("#operators-table").move_cursor(row=0)
        await press(pilot, "e")
        dialog = app.screen
        assert isinstance(dialog, OperatorDialog)
        assert_clean(app)
        assert any("[link=y]z[/link] [/] [31mredp0" in line for line in screen_lines(app))
        set_field(dialog, "#op-limit", "15")  # the name (too long for the dialog) is not touched
        await press(pilot, "ctrl+s")
        assert app.screen is screen, dialog.error_text
        assert_clean(app)
    op = by_code(engine, "1")
    assert op.discount_limit_pct == Decimal("15") and op.name == LONG + " " + EVIL


# -- the order form: an imported order's text in its fields ------------------------------------------------

async def test_order_form_keeps_control_bytes_of_an_imported_order_off_the_terminal():
    from datetime import date

    from textual.app import App

    from app.screens.order_form import OrderForm
    from data.orders import OrderDetails

    details = OrderDetails(customer_name=EVIL, customer_phone="0812345678", delivery_method="deliver",
                           delivery_address=EVIL, comments=EVIL, source="ecommerce")

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(OrderForm("Change ORD-1", details, region="TH", today=date(2026, 12, 1)))

    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, OrderForm)
        assert_clean(app)


# -- health, job detail and the receipt preview: a receiver's error and body ----------------------------

class EvilReceiver:
    """A webhook receiver on 127.0.0.1 answering 500 with markup, ESC sequences and C1 bytes."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length", 0)))
                body = (EVIL + "\n" + LONG + "\n[red]boom[/red]").encode("utf-8")
                self.send_response(500)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("X-Why", "[bold]hdr[/] \x1b[31m")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def evil_receiver():
    r = EvilReceiver()
    yield r
    r.stop()


async def test_health_screen_job_detail_and_receipt_preview_show_errors_literally(make_till, settings, engine,
                                                                                  evil_receiver):
    from app.config import ConnectorSettings
    from app.exports import run_once, targets
    from app.screens.export_job import ExportJobScreen
    from app.screens.health import HealthScreen
    from app.screens.receipt import ReceiptScreen
    from app.tui import place_from_settings
    from data.operators import by_code
    from data.sales import commit_sale
    from tests import carts
    from tests.test_health_screen import SECRET

    add_products(engine)
    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url=evil_receiver.url, secret=SECRET,
                                             live=True, retry_schedule=[600, 600])]
    place = place_from_settings(settings, engine)
    cart, pay = carts.paid_cart(engine, place, [("EVIL-1", 1), ("LONG-1", 2)])
    commit_sale(engine, place, by_code(engine, "1"), cart, pay, exports=targets(settings))
    run_once(settings, engine)
    app = make_till(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot)
        await press(pilot, "f11")
        assert isinstance(app.screen, HealthScreen)
        assert_clean(app)
        await press(pilot, "tab")
        await press(pilot, "enter")
        assert isinstance(app.screen, ExportJobScreen)
        assert_clean(app)
        lines = screen_lines(app)
        assert any("[red]boom[/red]" in line for line in lines), lines
        for _ in range(6):
            await press(pilot, "pagedown")
            assert_clean(app)
        await press(pilot, "escape")
        await press(pilot, "escape")
        await menu_choose(pilot, "receipt")
        assert isinstance(app.screen, ReceiptScreen)
        assert_clean(app)
        lines = screen_lines(app)
        assert any("[bold]x[/] [link=y]z[/link]" in line for line in lines), lines


async def test_item_stock_shows_names_and_customers_literally(make_till, engine, place):
    from app.screens.inventory import InventoryScreen
    from data import orders
    from data.orders import NewLine, OrderDetails

    add_products(engine)
    orders.create_order(engine, place.store_id, "9",
                        [NewLine("EVIL-1", EVIL, Decimal(2), Decimal("10.00"), Decimal("7"))],
                        OrderDetails(customer_name=EVIL, customer_phone="+66812345670", fulfil_store=place.store_id,
                                     expected_date="2026-12-05", comments=EVIL),
                        currency=place.currency, prices_include_vat=True)
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot)
        await menu_choose(pilot, "stock")
        await enter(pilot, "EVIL-1")
        assert isinstance(app.screen, InventoryScreen)
        assert app.screen.inventory.holdings
        assert_clean(app)
        lines = screen_lines(app)
        assert any("[bold]x[/] [link=y]z[/link]" in line for line in lines), lines


# -- the sale: cart, search, payment, refund, parked sales, the printed receipt --------------------------

async def test_sale_screens_show_names_literally_and_the_printer_gets_no_control_bytes(make_till, engine, home):
    from app.screens.sale import SaleScreen

    add_products(engine)
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot)
        await enter(pilot, "EVIL-1")
        await enter(pilot, "2*LONG-1")
        assert [l.sku for l in app.screen.cart.lines] == ["EVIL-1", "LONG-1"]
        assert_clean(app)
        assert any("[bold]x[/] [link=y]z[/link]" in line for line in screen_lines(app))
        await press(pilot, "f2")
        await enter(pilot, "EVIL", typed=False)
        await settle(pilot)
        assert_clean(app)
        await press(pilot, "escape")
        await press(pilot, "f10")
        assert_clean(app)
        await enter(pilot, "")
        assert isinstance(app.screen, SaleScreen) and app.screen.cart.is_empty
        assert_clean(app)
        await press(pilot, "f9")
        await enter(pilot, "BKK01-T1-000001")
        assert app.screen.__class__.__name__ == "RefundScreen"
        assert_clean(app)
        assert any("[bold]x[/] [link=y]z[/link]" in line for line in screen_lines(app))
        await press(pilot, "escape")
        await enter(pilot, "EVIL-1")
        await press(pilot, "f7")
        await press(pilot, "f7")
        assert app.screen.__class__.__name__ == "ParkedScreen"
        assert_clean(app)
        await press(pilot, "escape")
    data = (home / "receipts.prn").read_bytes()
    assert b"[bold]x[/] [link=y]z[/link] [/] [31mredp0" in data
    assert b"\x1bp0" not in data.replace(b"\x1bp\x00", b"")  # the drawer kick of the cash sale only
    assert b"\x9b" not in data and b"\x85" not in data and b"\x07bell" not in data


async def test_item_stock_shows_a_journal_operator_literally(make_till, engine, place):
    """`till import orders --operator TEXT` (and other tills, through the site) write who made a
    reservation: the journal shows it as it is, and an unbalanced `[/]` is no crash."""
    from app.screens.inventory import InventoryScreen
    from data import orders
    from data.orders import NewLine, OrderDetails

    add_products(engine)
    orders.create_order(engine, place.store_id, "[/] [bold]imp[/] \x1b[31m",
                        [NewLine("EVIL-1", EVIL, Decimal(1), Decimal("10.00"), Decimal("7"))],
                        OrderDetails(customer_name="Anong", customer_phone="+66812345670", fulfil_store=place.store_id),
                        currency=place.currency, prices_include_vat=True)
    app = make_till()
    async with app.run_test(size=(120, 40)) as pilot:
        await login(pilot)
        await menu_choose(pilot, "stock")
        await enter(pilot, "EVIL-1")
        assert isinstance(app.screen, InventoryScreen)
        assert app.screen.inventory.journal
        assert_clean(app)
        assert any("[/] [bold]imp[/]" in line for line in screen_lines(app)), screen_lines(app)
