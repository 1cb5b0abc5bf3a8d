"""Pilot flows on the sale screen that assert on state (database rows, cart, status)."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select

from app.screens.login import LoginScreen
from app.screens.payment import PaymentScreen
from app.screens.sale import SaleScreen
from data.models import AuditLog, Payment, Sale, SaleLine, StockLevel
from tests.conftest import COFFEE, HIGHLIGHTER, WATER
from tests.pilot import enter, login, settle


async def test_full_cash_sale_with_line_discount(make_till, engine, home):
    app = make_till()
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await login(pilot)
        sale = app.screen
        assert isinstance(sale, SaleScreen)
        for code in (HIGHLIGHTER, COFFEE, f"2*{WATER}"):
            await enter(pilot, code)
        assert [l.sku for l in sale.cart.lines] == ["HL-001", "CF-001", "WT-001"]
        assert sale.cart.lines[2].quantity == 2
        # F6 on the highlighted (last) line: 2 × 7.00 = 14.00, 10 % off = 1.40
        await pilot.press("f6")
        await settle(pilot)
        await enter(pilot, "10%")
        totals = sale.totals()
        assert totals.line_discounts == Decimal("1.40")
        assert totals.total == Decimal("35.00") + Decimal("45.00") + Decimal("12.60")
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        await enter(pilot, "100")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen)
        assert sale.cart.is_empty
        assert "change" in sale.status.text
    with Session(engine) as s:
        stored = s.exec(select(Sale)).one()
        assert stored.receipt_number == "BKK01-T1-000001"
        assert stored.total == Decimal("92.60")
        # cash rounding to 0.25: 92.60 -> 92.50, change 7.50
        assert stored.rounding == Decimal("-0.10")
        assert stored.change_total == Decimal("7.50")
        assert [p.tender for p in s.exec(select(Payment))] == ["cash"]
        assert len(s.exec(select(SaleLine)).all()) == 3
        water = s.exec(select(StockLevel).where(StockLevel.product_id == 4)).one()
        assert water.on_hand == 98
        assert s.exec(select(AuditLog).where(AuditLog.action == "login")).first() is not None
    printed = (home / "receipts.prn").read_bytes()
    assert b"BKK01-T1-000001" in printed
    assert b"\x1dV" in printed  # cut
