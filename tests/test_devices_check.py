"""`till devices check` against a pty scanner and a pty printer, as a subprocess like a person runs it."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.fake_devices import Pty, SerialPrinter


def test_devices_check_prints_test_page_and_shows_the_scan(home):
    scanner, printer_pty = Pty(), Pty()
    printer = SerialPrinter(printer_pty)
    (home / "till.toml").write_text(
        f'[printer]\nkind = "serial"\nport = "{printer_pty.path}"\n[scanner]\nport = "{scanner.path}"\n',
        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "app", "devices", "check", "--home", str(home), "--wait", "8"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out = ""
        deadline = time.monotonic() + 20
        while "scan a barcode" not in out and time.monotonic() < deadline:
            out += proc.stdout.readline()
        scanner.write(b"4006381333931\r")
        rest, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        printer.stop()
        scanner.unplug()
        printer_pty.unplug()
    out += rest
    assert proc.returncode == 0, (out, err)
    assert "printer: test page sent" in out
    assert "scanner: received '4006381333931'" in out
    page = printer.printed
    assert b"TEST PAGE" in page and "ร้านกาแฟ".encode("cp874") in page and page.count(b"\x1dV") == 1


def test_devices_check_reports_missing_devices(home, tmp_path):
    (home / "till.toml").write_text(
        f'[printer]\nkind = "serial"\nport = "{tmp_path}/ttyNONE"\n[scanner]\nport = "{tmp_path}/ttyGONE"\n',
        encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "app", "devices", "check", "--home", str(home), "--wait", "0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "printer:" in result.stdout and "ttyNONE" in result.stdout
    assert "scanner: cannot open" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
