"""`till devices check`: serial ports, the configured scanner and printer, a test page and one scan.
Plain output for a terminal or an SSH session; no Textual."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from app.devices.printer import PrinterError, PrintJob, ReceiptPrinter
from app.devices.receipt_layout import layout_test_page
from app.devices.scanner import split_scans


@dataclass
class CheckResult:
    ok: bool
    lines: list[str]


def list_ports() -> list[str]:
    from serial.tools import list_ports as lp

    return [f"{p.device}  {p.description}" for p in sorted(lp.comports(), key=lambda p: p.device)]


def check_scanner(url: str, *, baudrate: int, suffix: str, prefix: str, wait: float,
                  say: Callable[[str], None]) -> bool:
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.2)
    except (serial.SerialException, OSError, ValueError) as exc:
        say(f"scanner: cannot open {url}: {exc}")
        return False
    say(f"scanner: {url} open at {baudrate} baud; scan a barcode within {wait:g} s …")
    buffer, deadline = b"", time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            buffer += port.read(port.in_waiting or 1)
            codes, buffer = split_scans(buffer, suffix.encode(), prefix.encode())
            if codes:
                say(f"scanner: received {codes[0]!r}" + (f" (+{len(codes) - 1} more)" if len(codes) > 1 else ""))
                return True
    except (serial.SerialException, OSError) as exc:
        say(f"scanner: lost the port: {exc}")
        return False
    finally:
        try:
            port.close()
        except Exception:  # noqa: BLE001
            pass
    leftover = f" (partial data {buffer!r}: check the suffix setting)" if buffer else ""
    say(f"scanner: nothing scanned in {wait:g} s{leftover}")
    return False


def check_printer(printer: ReceiptPrinter, store_name: str, say: Callable[[str], None]) -> bool:
    if not printer.enabled:
        say("printer: none configured ([printer] kind = none)")
        return True
    try:
        printer.print_job(PrintJob(tuple(layout_test_page(store_name, printer.describe(), printer.width)), cut=True))
    except PrinterError as exc:
        say(f"printer: {exc}")
        return False
    say(f"printer: test page sent to {printer.describe()}")
    return True
