"""Snapshots of login, sale, search and payment at 80×24 and 120×40. Review every changed SVG
(snapshot_report.html) before accepting it with --snapshot-update."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.conftest import COFFEE, GREENS, HIGHLIGHTER, MILK
from tests.pilot import enter, login, press, settle, type_text

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(autouse=True)
def _steady_cursor(monkeypatch):
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


async def _sale_with_items(pilot) -> None:
    await login(pilot)
    for code in (HIGHLIGHTER, "2*" + COFFEE, GREENS, MILK):
        await enter(pilot, code)
    await press(pilot, "f6")
    await enter(pilot, "10%")
    await press(pilot, "f3")
    await enter(pilot, "0812345670")


@pytest.mark.parametrize("size", SIZES)
def test_login(snap_compare, make_till, size):
    async def run_before(pilot):
        await type_text(pilot, "1")
        await settle(pilot)

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_login_wrong_pin(snap_compare, make_till, size):
    async def run_before(pilot):
        await enter(pilot, "1")
        await enter(pilot, "0000")

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_sale(snap_compare, make_till, size):
    assert snap_compare(make_till(), terminal_size=size, run_before=_sale_with_items)


@pytest.mark.parametrize("size", SIZES)
def test_sale_unknown_code(snap_compare, make_till, size):
    async def run_before(pilot):
        await login(pilot)
        await enter(pilot, HIGHLIGHTER)
        await enter(pilot, "999")

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_search(snap_compare, make_till, size):
    async def run_before(pilot):
        await login(pilot)
        await press(pilot, "f2")
        await type_text(pilot, "กาแฟ")
        await settle(pilot)

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_payment_split(snap_compare, make_till, size):
    async def run_before(pilot):
        await _sale_with_items(pilot)
        await press(pilot, "f10")
        await press(pilot, "f2")
        await enter(pilot, "100")
        await press(pilot, "f1")

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_sale_after_payment_shows_change(snap_compare, make_till, size):
    async def run_before(pilot):
        await _sale_with_items(pilot)
        await press(pilot, "f10")
        await enter(pilot, "500")

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


DEVICE_STATES = [
    pytest.param("connected", "ok", id="scanner-ok-printer-ok"),
    pytest.param("disconnected", "ERROR: out of paper (1 waiting)", id="scanner-unplugged-printer-no-paper"),
]


@pytest.mark.parametrize("scanner,printer", DEVICE_STATES)
def test_status_bar_device_states(snap_compare, make_till, scanner, printer):
    async def run_before(pilot):
        await login(pilot)
        await enter(pilot, COFFEE)
        app = pilot.app
        app.scanner_state, app.printer_state = scanner, printer
        app.pending_scans.append("4006381333931")
        app.show_devices()
        await settle(pilot)

    assert snap_compare(make_till(), terminal_size=(80, 24), run_before=run_before)


def test_menu(snap_compare, make_till):
    async def run_before(pilot):
        await login(pilot)
        await press(pilot, "f12")

    assert snap_compare(make_till(), terminal_size=(80, 24), run_before=run_before)


def test_refund_lines(snap_compare, make_till):
    async def run_before(pilot):
        await login(pilot)
        await enter(pilot, "2*" + COFFEE)
        await enter(pilot, MILK)
        await press(pilot, "f10")
        await enter(pilot, "")
        await press(pilot, "f9")
        await enter(pilot, "BKK01-T1-000001")
        await press(pilot, "plus", "down", "a")

    assert snap_compare(make_till(), terminal_size=(80, 24), run_before=run_before)


def test_parked_list(snap_compare, make_till, monkeypatch):
    from datetime import UTC, datetime

    import data.drafts

    monkeypatch.setattr(data.drafts, "utcnow", lambda: datetime(2026, 12, 1, 3, 15, tzinfo=UTC))

    async def run_before(pilot):
        await login(pilot)
        await enter(pilot, COFFEE)
        await press(pilot, "f7")
        await enter(pilot, "3*" + MILK)
        await press(pilot, "f7")
        await press(pilot, "f7")

    assert snap_compare(make_till(), terminal_size=(80, 24), run_before=run_before)


def test_receipt_preview(snap_compare, make_till, monkeypatch):
    from datetime import UTC, datetime

    import data.sales

    monkeypatch.setattr(data.sales, "utcnow", lambda: datetime(2026, 12, 1, 9, 30, tzinfo=UTC))  # printed time

    async def run_before(pilot):
        await login(pilot)
        await enter(pilot, "2*" + COFFEE)
        await press(pilot, "f10")
        await enter(pilot, "100")
        await press(pilot, "f12")
        await press(pilot, "down", "enter")

    assert snap_compare(make_till(), terminal_size=(80, 24), run_before=run_before)
