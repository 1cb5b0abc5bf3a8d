"""Scanners and printers with real bytes: pseudo-terminals for serial devices, a TCP server for the
network printer. The app is built through make_app with [scanner] and [printer] pointing at them."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from app.devices.printer import printer_problem
from app.devices.scanner import split_scans
from app.screens.sale import SaleScreen
from app.screens.search import SearchScreen
from data import catalog
from data.barcodes import with_check_digit
from data.db import write_session
from data.models import PrintJob, Sale
from tests.conftest import COFFEE, HIGHLIGHTER, WATER
from tests.fake_devices import COVER_OPEN, ONLINE, PAPER_OUT, NetworkPrinter, Pty, SerialPrinter, free_port
from tests.pilot import enter, login, press, settle


def generated_barcode(index: int) -> str:
    return with_check_digit(f"885{100_000 + index:09d}")


async def wait_until(pilot, condition, timeout: float = 6.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
        await pilot.pause()
    return condition()


# -- scanner ---------------------------------------------------------------------------------------

def test_split_scans_handles_bursts_partials_and_garbage():
    codes, rest = split_scans(b"4006381333931\r8850000000010\r\n\x00\xff8850000000034\r885", b"\r")
    assert codes == ["4006381333931", "8850000000010", "8850000000034"] and rest == b"885"
    codes, rest = split_scans(b"]E04006381333931\t", b"\t", b"]E0")
    assert codes == ["4006381333931"] and rest == b""
    codes, rest = split_scans(b"x" * 300, b"\r")
    assert codes == [] and rest == b""  # noise without a suffix is dropped, not kept for ever


@pytest.fixture
def scanner_settings(settings, tmp_path):
    pty = Pty(tmp_path / "ttyScanner")
    settings.scanner.port = pty.url
    yield settings, pty
    pty.unplug()


async def test_serial_scans_arrive_in_order_including_a_burst_of_50(scanner_settings, make_till):
    settings, pty = scanner_settings
    app = make_till(settings)
    async with app.run_test() as pilot:
        await login(pilot)
        assert await wait_until(pilot, lambda: app.scanner_state == "connected")
        sale = app.screen
        pty.write(b"4006381333931\r")
        assert await wait_until(pilot, lambda: len(sale.cart.lines) == 1)
        assert sale.cart.lines[0].sku == "HL-001"
        burst = [generated_barcode(i) for i in range(1, 51)]
        pty.write(b"".join(code.encode() + b"\r" for code in burst))
        assert await wait_until(pilot, lambda: len(sale.cart.lines) == 51)
        assert [line.barcode for line in sale.cart.lines[1:]] == burst
        # a scan split over two writes, garbage bytes, and a code that is not in the catalogue
        pty.write(b"88500000")
        await asyncio.sleep(0.3)
        pty.write(b"00010\r\x00\x07\xff\r9999999999994\r")
        assert await wait_until(pilot, lambda: "unknown code 9999999999994" in sale.status.text)
        assert sale.cart.lines[-1].sku == "CF-001" and len(sale.cart.lines) == 52
        assert sale.scan_input.value == ""  # a serial scan never lands in the typing field


async def test_unplugged_scanner_says_so_and_resumes(scanner_settings, make_till, tmp_path):
    settings, pty = scanner_settings
    app = make_till(settings)
    async with app.run_test() as pilot:
        await login(pilot)
        assert await wait_until(pilot, lambda: app.scanner_state == "connected")
        pty.unplug()
        assert await wait_until(pilot, lambda: app.scanner_state.startswith("disconnected"))
        assert "scanner disconnected" in app.screen.status.text
        await enter(pilot, COFFEE)  # the keyboard still works
        replug = Pty(tmp_path / "ttyScanner")
        try:
            assert await wait_until(pilot, lambda: app.scanner_state == "connected", timeout=8)
            assert await wait_until(pilot, lambda: "scanner connected again" in app.screen.status.text)
            replug.write(b"4006381333931\r")
            assert await wait_until(pilot, lambda: [l.sku for l in app.screen.cart.lines] == ["CF-001", "HL-001"])
        finally:
            replug.unplug()
    assert app.scanner is not None and not app.scanner.is_alive()


async def test_missing_scanner_port_is_a_status_not_a_crash(settings, make_till, tmp_path):
    settings.scanner.port = str(tmp_path / "no-such-tty")
    app = make_till(settings)
    async with app.run_test() as pilot:
        await login(pilot)
        assert await wait_until(pilot, lambda: app.scanner_state.startswith("disconnected"))
        assert "scanner disconnected" in app.screen.status.text
        await enter(pilot, WATER)
        assert [l.sku for l in app.screen.cart.lines] == ["WT-001"]


async def test_scan_during_dialogs_goes_to_search_or_waits(scanner_settings, make_till):
    settings, pty = scanner_settings
    app = make_till(settings)
    async with app.run_test() as pilot:
        await login(pilot)
        assert await wait_until(pilot, lambda: app.scanner_state == "connected")
        sale = app.screen
        await press(pilot, "f2")
        pty.write(b"8850000000010\r")
        assert await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen)
                                and app.screen.query_one("#search-input").value == "8850000000010")
        assert await wait_until(pilot, lambda: app.screen.products and app.screen.products[0].sku == "CF-001")
        await press(pilot, "enter")
        assert [l.sku for l in sale.cart.lines] == ["CF-001"]
        await press(pilot, "f4")  # quantity prompt open: scans wait for the sale
        pty.write(b"4006381333931\r8850000000034\r")
        assert await wait_until(pilot, lambda: len(app.pending_scans) == 2)
        assert "2 scan(s) waiting" in app.device_text()
        await press(pilot, "escape")
        assert isinstance(app.screen, SaleScreen)
        assert [l.sku for l in sale.cart.lines] == ["CF-001", "HL-001", "WT-001"]


# -- printers --------------------------------------------------------------------------------------

def test_printer_problem_from_status_bytes():
    assert printer_problem(lambda n: None) is None
    assert printer_problem(ONLINE.get) is None
    assert printer_problem(PAPER_OUT.get) == "out of paper"
    assert printer_problem(COVER_OPEN.get) == "cover open"
    assert printer_problem({1: 0x1A, 2: 0x12, 4: 0x12}.get) == "offline"


@pytest.fixture
def serial_printer(settings, tmp_path):
    pty = Pty()
    printer = SerialPrinter(pty)
    settings.printer.kind = "serial"
    settings.printer.port = pty.path
    yield settings, printer
    printer.stop()
    pty.unplug()


async def _sell(pilot, codes, tender_keys=("enter",)):
    for code in codes:
        await enter(pilot, code)
    await press(pilot, "f10")
    for key in tender_keys:
        await press(pilot, key)
    await settle(pilot)


async def test_serial_printer_cash_sale_prints_cuts_and_opens_drawer(serial_printer, make_till):
    settings, printer = serial_printer
    app = make_till(settings)
    async with app.run_test() as pilot:
        await login(pilot)
        await _sell(pilot, [HIGHLIGHTER, "2*" + COFFEE])
        data = printer.wait_for(b"\x1bp")
    assert "ปากกาเน้นข้อความ".encode("cp874") in data
    assert b"BKK01-T1-000001" in data and b"TOTAL" in data and b"125.00" in data
    assert data.count(b"\x1dV") == 1  # one cut
    assert data.count(b"\x1bp") == 1  # one drawer pulse
    assert data.index(b"TOTAL") < data.index(b"\x1dV") < data.index(b"\x1bp")


async def test_serial_printer_card_sale_has_no_drawer_pulse(serial_printer, make_till):
    settings, printer = serial_printer
    app = make_till(settings)
    async with app.run_test() as pilot:
        await login(pilot)
        await _sell(pilot, [COFFEE], tender_keys=("f2", "enter"))
        data = printer.wait_for(b"\x1dV")
    assert b"Card" in data and data.count(b"\x1dV") == 1 and b"\x1bp" not in data


async def test_control_bytes_in_a_product_name_never_reach_the_printer(serial_printer, make_till, engine):
    settings, printer = serial_printer
    with write_session(engine) as s:
        catalog.upsert_product(s, sku="INJ-1", name="Pen\x1bp\x00\x19\xfa\x1dV\x00\x1b@ cut", price=Decimal("10"),
                               vat_rate=Decimal("7"))
    app = make_till(settings)
    async with app.run_test() as pilot:
        await login(pilot)
        await _sell(pilot, ["INJ-1"], tender_keys=("f2", "enter"))
        data = printer.wait_for(b"\x1dV")
    assert b"\x1bp" not in data  # card sale: no pulse at all, not even from the name
    assert data.count(b"\x1dV") == 1
    assert data.count(b"\x1b@") == 1  # only our own init


async def test_printer_out_of_paper_warns_and_reprint_prints_once(serial_printer, make_till, engine):
    settings, printer = serial_printer
    printer.status = PAPER_OUT
    app = make_till(settings)
    async with app.run_test() as pilot:
        await login(pilot)
        await _sell(pilot, [COFFEE])
        assert await wait_until(pilot, lambda: "out of paper" in app.printer_state)
        assert "out of paper" in app.screen.status.text and app.screen.status.level == "warning"
        assert app.screen.cart.is_empty  # the sale completed anyway
        assert b"BKK01-T1-000001" not in printer.printed
        printer.status = ONLINE
        await press(pilot, "ctrl+r")
        data = printer.wait_for(b"\x1bp")
        assert await wait_until(pilot, lambda: app.printer_state == "ok")
    assert data.count(b"BKK01-T1-000001") == 2  # the text line and the barcode: one receipt
    assert data.count(b"\x1dV") == 1 and b"COPY" not in data
    with Session(engine) as s:
        assert s.exec(select(Sale)).one().receipt_number == "BKK01-T1-000001"
        assert [j.status for j in s.exec(select(PrintJob))] == ["printed"]


async def test_network_printer_receives_the_receipt(settings, make_till):
    server = NetworkPrinter()
    settings.printer.kind = "network"
    settings.printer.host = f"127.0.0.1:{server.port}"
    app = make_till(settings)
    try:
        async with app.run_test() as pilot:
            await login(pilot)
            await _sell(pilot, [HIGHLIGHTER, "2*" + COFFEE])
            assert await wait_until(pilot, lambda: server.jobs)
    finally:
        server.stop()
    job = server.jobs[0]
    assert b"BKK01-T1-000001" in job and b"125.00" in job and job.count(b"\x1dV") == 1 and job.count(b"\x1bp") == 1


@pytest.mark.parametrize("failure", ["refused", "closes"])
async def test_network_printer_down_then_back_prints_spooled_job_once(settings, make_till, engine, failure):
    port = free_port()
    down = NetworkPrinter(port, close_at_once=True) if failure == "closes" else None
    settings.printer.kind = "network"
    settings.printer.host = f"127.0.0.1:{port}"
    app = make_till(settings)
    server = None
    try:
        async with app.run_test() as pilot:
            await login(pilot)
            await _sell(pilot, [COFFEE])
            assert await wait_until(pilot, lambda: app.printer_state.startswith("ERROR"))
            assert app.screen.cart.is_empty
            with Session(engine) as s:
                assert [j.status for j in s.exec(select(PrintJob))] == ["pending"]
            if down is not None:
                down.stop()
            server = NetworkPrinter(port)
            await press(pilot, "ctrl+r")
            assert await wait_until(pilot, lambda: server.jobs and app.printer_state == "ok")
            await settle(pilot)
    finally:
        if server is not None:
            server.stop()
    assert len(server.jobs) == 1 and server.jobs[0].count(b"BKK01-T1-000001") == 2
    with Session(engine) as s:
        assert [j.status for j in s.exec(select(PrintJob))] == ["printed"]
