"""The console on a 16-colour terminal (the Linux text console, TERM=xterm, TEXTUAL_COLOR_SYSTEM=standard):
every screen drawn in the 16 ANSI colours only, and no text drawn in its own background colour."""

from __future__ import annotations

import re

import pytest
import textual.constants
from rich.color import ColorSystem

from app.screens.sale import SaleScreen
from tests.conftest import COFFEE
from tests.pilot import enter, login, press, settle

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _frame(app) -> tuple[str, str, list]:
    """The screen as plain text, as the app's own console writes it, and text whose colour is its background's."""
    strips = app.screen._compositor.render_strips()
    text = "\n".join("".join(segment.text for segment in strip) for strip in strips)
    with app.console.capture() as capture:
        app.console.print(app.screen._compositor.render_update(full=True))
    unseen = []
    for y, strip in enumerate(strips):
        for segment in strip:
            style = segment.style
            if segment.text.strip() and style and style.color and style.bgcolor and \
                    style.color.downgrade(ColorSystem.STANDARD) == style.bgcolor.downgrade(ColorSystem.STANDARD):
                unseen.append((y, segment.text))
    return text, capture.get(), unseen


def _only_16_colours(output: str) -> list[str]:
    """SGR codes beyond the 16 colours: 38;5/48;5 (256) and 38;2/48;2 (truecolor)."""
    return [code for code in SGR.findall(output) if re.search(r"(^|;)[34]8;[25](;|$)", code)]


@pytest.fixture(params=["TEXTUAL_COLOR_SYSTEM=standard", "TERM=linux"])
def sixteen_colours(request, monkeypatch):
    monkeypatch.delenv("COLORTERM", raising=False)
    if request.param == "TERM=linux":
        monkeypatch.setenv("TERM", "linux")  # auto-detection, as on the Linux console
        monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "auto")
    else:
        monkeypatch.setenv("TERM", "xterm-256color")
        monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "standard")  # read once at import from the variable
    return request.param


async def test_login_and_sale_screens_in_16_colours(make_till, sixteen_colours):
    app = make_till()
    assert app.console.color_system == "standard", sixteen_colours
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text, output, unseen = _frame(app)
        assert "Demo Store" in text and "Operator" in text
        assert SGR.search(output) and not _only_16_colours(output)
        assert unseen == []

        await login(pilot)
        await enter(pilot, COFFEE)
        assert isinstance(app.screen, SaleScreen)
        text, output, unseen = _frame(app)
        assert "BKK01/T1" in text and "Iced coffee" in text
        for key in ("F2 Search", "F10 Pay", "F12 Menu"):
            assert key in text, text
        assert not _only_16_colours(output)
        assert unseen == []

        await press(pilot, "f10")
        text, output, unseen = _frame(app)
        assert app.screen.__class__.__name__ == "PaymentScreen"
        assert not _only_16_colours(output) and unseen == []
