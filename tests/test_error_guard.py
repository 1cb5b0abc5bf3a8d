"""An unexpected error in the running console: one line on screen, the traceback in the log, the sale kept.
Under Pilot the guard is off unless asked for (an exception must still fail a test); here it is asked for."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from textual.worker import WorkerFailed

from app import error_guard
from app.error_guard import ErrorGuard, one_line
from app.screens.payment import PaymentScreen
from app.tui import make_app
from data.models import Sale
from tests.conftest import COFFEE
from tests.pilot import enter, login, settle


def locked(*_args, **_kwargs):
    raise OperationalError("INSERT INTO sale ...", {}, Exception("database is locked"))


def test_one_line_reads_the_workers_own_error_and_shows_text_literally():
    assert one_line(WorkerFailed(ValueError("bad\nsecond line"))) == "ValueError: bad"
    assert one_line(KeyError()) == "KeyError"
    assert one_line(RuntimeError("\x1b[31m[bold]x[/]")) == "RuntimeError: [31m[bold]x[/]"


def test_the_guard_gives_up_on_errors_that_keep_coming():
    now = [0.0]
    guard = ErrorGuard(clock=lambda: now[0])
    for _ in range(error_guard.BURST - 1):
        assert guard.survive(RuntimeError("again"))
    now[0] += error_guard.BURST_SECONDS + 1  # spread out: still carrying on
    assert guard.survive(RuntimeError("again"))
    for _ in range(error_guard.BURST - 2):
        assert guard.survive(RuntimeError("again"))
    assert not guard.survive(RuntimeError("again"))  # BURST within BURST_SECONDS


async def test_a_failed_commit_keeps_the_cart_and_the_payment_and_f10_saves_it_again(settings, engine, monkeypatch,
                                                                                      caplog):
    import app.screens.sale as sale_module

    real = sale_module.commit_sale
    monkeypatch.setattr(sale_module, "commit_sale", locked)
    app = make_app(settings, engine=engine)  # the guard is off: the sale screen handles this itself
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        sale = app.screen
        await enter(pilot, COFFEE)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        await enter(pilot, "50")
        await settle(pilot)
        assert app.screen is sale
        assert "sale not saved: the database failed" in sale.status.text and "database is locked" in sale.status.text
        assert [line.sku for line in sale.cart.lines] == ["CF-001"]
        monkeypatch.setattr(sale_module, "commit_sale", real)
        await pilot.press("f10")  # the database is back: saved as paid, no second tender
        await settle(pilot)
        assert app.screen is sale and sale.cart.is_empty and "change 5.00" in sale.status.text
    assert "database is locked" in caplog.text
    with Session(engine) as s:
        [stored] = s.exec(select(Sale)).all()
        assert (stored.receipt_number, stored.change_total) == ("BKK01-T1-000001", Decimal("5.00"))


async def test_a_failed_worker_is_a_notification_and_the_console_carries_on(settings, engine, caplog):
    async def fails():
        locked()

    app = make_app(settings, engine=engine, guard_errors=True)
    with caplog.at_level(logging.ERROR, logger="till.console"):
        async with app.run_test(size=(80, 24)) as pilot:
            await login(pilot)
            sale = app.screen
            sale.run_worker(fails(), group="flow")
            await settle(pilot)
            assert app.is_running and app.screen is sale
            [note] = list(app._notifications)
            assert note.severity == "error"
            assert "OperationalError: database is locked" in note.message
            await enter(pilot, COFFEE)  # still selling
            assert [line.sku for line in sale.cart.lines] == ["CF-001"]
    assert "database is locked" in caplog.text and "Traceback" in caplog.text


async def test_an_error_outside_a_worker_ends_the_console_with_one_line(settings, engine, capfd):
    app = make_app(settings, engine=engine, guard_errors=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        app.screen.call_later(lambda: 1 / 0)
        await asyncio.sleep(0.5)  # the console closes itself; the pilot has nothing to wait on
    assert app.return_code == 1
    err = capfd.readouterr().err
    assert "till: error: ZeroDivisionError: division by zero (the traceback is in " in err
    assert "Traceback" not in err


async def test_without_the_guard_an_error_fails_as_textual_does(settings, engine):
    async def fails():
        locked()

    app = make_app(settings, engine=engine)  # headless: the guard is off
    with pytest.raises(WorkerFailed):
        async with app.run_test(size=(80, 24)) as pilot:
            await login(pilot)
            app.screen.run_worker(fails())
            await settle(pilot)
