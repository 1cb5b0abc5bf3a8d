"""The open cart is saved on every change: a real `till` killed with SIGKILL mid-sale loses nothing, the
next login offers the cart back with its discounts, member and quantities, and it sells at the same
money. Parked sales survive restarts."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import sqlite3
import struct
import termios
import time
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, select as sql_select

from app.screens.sale import SaleScreen
from data.models import CartDraft, Sale
from tests.conftest import COFFEE, WATER
from tests.pilot import enter, login, press
from widgets.dialogs import ConfirmDialog

TILL = Path(os.environ.get("VIRTUAL_ENV", "/work/venv")) / "bin" / "till"
F6, SHIFT_F6, F3 = b"\x1b[17~", b"\x1b[17;2~", b"\x1bOR"


class Console:
    """`till --home H` on a pseudo-terminal of 100×30, as a cashier's terminal runs it."""

    def __init__(self, home: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TILL_")}
        env["TERM"] = "xterm-256color"
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.execve(str(TILL), ["till", "--home", str(home)], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.out = b""

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    return

    def wait_for_login(self, timeout: float = 60) -> None:
        """Keys typed before the console puts the terminal in raw mode would be cooked (\\r → \\n)."""
        end = time.monotonic() + timeout
        while b"\x1b[?1049h" not in self.out:  # the alternate screen: the console has the terminal
            assert time.monotonic() < end, self.out[-500:]
            self.pump(0.2)
        self.pump(1.5)  # its first frame, the login form

    def type(self, data: bytes, pause: float = 0.8) -> None:
        os.write(self.fd, data)
        self.pump(pause)

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def open_drafts(home: Path) -> list[dict]:
    conn = sqlite3.connect(home / "till.db")
    try:
        return [json.loads(d) for (d,) in conn.execute("SELECT data FROM cart_draft WHERE status = 'open'")]
    finally:
        conn.close()


def wait_for(home: Path, console: Console, test, what: str, timeout: float = 30) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for draft in open_drafts(home):
            if test(draft):
                return draft
        console.pump(0.2)
    raise AssertionError(f"the open cart never showed {what}: {open_drafts(home)}")


async def test_a_killed_till_loses_nothing_of_the_open_cart(make_till, engine, home):
    console = Console(home)
    try:
        console.wait_for_login()
        console.type(b"1\r")
        console.type(b"1111\r", 2)
        console.type(b"2*" + COFFEE.encode() + b"\r")
        console.type(WATER.encode() + b"\r")
        draft = wait_for(home, console, lambda d: len(d["lines"]) == 2, "two lines")
        console.type(F6)  # the water is highlighted: 0.50 off it (within the cashier's 10 %)
        console.type(b"0.5\r")
        wait_for(home, console, lambda d: d["lines"][1]["discount"]["amount"] == "0.5", "the line discount")
        console.type(SHIFT_F6)
        console.type(b"5%\r")
        wait_for(home, console, lambda d: d["basket_discount"]["percent"] == "5", "the basket discount")
        console.type(F3)
        console.type(b"0812345670\r")
        draft = wait_for(home, console, lambda d: d["member_phone"] == "+66812345670", "the member")
    finally:
        console.kill()  # no logout, no clean exit: a power cut
    uid = draft["uid"]
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "y")
        sale = app.screen
        assert isinstance(sale, SaleScreen) and sale.cart.uid == uid
        assert [(l.sku, l.quantity) for l in sale.cart.lines] == [("CF-001", 2), ("WT-001", 1)]
        assert sale.cart.member_phone == "+66812345670"
        totals = sale.totals()
        # 90.00 + (7.00 − 0.50) = 96.50, 5 % off the basket (4.825, half up) = 91.67
        assert totals.line_discounts == Decimal("0.50") and totals.basket_discount == Decimal("4.83")
        assert totals.total == Decimal("91.67")
        await press(pilot, "f10")
        await enter(pilot, "")
        assert sale.cart.is_empty
    with Session(engine) as s:
        [sold] = s.exec(sql_select(Sale)).all()
        assert sold.uid == uid and sold.total == Decimal("91.67") and sold.member_id is not None
        assert s.exec(sql_select(CartDraft)).all() == []


async def test_a_parked_sale_of_a_killed_till_is_recalled_after_the_restart(make_till, home):
    console = Console(home)
    try:
        console.wait_for_login()
        console.type(b"1\r")
        console.type(b"1111\r", 2)
        console.type(COFFEE.encode() + b"\r")
        wait_for(home, console, lambda d: len(d["lines"]) == 1, "the coffee")
        console.type(b"\x1b[18~", 1.5)  # F7 parks
        end = time.monotonic() + 20
        conn = sqlite3.connect(home / "till.db")
        try:
            while not conn.execute("SELECT count(*) FROM cart_draft WHERE status = 'parked'").fetchone()[0]:
                assert time.monotonic() < end, "the sale was never parked"
                console.pump(0.2)
        finally:
            conn.close()
    finally:
        console.kill()
    app = make_till()
    async with app.run_test() as pilot:
        await login(pilot)
        assert isinstance(app.screen, SaleScreen)  # nothing open: no restore question
        await press(pilot, "f7")
        await press(pilot, "enter")
        assert [(l.sku, l.quantity) for l in app.screen.cart.lines] == [("CF-001", 1)]
