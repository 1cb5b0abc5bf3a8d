"""Pilot flows for the drawer: float, sales, cash in/out, X, then the blind Z with and without variance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from app.screens.count import CountScreen
from app.screens.report import ReportScreen
from app.screens.sale import SaleScreen
from data.models import AuditLog, CashMovement, DayClose, DomainEvent
from tests.conftest import COFFEE, MILK
from tests.pilot import enter, login, press, settle
from widgets.dialogs import ConfirmDialog, PinPrompt, Prompt

MENU = {"x_report": 2, "float": 3, "cash_in": 4, "cash_out": 5, "safe_drop": 6, "close_day": 7}


async def menu(pilot, item: str) -> None:
    await press(pilot, "f12")
    await press(pilot, *(["down"] * MENU[item]), "enter")


async def count(pilot, counts: dict[str, int]) -> None:
    """Fill the CountScreen: counts by denomination as written in till.toml."""
    screen = pilot.app.screen
    assert isinstance(screen, CountScreen)
    for i, d in enumerate(screen.denominations):
        if str(d) in counts:
            screen.query_one(f"#count-{i}").value = str(counts[str(d)])
    await press(pilot, "f10")


async def sell(pilot, code: str, *tender_keys: str) -> None:
    await enter(pilot, code)
    await press(pilot, "f10")
    for key in tender_keys or ("enter",):
        await press(pilot, key)


async def test_shift_cash_x_report_and_blind_z_without_variance(make_till, engine):
    app = make_till()
    async with app.run_test(size=(100, 40)) as pilot:
        await login(pilot)
        await menu(pilot, "float")
        await count(pilot, {"500": 2, "100": 5, "20": 5})  # 1,600 float
        await sell(pilot, COFFEE)  # 45.00 cash
        await sell(pilot, MILK, "f2", "enter")  # 52.25 card
        await menu(pilot, "cash_in")
        await enter(pilot, "200")
        await enter(pilot, "change from the bank")
        await menu(pilot, "cash_out")
        await enter(pilot, "55.50")
        await enter(pilot, "window cleaner")
        await menu(pilot, "x_report")
        assert isinstance(app.screen, ReportScreen)
        text = "\n".join(app.screen.lines)
        assert "X REPORT" in text and "Sales (2)" in text and "97.25" in text
        # expected cash: 1,600 float + 45.00 cash + 200 in - 55.50 out
        assert "1,789.50" in text
        await press(pilot, "escape")
        await menu(pilot, "close_day")
        screen = app.screen
        assert isinstance(screen, CountScreen)
        assert "1,789.50" not in str(screen.query_one("#count-total").render())  # blind: nothing expected shown
        await count(pilot, {"1000": 1, "500": 1, "100": 2, "50": 1, "20": 1, "10": 1, "5": 1, "2": 2, "0.50": 1})
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        assert "Z REPORT #1" in "\n".join(app.screen.lines)
        await press(pilot, "escape")
        assert isinstance(app.screen, SaleScreen)
        assert "Z #1" in app.screen.status.text
    with Session(engine) as s:
        z = s.exec(select(DayClose)).one()
        assert (z.z_number, z.expected_cash, z.counted_cash, z.variance) == (1, Decimal("1789.50"), Decimal("1789.50"), 0)
        assert s.exec(select(DomainEvent).where(DomainEvent.kind == "day.closed")).one().reference == "BKK01-T1-Z000001"
        kinds = [m.kind for m in s.exec(select(CashMovement).order_by(CashMovement.id))]
        assert kinds == ["float", "cash_in", "cash_out"]


async def test_blind_z_with_variance_needs_manager_and_reason(make_till, engine):
    app = make_till()
    async with app.run_test(size=(100, 40)) as pilot:
        await login(pilot)
        await sell(pilot, COFFEE)  # expected cash 45.00
        await menu(pilot, "close_day")
        await count(pilot, {"20": 1})  # 20.00: 25.00 short, over the 20.00 tolerance
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "y")
        assert isinstance(app.screen, PinPrompt)
        await enter(pilot, "1111")  # not a manager
        assert isinstance(app.screen, PinPrompt)
        await enter(pilot, "9999")
        assert isinstance(app.screen, Prompt)
        await enter(pilot, "till was short after the rush")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        assert "-25.00" in "\n".join(app.screen.lines)
        await press(pilot, "escape")
    with Session(engine) as s:
        z = s.exec(select(DayClose)).one()
        assert z.variance == Decimal("-25.00") and z.reason == "till was short after the rush"
        assert z.approved_by_id is not None
        assert s.exec(select(AuditLog).where(AuditLog.action == "day.close")).one().detail["approved_by"] == "9"


async def test_declining_the_variance_closes_nothing_and_cash_in_over_limit_needs_manager(make_till, engine):
    app = make_till()
    async with app.run_test(size=(100, 40)) as pilot:
        await login(pilot)
        await sell(pilot, COFFEE)
        await menu(pilot, "close_day")
        await count(pilot, {})
        await press(pilot, "n")
        assert isinstance(app.screen, SaleScreen) and "not closed" in app.screen.status.text
        await menu(pilot, "cash_in")
        await enter(pilot, "5000")
        await enter(pilot, "float top-up")
        assert isinstance(app.screen, PinPrompt)
        await press(pilot, "escape")
        await menu(pilot, "cash_out")
        prompt = app.screen
        await enter(pilot, "-5")
        assert app.screen is prompt and "more than zero" in prompt.error_text
        await press(pilot, "escape")
    with Session(engine) as s:
        assert s.exec(select(DayClose)).all() == []
        assert s.exec(select(CashMovement)).all() == []


@pytest.mark.parametrize("size", [(80, 24)])
def test_snapshot_blind_count(snap_compare, make_till, size, monkeypatch):
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)

    async def run_before(pilot):
        await login(pilot)
        await menu(pilot, "close_day")
        screen = pilot.app.screen
        screen.query_one("#count-1").value = "3"
        screen.query_one("#count-4").value = "7"
        await settle(pilot)

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24)])
def test_snapshot_x_report(snap_compare, make_till, size, monkeypatch):
    from datetime import UTC, datetime

    from textual.widgets import Input

    import data.reports
    import data.sales

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    fixed = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # the report shows times: keep them still
    monkeypatch.setattr(data.sales, "utcnow", lambda: fixed)
    monkeypatch.setattr(data.reports, "utcnow", lambda: fixed)

    async def run_before(pilot):
        await login(pilot)
        await sell(pilot, COFFEE)
        await menu(pilot, "x_report")
        await settle(pilot)

    assert snap_compare(make_till(), terminal_size=size, run_before=run_before)
