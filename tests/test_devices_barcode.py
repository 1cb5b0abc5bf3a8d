"""The receipt number's barcode under every receipt, on every kind of printer profile: the printer's
own CODE128 where the profile has it (narrow enough for the paper), else a picture of one. Whatever
happens to the barcode, the receipt itself prints."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy

from app.devices.printer import PrintJob, ReceiptPrinter
from tests.escpos_decode import decode, hw_code128_text, raster_row, read_code128

LINES = ("Demo Store", "TOTAL 125.00")


def _print(tmp_path, profile: str, width: int, code: str = "BKK01-T1-000007"):
    printer = ReceiptPrinter("file", port=str(tmp_path / f"{profile}.prn"), home=tmp_path, width=width,
                             profile=profile)
    printer.print_job(PrintJob(LINES, cut=True, code=code))
    data = (tmp_path / f"{profile}.prn").read_bytes()
    return decode(data, {v: k for k, v in Dummy(profile=profile).profile.get_code_pages().items()})


@pytest.mark.parametrize("profile,width", [("POS-5890", 32), ("ZJ-5870", 32), ("simple", 42), ("simple", 32)])
def test_profile_without_hardware_barcodes_prints_a_readable_picture_of_one(tmp_path, profile, width):
    """Cheap 58 mm printers (POS-5890, ZJ-5870) have no GS k: python-escpos draws the barcode. It must
    fit the paper (it was 399 dots on 384: every receipt failed) and read as the receipt number, not
    as "{BBKK01-…" (the hardware code-set prefix drawn as text)."""
    decoded = _print(tmp_path, profile, width)
    assert decoded.lines[:2] == list(LINES)
    assert decoded.rasters, decoded.events
    per_row, rows, _ = raster = decoded.rasters[-1]
    assert per_row * 8 <= width * 12
    assert read_code128(raster_row(raster, rows // 4)) == "BKK01-T1-000007"


@pytest.mark.parametrize("profile,width", [("default", 32), ("Sunmi-V2", 32)])
def test_hardware_barcode_fits_the_paper(tmp_path, profile, width):
    """GS k CODE128 at 2 dots a module is 11 modules a character: "{B" + 15 characters is 400 dots, more
    than a 58 mm printer's 384, and a printer prints nothing for a barcode wider than its paper. The
    digits go in code set C (two a symbol) when that makes it fit."""
    decoded = _print(tmp_path, profile, width)
    (barcode,) = [e for e in decoded.events if e[0] == "barcode"]
    data = barcode[2]
    assert hw_code128_text(data) == "BKK01-T1-000007"
    symbols = 1 + sum(1 for _ in _symbols(data)) + 1  # start, data and code-set switches, check
    assert (symbols * 11 + 13) * 2 <= width * 12


def test_a_code_too_long_for_the_printers_barcode_is_drawn_finer(tmp_path):
    """A long store and terminal code does not fit at 2 dots a module even in code set C: the picture
    at 1 dot a module still reads as the receipt number."""
    decoded = _print(tmp_path, "default", 42, "BANGKOK01-POS12-000007")
    assert "barcode" not in decoded.kinds()
    per_row, rows, _ = raster = decoded.rasters[-1]
    assert per_row * 8 <= 42 * 12
    assert read_code128(raster_row(raster, rows // 4)) == "BANGKOK01-POS12-000007"


def test_wide_paper_keeps_plain_code_set_b(tmp_path):
    decoded = _print(tmp_path, "default", 42)
    assert ("barcode", 73, "{BBKK01-T1-000007") in decoded.events


def _symbols(data: str):
    i = 2  # the leading "{B" is the start symbol
    while i < len(data):
        if data[i] == "{":
            i += 2
        else:
            i += 1
        yield i


async def test_a_58mm_printer_without_hardware_barcodes_prints_the_sale(settings, make_till):
    """Before: every receipt on a POS-5890 profile failed ("399 > 384") and waited in the spool for ever,
    and a serial printer had already printed the lines each time it was tried."""
    from tests.conftest import COFFEE
    from tests.fake_devices import Pty, SerialPrinter
    from tests.pilot import enter, login, press
    from tests.test_devices import wait_until

    pty = Pty()
    fake = SerialPrinter(pty)
    settings.printer.kind, settings.printer.port = "serial", pty.path
    settings.printer.profile, settings.printer.width = "POS-5890", 32
    app = make_till(settings)
    try:
        async with app.run_test() as pilot:
            await login(pilot)
            await enter(pilot, COFFEE)
            await press(pilot, "f10")
            await press(pilot, "enter")
            data = fake.wait_for(b"\x1bp")
            assert await wait_until(pilot, lambda: app.printer_state == "ok")
    finally:
        fake.stop()
        pty.unplug()
    decoded = decode(data, {v: k for k, v in Dummy(profile="POS-5890").profile.get_code_pages().items()})
    assert any("BKK01-T1-000001" in line for line in decoded.lines)
    raster = decoded.rasters[-1]
    assert read_code128(raster_row(raster, raster[1] // 4)) == "BKK01-T1-000001"
    assert decoded.kinds().count("drawer") == 1
