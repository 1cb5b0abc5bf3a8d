"""Picking list, X/Z report and test page layouts: every line fits the paper, text stays literal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from rich.cells import cell_len

from app.devices.receipt_layout import layout_picking_list, layout_report, layout_test_page
from data.documents import PickingLine, PickingListDoc, ReportDoc

WIDTHS = [32, 42, 48]


def picking() -> PickingListDoc:
    return PickingListDoc(
        order_number="ORD-BKK01-000042", store_name="Demo Store", customer="Khun Anong [bold]x[/]",
        phone="+66812345670", delivery="pick up at BKK01 Siam, counter 2", created_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
        expected=datetime(2026, 12, 3, 10, 0, tzinfo=UTC), timezone="Asia/Bangkok",
        lines=(PickingLine("CF-001", "กาแฟเย็น / Iced coffee", D(2), "8850000000010", "A-03"),
               PickingLine("RC-001", "ข้าวหอมมะลิ 5 กก. / Jasmine rice 5 kg, the big bag with a long name", D("1.5"))),
        comments="Call before\x1bp delivery")


def report(kind: str) -> ReportDoc:
    return ReportDoc(
        kind=kind, number=7 if kind == "Z" else None, store_id="BKK01", store_name="Demo Store", terminal="T1",
        business_date="2026-12-01", opened_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
        closed_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC), timezone="Asia/Bangkok", currency="THB",
        sales_count=120, sales_total=D("15230.50"), refunds_count=2, refunds_total=D("90.00"), voids_count=5,
        discounts_total=D("312.25"), deposits_total=D("500.00"),
        tenders=(("cash", D("9000.50")), ("card", D("6640.00"))), vat=((D("7"), D("14000.00"), D("980.00")),),
        expected_cash=D("11000.50"), first_receipt="BKK01-T1-000101", last_receipt="BKK01-T1-000222",
        counted_cash=D("10990.50") if kind == "Z" else None, variance=D("-10.00") if kind == "Z" else None,
        cash_movements=(("float", D("2000.00")),))


@pytest.mark.parametrize("width", WIDTHS)
def test_picking_list_fits_and_is_literal(width):
    lines = layout_picking_list(picking(), width)
    assert all(cell_len(line) <= width for line in lines)
    text = "\n".join(lines)
    assert "ORD-BKK01-000042" in text and "[ ] 2 x" in text and "[ ] 1.5 x" in text
    assert "[bold]x[/]" in text and "\x1b" not in text
    assert "2026-12-03 17:00" in text  # expected date in store time


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", ["X", "Z"])
def test_reports_fit_and_show_figures(width, kind):
    lines = layout_report(report(kind), width)
    assert all(cell_len(line) <= width for line in lines)
    text = "\n".join(lines)
    assert ("Z REPORT #7" in text) == (kind == "Z")
    assert "15,230.50" in text and "9,000.50" in text and "Receipt number gaps" in text
    assert ("Variance" in text) == (kind == "Z")


@pytest.mark.parametrize("width", WIDTHS)
def test_test_page_lists_character_sets(width):
    lines = layout_test_page("Demo Store", "serial /dev/ttyS0", width)
    assert all(cell_len(line) <= width for line in lines)
    assert {"Thai:", "Cyrillic:", "Finnish:", "Chinese:"} <= set(lines)
