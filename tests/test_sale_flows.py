"""Pilot flows: each drives the real app by keys and checks the database and screen state."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select
from textual import events

from app.screens.login import LoginScreen
from app.screens.payment import PaymentScreen
from app.screens.sale import SaleScreen
from app.screens.search import SearchScreen
from data import catalog
from data.db import write_session
from data.models import AuditLog, CartDraft, Member, Operator, Payment, Sale, SaleLine, StockLevel
from tests.conftest import COFFEE, HIGHLIGHTER, MILK, WATER
from tests.pilot import cart_skus, enter, login, press, settle, type_text
from widgets.dialogs import ConfirmDialog, PinPrompt, Prompt


def audit_actions(engine) -> list[str]:
    with Session(engine) as s:
        return [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id))]


async def test_login_types_code_then_pin_and_moves_focus(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        assert app.focused.id == "login-operator"
        await type_text(pilot, "1")
        await press(pilot, "enter")
        assert app.focused.id == "login-pin"
        await type_text(pilot, "1111")
        await press(pilot, "enter")
        assert isinstance(app.screen, SaleScreen)
        assert app.focused.id == "scan"
    assert "login" in audit_actions(engine)


async def test_login_burst_typed_before_focus_moves(make_till):
    """'1⏎1111⏎' arriving in one go still logs in: keys after Enter belong to the PIN."""
    app = make_till()
    async with app.run_test() as pilot:
        # All seven keys are queued before the app handles the first, as from a pty in one write.
        for key in ["1", "enter", "1", "1", "1", "1", "enter"]:
            app._driver.send_message(events.Key(key, "\r" if key == "enter" else key))
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen)


async def test_wrong_pin_five_times_locks_operator(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await enter(pilot, "1")
        for attempt in range(5):
            await enter(pilot, "0000")
            assert isinstance(app.screen, LoginScreen)
        assert "locked for 5 minutes" in app.screen.message
        await enter(pilot, "1111")  # the right PIN, but the operator is locked
        assert isinstance(app.screen, LoginScreen)
        assert "locked" in app.screen.message
    with Session(engine) as s:
        op = s.exec(select(Operator).where(Operator.code == "1")).one()
        assert op.locked_until is not None
    actions = audit_actions(engine)
    assert actions.count("login.failed") == 4 and "operator.locked" in actions and "login.refused" in actions


async def test_unknown_barcode_rings_and_keeps_input_selected(make_till):
    app = make_till()
    bells = []
    async with app.run_test() as pilot:
        await login(pilot)
        app.bell = lambda: bells.append(1)
        await enter(pilot, "1234567890128")
        sale = app.screen
        assert sale.cart.is_empty
        assert bells
        assert "unknown code 1234567890128" in sale.status.text
        assert sale.scan_input.value == "1234567890128"
        assert sale.scan_input.selected_text == "1234567890128"
        # the next scan replaces the bad code instead of appending to it
        await enter(pilot, HIGHLIGHTER, typed=True)
        assert cart_skus(app) == ["HL-001"]


async def test_quantity_entry_rejects_bad_values(make_till):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        sale = app.screen
        for bad in ("0*" + COFFEE, "-2*" + COFFEE, "1e9*" + COFFEE, "abc*" + COFFEE):
            await enter(pilot, bad)
            assert sale.cart.is_empty, bad
            assert sale.status.level == "error"
        await enter(pilot, "3*" + COFFEE)
        assert sale.cart.lines[0].quantity == 3
        await press(pilot, "f4")
        prompt = app.screen
        assert isinstance(prompt, Prompt)
        for bad, message in (("0", "more than zero"), ("-1", "more than zero"), ("1e9", "not a plain number"),
                             ("abc", "not a number"), ("1.2345", "3 decimal")):
            prompt.query_one("#prompt-input").value = ""
            await enter(pilot, bad)
            assert app.screen is prompt, bad
            assert message in prompt.error_text, (bad, prompt.error_text)
        prompt.query_one("#prompt-input").value = ""
        await enter(pilot, "2.5")
        assert isinstance(app.screen, SaleScreen)
        assert sale.cart.lines[0].quantity == Decimal("2.5")
        assert sale.totals().total == Decimal("112.50")


async def test_scanning_same_item_adds_to_its_line_and_void(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        sale = app.screen
        await enter(pilot, WATER)
        await enter(pilot, WATER)
        await enter(pilot, COFFEE)
        assert [(l.sku, l.quantity) for l in sale.cart.lines] == [("WT-001", 2), ("CF-001", 1)]
        await press(pilot, "delete")  # the highlighted line is the last one scanned
        assert cart_skus(app) == ["WT-001"]
        assert "void.line" in audit_actions(engine)
        with Session(engine) as s:
            draft = s.exec(select(CartDraft)).one()
            assert [l["sku"] for l in draft.data["lines"]] == ["WT-001"]


async def test_text_that_is_no_code_opens_search_and_enter_adds(make_till):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, "กาแฟเย็น")
        assert isinstance(app.screen, SearchScreen)
        await settle(pilot)
        assert app.screen.products and app.screen.products[0].sku == "CF-001"
        await press(pilot, "enter")
        assert isinstance(app.screen, SaleScreen)
        assert cart_skus(app) == ["CF-001"]


async def test_f2_search_live_results_arrow_and_escape(make_till):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await press(pilot, "f2")
        search = app.screen
        assert isinstance(search, SearchScreen)
        await type_text(pilot, "milk")
        await settle(pilot)
        assert [p.sku for p in search.products][:1] == ["MK-001"]
        await press(pilot, "escape")
        assert isinstance(app.screen, SaleScreen) and app.screen.cart.is_empty
        await press(pilot, "f2")
        await type_text(pilot, "P000")
        await settle(pilot)
        assert len(app.screen.products) > 1
        await press(pilot, "down", "enter")
        assert cart_skus(app) == [app.screen.cart.lines[0].sku]
        assert app.screen.cart.lines[0].sku.startswith("P000")


async def test_price_override_needs_manager_pin(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        sale = app.screen
        await enter(pilot, COFFEE)
        await press(pilot, "f5")
        prompt = app.screen
        prompt.query_one("#prompt-input").value = ""
        await enter(pilot, "40")
        assert isinstance(app.screen, PinPrompt)
        await enter(pilot, "1111")  # a cashier's PIN is not a manager PIN
        assert isinstance(app.screen, PinPrompt)
        assert "not a manager PIN" in sale.status.text
        await enter(pilot, "9999")
        assert isinstance(app.screen, SaleScreen)
        assert sale.cart.lines[0].unit_price == Decimal("40")
        assert sale.totals().total == Decimal("40.00")
    actions = audit_actions(engine)
    assert "override.refused" in actions and "price.override" in actions


async def test_discount_over_cashier_limit_asks_manager(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        sale = app.screen
        await enter(pilot, COFFEE)
        await enter(pilot, WATER)
        await press(pilot, "shift+f6")
        await enter(pilot, "20%")  # cashier limit is 10 %
        assert isinstance(app.screen, PinPrompt)
        await press(pilot, "escape")
        assert sale.cart.basket_discount.is_zero
        await press(pilot, "shift+f6")
        await enter(pilot, "20%")
        await enter(pilot, "9999")
        totals = sale.totals()
        assert totals.basket_discount == Decimal("10.40")  # 20 % of 52.00
        assert totals.total == Decimal("41.60")
        await press(pilot, "f6")
        await enter(pilot, "5")  # 5.00 off 7.00 water: 71 %, over the limit
        assert isinstance(app.screen, PinPrompt)
        await enter(pilot, "9999")
        assert sale.totals().line_discounts == Decimal("5.00")
    assert "discount.approved" in audit_actions(engine)


async def test_member_by_phone_existing_and_new(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        sale = app.screen
        await press(pilot, "f3")
        await enter(pilot, "081-234-5670")
        assert sale.cart.member_phone == "+66812345670"
        await press(pilot, "f3")
        prompt = app.screen
        prompt.query_one("#prompt-input").value = ""
        await enter(pilot, "not a phone")
        assert app.screen is prompt and "phone" in prompt.error_text
        prompt.query_one("#prompt-input").value = ""
        await enter(pilot, "0899999999")
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "y")
        assert sale.cart.member_phone == "+66899999999"
    with Session(engine) as s:
        assert s.exec(select(Member).where(Member.phone == "+66899999999")).first() is not None


async def test_park_and_recall_survives_restart(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        await enter(pilot, "2*" + MILK)
        await press(pilot, "f7")
        assert app.screen.cart.is_empty
        assert "parked" in app.screen.status.text
    app = make_till()  # a new process: the parked sale is in the database
    async with app.run_test() as pilot:
        await login(pilot)
        await press(pilot, "f7")
        await press(pilot, "enter")
        assert isinstance(app.screen, SaleScreen)
        assert [(l.sku, l.quantity) for l in app.screen.cart.lines] == [("CF-001", 1), ("MK-001", 2)]
        await press(pilot, "f7")  # park again, then the list offers it once more
        await press(pilot, "f7")
        assert app.screen.__class__.__name__ == "ParkedScreen"
        await press(pilot, "escape")


async def test_open_cart_restored_after_crash(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, HIGHLIGHTER)
        await enter(pilot, "3*" + WATER)
        uid = app.screen.cart.uid
    # No logout, no payment: as if the process was killed. The next start offers the cart back.
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "y")
        sale = app.screen
        assert sale.cart.uid == uid
        assert [(l.sku, l.quantity) for l in sale.cart.lines] == [("HL-001", 1), ("WT-001", 3)]
        await press(pilot, "f10")
        await enter(pilot, "")  # exact cash
        assert sale.cart.is_empty
    with Session(engine) as s:
        assert s.exec(select(Sale)).one().uid == uid
        assert s.exec(select(CartDraft)).all() == []


async def test_declining_restore_parks_instead_of_losing(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, HIGHLIGHTER)
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot, restore="n")
        assert app.screen.cart.is_empty
    with Session(engine) as s:
        assert [d.status for d in s.exec(select(CartDraft))] == ["parked"]


async def test_split_card_then_cash_and_escape_keeps_tenders(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        sale = app.screen
        await enter(pilot, "2*" + MILK)  # 104.50
        await press(pilot, "f10")
        pay = app.screen
        await press(pilot, "f2")
        pay.query_one("#pay-reference").value = "APPR-77"
        await enter(pilot, "200")
        assert "cannot pay more" in pay.message
        pay.query_one("#pay-amount").value = ""
        await enter(pilot, "50")
        assert pay.state.remaining == Decimal("54.50")
        await press(pilot, "escape")
        assert isinstance(app.screen, SaleScreen)
        assert [l.sku for l in sale.cart.lines] == ["MK-001"]
        await enter(pilot, COFFEE)  # no new items while a payment is in progress
        assert len(sale.cart.lines) == 1 and sale.status.level == "error"
        await press(pilot, "f10")
        pay = app.screen
        assert pay.state.remaining == Decimal("54.50")
        await press(pilot, "f1")
        await enter(pilot, "60")
        assert isinstance(app.screen, SaleScreen)
    with Session(engine) as s:
        sale_row = s.exec(select(Sale)).one()
        pays = s.exec(select(Payment).order_by(Payment.id)).all()
        assert [(p.tender, p.amount, p.reference) for p in pays] == [
            ("card", Decimal("50.00"), "APPR-77"), ("cash", Decimal("54.50"), "")]
        assert sale_row.change_total == Decimal("5.50")


async def test_escape_from_payment_leaves_sale_unchanged(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        await press(pilot, "f10")
        assert isinstance(app.screen, PaymentScreen)
        await press(pilot, "escape")
        assert cart_skus(app) == ["CF-001"]
        await enter(pilot, WATER)
        assert cart_skus(app) == ["CF-001", "WT-001"]
    with Session(engine) as s:
        assert s.exec(select(Sale)).all() == []


async def test_a_decimal_comma_in_the_tendered_amount_is_refused(make_till, engine):
    """"100,50" is no 10,050 tendered (and 10,005.50 change): the cashier is told and types it again."""
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        await press(pilot, "f10")
        payment = app.screen
        assert isinstance(payment, PaymentScreen)
        await enter(pilot, "100,50")
        assert app.screen is payment and payment.state.tenders == []
        await enter(pilot, "100.50", typed=True)  # typed over the refused text, which stays selected
        assert isinstance(app.screen, SaleScreen)
    with Session(engine) as s:
        [sale] = s.exec(select(Sale)).all()
        assert sale.change_total == Decimal("55.50")


async def test_quick_cash_note_and_other_tender(make_till, engine):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        await press(pilot, "f10")
        await press(pilot, "f6")  # the 50 note
        assert isinstance(app.screen, SaleScreen)
        await enter(pilot, WATER)
        await press(pilot, "f10")
        await press(pilot, "f3")
        assert app.screen.tender == "promptpay"
        await enter(pilot, "")
    with Session(engine) as s:
        pays = s.exec(select(Payment).order_by(Payment.id)).all()
        assert [(p.tender, p.tendered, p.change) for p in pays] == [
            ("cash", Decimal("50.00"), Decimal("5.00")), ("promptpay", Decimal("7.00"), Decimal("0.00"))]


async def test_refund_by_receipt_number_with_manager_pin(make_till, engine, home):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, "2*" + COFFEE)
        await enter(pilot, WATER)
        await press(pilot, "f10")
        await enter(pilot, "")
        await press(pilot, "f9")
        await enter(pilot, "BKK01-T1-999999")
        assert "no receipt" in app.screen.error_text
        app.screen.query_one("#prompt-input").value = ""
        await enter(pilot, "bkk01-t1-000001")
        refund = app.screen
        assert refund.__class__.__name__ == "RefundScreen"
        await press(pilot, "plus", "plus", "plus")  # only 2 coffees were sold
        assert refund.quantities[refund.sale.lines[0].line_id] == 2
        await press(pilot, "minus")
        await press(pilot, "f1")
        assert isinstance(app.screen, PinPrompt)
        await enter(pilot, "9999")
        assert isinstance(app.screen, SaleScreen)
        assert "BKK01-T1-000002" in app.screen.status.text
    with Session(engine) as s:
        refund_row = s.exec(select(Sale).where(Sale.kind == "refund")).one()
        original = s.exec(select(Sale).where(Sale.kind == "sale")).one()
        assert refund_row.refund_of_id == original.id
        assert refund_row.total == Decimal("45.00")
        lines = s.exec(select(SaleLine).where(SaleLine.sale_id == refund_row.id)).all()
        assert [(l.sku, l.quantity) for l in lines] == [("CF-001", 1)]
        coffee = s.exec(select(StockLevel).where(StockLevel.product_id == 2)).one()
        assert coffee.on_hand == 99  # 100 - 2 sold + 1 back
    assert "refund" in audit_actions(engine)
    assert (home / "receipts.prn").read_bytes().count(b"*** REFUND ***") == 1


async def test_reprint_last_receipt_prints_copy(make_till, home):
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await press(pilot, "ctrl+r")
        assert "no receipt" in app.screen.status.text
        await enter(pilot, COFFEE)
        await press(pilot, "f10")
        await press(pilot, "f2")
        await enter(pilot, "")
        await press(pilot, "ctrl+r")
        await settle(pilot)
    data = (home / "receipts.prn").read_bytes()
    assert data.count(b"BKK01-T1-000001") >= 2
    assert b"COPY" in data
    assert data.count(b"\x1bp") == 0  # card sale and a copy: the drawer never opens


async def test_cash_sale_opens_drawer_and_receipt_preview(make_till, home):
    app = make_till()
    async with app.run_test(size=(100, 40)) as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        await press(pilot, "f10")
        await enter(pilot, "100")
        await press(pilot, "f12")
        await press(pilot, "down", "enter")  # "Show last receipt"
        assert app.screen.__class__.__name__ == "ReceiptScreen"
        text = "\n".join(app.screen.lines)
        assert "BKK01-T1-000001" in text and "Change" in text and "55.00" in text
        await press(pilot, "escape")
    assert (home / "receipts.prn").read_bytes().count(b"\x1bp") == 1


async def test_outside_text_is_shown_literally(make_till, engine):
    with write_session(engine) as s:
        catalog.upsert_product(s, sku="EVIL-1", name="[bold]x[/] [link=y]z\x1b[31m\x1bp0",
                               name_en="[/]", price=Decimal("10"), vat_rate=Decimal("7"))
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, "EVIL-1")
        sale = app.screen
        assert cart_skus(app) == ["EVIL-1"]
        table = sale.query_one("#cart")
        cell = table.get_row_at(0)[0]
        assert cell.plain == "[bold]x[/] [link=y]z[31mp0 / [/]"
        assert not cell.spans
        assert "\x1b" not in sale.status.text
        await press(pilot, "f10")
        await enter(pilot, "")
        assert isinstance(app.screen, SaleScreen)
