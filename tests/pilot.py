"""Helpers for Pilot tests: log in, type, wait for flows to settle."""

from __future__ import annotations

from textual.pilot import Pilot


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    """Let workers (PIN checks, prints) finish and the screen catch up, without fixed sleeps."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete() if not _flows_waiting(pilot) else None
        await pilot.pause()


def _flows_waiting(pilot: Pilot) -> bool:
    # A flow worker waiting on a dialog never completes on its own; don't wait for it.
    return any(w.group == "flow" and w.is_running for w in pilot.app.workers)


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)


async def enter(pilot: Pilot, text: str, *, typed: bool = False) -> None:
    """Put `text` into the focused field and press Enter. A key per character costs ~70 ms in Pilot;
    a keyboard-wedge scanner delivers the same text, so only tests about typing itself use typed=True."""
    from textual.widgets import Input

    focused = pilot.app.focused
    if typed or not isinstance(focused, Input):
        await type_text(pilot, text)
    else:
        focused.value = focused.value + text
        focused.cursor_position = len(focused.value)
    await pilot.press("enter")
    await settle(pilot)


async def login(pilot: Pilot, operator: str = "1", pin: str = "1111", *, restore: str | None = None) -> None:
    await enter(pilot, operator)
    await enter(pilot, pin)
    await settle(pilot)
    if restore is not None:
        await pilot.press(restore)
        await settle(pilot)


async def press(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


def cart_skus(app) -> list[str]:
    return [line.sku for line in app.screen.cart.lines]
