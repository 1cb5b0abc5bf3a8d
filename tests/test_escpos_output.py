"""What reaches the paper, decoded byte by byte: code pages for Thai, Cyrillic, Finnish; Chinese in
Kanji mode or as an image; raster where the profile has no code page; cut, drawer and barcode."""

from __future__ import annotations

from escpos.printer import Dummy

from app.devices.escpos_text import write_line
from app.devices.printer import PrintJob, ReceiptPrinter
from tests.escpos_decode import decode

SAMPLES = ["ร้านกาแฟ 45.00", "Кава 45.00", "Hyvää päivää, kahvi 3,50", "Grüße aus Åbo"]


def _dummy(profile: str) -> Dummy:
    return Dummy(profile=profile)


def test_thai_cyrillic_finnish_go_out_as_text_in_a_profile_code_page():
    d = _dummy("default")
    ways = [write_line(d, line, width=42) for line in SAMPLES]
    assert ways == ["text"] * 4
    decoded = decode(d.output, {v: k for k, v in d.profile.get_code_pages().items()})
    assert decoded.lines == SAMPLES
    assert "?" not in "".join(decoded.lines)
    assert "CP874" in decoded.pages


def test_thai_on_a_profile_without_cp874_becomes_an_image_not_question_marks():
    d = _dummy("TM-T88V")
    assert write_line(d, "ร้านกาแฟ", width=42) == "raster"
    decoded = decode(d.output, {v: k for k, v in d.profile.get_code_pages().items()})
    assert decoded.kinds() == ["raster"] and decoded.lines == []
    assert decoded.events[0][1] >= 42 * 12
    assert any(d.output[8:])  # something was drawn


def test_chinese_in_kanji_mode_or_as_image():
    d = _dummy("default")
    assert write_line(d, "咖啡 3.50", width=42, cjk="gb18030") == "kanji"
    assert d.output == b"\x1c&" + "咖啡 3.50".encode("gb18030") + b"\x1c.\n"
    assert decode(d.output, {}).lines == ["咖啡 3.50"]
    d = _dummy("default")
    assert write_line(d, "咖啡 3.50", width=42) == "raster"
    assert decode(d.output, {}).kinds() == ["raster"]


def test_receipt_job_bytes_decode_to_text_cut_drawer_and_barcode(tmp_path):
    printer = ReceiptPrinter("file", port=str(tmp_path / "out.prn"), home=tmp_path, width=42)
    lines = ("Demo Store", "ร้านกาแฟ", "Kahvi 3,50", "Кава", "Evil\x1bp\x00\x1dV name", "TOTAL 125.00")
    printer.print_job(PrintJob(lines, cut=True, open_drawer=True, code="BKK01-T1-000007"))
    data = (tmp_path / "out.prn").read_bytes()
    pages = {v: k for k, v in Dummy(profile="default").profile.get_code_pages().items()}
    decoded = decode(data, pages)
    assert decoded.lines[:6] == ["Demo Store", "ร้านกาแฟ", "Kahvi 3,50", "Кава", "EvilpV name", "TOTAL 125.00"]
    kinds = decoded.kinds()
    assert kinds.count("cut") == 1 and kinds.count("drawer") == 1 and kinds[0] == "init"
    assert ("barcode", 73, "{BBKK01-T1-000007") in decoded.events
    assert kinds.index("barcode") < kinds.index("cut") < kinds.index("drawer")


def test_a_raster_line_is_never_wider_than_the_profiles_paper():
    """width = 48 on a TM-T88V profile (512 dots): a Thai line drawn 576 dots wide made python-escpos
    raise, so every receipt with Thai failed half-way and was printed again at each retry."""
    d = _dummy("TM-T88V")
    assert write_line(d, "ร้านกาแฟ", width=48) == "raster"
    decoded = decode(d.output, {v: k for k, v in d.profile.get_code_pages().items()})
    assert decoded.kinds() == ["raster"] and decoded.events[0][1] <= 512
