"""Printer faults with real bytes: a network printer given as host plus port, the messages a cashier
or `till devices check` shows when a printer is missing or refuses, and a serial printer unplugged in
the middle of a job (nothing may reach the terminal but the one line)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.devices.printer import PrinterError, PrintJob, ReceiptPrinter
from tests.fake_devices import NetworkPrinter, Pty, SerialPrinter, free_port


def _till(home, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "app", *args, "--home", str(home)], capture_output=True,
                          text=True, timeout=timeout)


def test_network_printer_host_and_port_given_apart(tmp_path):
    """DESIGN: `port` is the printer's TCP port for kind = network (9100 by default), next to `host`."""
    server = NetworkPrinter()
    try:
        printer = ReceiptPrinter("network", host="127.0.0.1", port=str(server.port), home=tmp_path)
        assert printer.describe() == f"network 127.0.0.1:{server.port}"
        printer.print_job(PrintJob(("host and port",), cut=True))
        printer = ReceiptPrinter("network", host="127.0.0.1", port=server.port, home=tmp_path)  # a TOML integer
        printer.print_job(PrintJob(("integer port",), cut=True))
    finally:
        server.stop()
    assert len(server.jobs) == 2
    assert b"host and port" in server.jobs[0] and b"integer port" in server.jobs[1]


def test_devices_check_network_printer_with_host_and_port(home):
    server = NetworkPrinter()
    (home / "till.toml").write_text(f'[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = "{server.port}"\n',
                                    encoding="utf-8")
    try:
        result = _till(home, "devices", "check", "--wait", "0")
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"printer: test page sent to network 127.0.0.1:{server.port}" in result.stdout
    assert len(server.jobs) == 1 and b"TEST PAGE" in server.jobs[0]


@pytest.mark.parametrize("kind", ["network", "serial"])
def test_missing_printer_message_says_why_in_one_clear_line(tmp_path, kind):
    if kind == "network":
        printer, why = ReceiptPrinter("network", host=f"127.0.0.1:{free_port()}", home=tmp_path), "Connection refused"
    else:
        printer, why = ReceiptPrinter("serial", port=str(tmp_path / "ttyNONE"), home=tmp_path), "No such file"
    with pytest.raises(PrinterError) as caught:
        printer.print_job(PrintJob(("x",)))
    message = str(caught.value)
    assert message.startswith(printer.describe() + ": ")
    assert why in message
    assert "Device not found" not in message and message.count("(") == message.count(")")
    assert "\n" not in message


def test_unknown_profile_is_named(tmp_path):
    printer = ReceiptPrinter("file", port="out.prn", profile="TM-NOPE", home=tmp_path)
    with pytest.raises(PrinterError, match=r"unknown \[printer\] profile 'TM-NOPE'"):
        printer.print_job(PrintJob(("x",)))


def test_serial_printer_unplugged_during_a_job_leaves_no_traceback(home):
    """The printer answers the first status query, then its cable is pulled. `till devices check`
    says so in one line; python-escpos must not print 'Exception ignored … Traceback' when the dead
    printer object is collected."""
    pty = Pty()
    printer = SerialPrinter(pty, hang_up_on=2)
    (home / "till.toml").write_text(f'[printer]\nkind = "serial"\nport = "{pty.path}"\n', encoding="utf-8")
    try:
        result = _till(home, "devices", "check", "--wait", "0")
    finally:
        printer.stop()
        pty.unplug()
    assert result.returncode == 1
    assert f"printer: serial {pty.path}: Input/output error\n" in result.stdout
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    assert result.stderr == ""



async def test_serial_printer_unplugged_and_replugged_prints_the_spooled_receipt_once(settings, make_till, engine,
                                                                                     tmp_path):
    """The printer's cable is pulled between two sales and put back (same /dev/serial/by-id style
    link, a new pty behind it): the second receipt waits in the spool, the console says why, and the
    automatic retry prints it once the printer is back, with its drawer pulse."""
    from sqlmodel import Session, select

    from data.models import PrintJob as SpoolRow
    from tests.conftest import COFFEE, WATER
    from tests.pilot import enter, login, press, settle
    from tests.test_devices import wait_until

    link = tmp_path / "ttyPrinter"
    first = Pty(link)
    fake = SerialPrinter(first)
    settings.printer.kind, settings.printer.port = "serial", str(link)
    settings.printer.retry_seconds = 0.5
    app = make_till(settings)
    second = fake2 = None
    try:
        async with app.run_test() as pilot:
            await login(pilot)
            await enter(pilot, COFFEE)
            await press(pilot, "f10")
            await press(pilot, "enter")
            assert b"BKK01-T1-000001" in fake.wait_for(b"\x1bp")
            fake.stop()
            first.unplug()
            await enter(pilot, WATER)
            await press(pilot, "f10")
            await press(pilot, "enter")
            assert await wait_until(pilot, lambda: app.printer_state.startswith("ERROR"))
            assert app.screen.cart.is_empty
            assert "BKK01-T1-000002 not printed" in app.screen.status.text
            assert "Traceback" not in app.screen.status.text
            second = Pty(link)
            fake2 = SerialPrinter(second)
            assert await wait_until(pilot, lambda: app.printer_state == "ok", timeout=8)
            await settle(pilot)
            data = fake2.wait_for(b"\x1bp")
    finally:
        for f in (fake, fake2):
            if f is not None:
                f.stop()
        for p in (first, second):
            if p is not None:
                p.unplug()
    assert data.count(b"BKK01-T1-000002") == 2 and b"BKK01-T1-000001" not in data
    assert data.count(b"\x1dV") == 1 and data.count(b"\x1bp") == 1
    with Session(engine) as s:
        assert [j.status for j in s.exec(select(SpoolRow).order_by(SpoolRow.id))] == ["printed", "printed"]


def test_status_query_on_a_network_printer_keeps_the_job_write_timeout():
    """README: writes have a 5 s timeout. The 0.3 s DLE EOT wait must not stay on the socket, or a
    printer busy with the previous receipt (TCP window closed for a moment) fails the next job."""
    import socket

    from app.devices.printer import realtime_status

    server = NetworkPrinter()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            assert realtime_status(sock, 1) == 0x12
            assert sock.gettimeout() == 5
    finally:
        server.stop()


async def test_open_drawer_on_cash_off_prints_the_cash_sale_without_a_pulse(settings, make_till):
    from tests.conftest import COFFEE
    from tests.pilot import enter, login, press

    pty = Pty()
    fake = SerialPrinter(pty)
    settings.printer.kind, settings.printer.port = "serial", pty.path
    settings.printer.open_drawer_on_cash = False
    app = make_till(settings)
    try:
        async with app.run_test() as pilot:
            await login(pilot)
            await enter(pilot, COFFEE)
            await press(pilot, "f10")
            await press(pilot, "enter")
            fake.wait_for(b"\x1dV")
            await pilot.pause(0.5)  # the pulse would follow the cut
            data = fake.printed
    finally:
        fake.stop()
        pty.unplug()
    assert b"BKK01-T1-000001" in data and b"Cash" in data
    assert data.count(b"\x1dV") == 1 and b"\x1bp" not in data


def test_usb_printer_without_ids_says_what_is_missing(tmp_path):
    with pytest.raises(PrinterError, match=r"kind = usb needs vendor and product"):
        ReceiptPrinter("usb", home=tmp_path).print_job(PrintJob(("x",)))
