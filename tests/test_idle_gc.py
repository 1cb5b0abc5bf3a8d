"""Full garbage collections wait for a pause in the selling (app/idle_gc.py)."""

from __future__ import annotations

import gc

from app.idle_gc import OFF, IdleCollector
from tests.pilot import login, settle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _make_pending(n: int = IdleCollector.PENDING) -> None:
    for _ in range(n):
        gc.collect(1)  # each counts towards the next full collection, as the automatic ones do


def test_full_collection_waits_for_a_pause_and_for_a_minute_at_most():
    before = gc.get_threshold()
    clock = Clock()
    collector = IdleCollector(clock)
    collector.install()
    try:
        assert gc.get_threshold() == (before[0], before[1], OFF) and gc.get_freeze_count() > 0
        _make_pending()
        collector.touched()
        clock.now += 0.5
        assert collector.tick() is False  # the cashier is scanning
        clock.now += 0.6
        assert collector.tick() is True and gc.get_count()[2] == 0  # a second without input
        _make_pending(IdleCollector.PENDING - 1)
        clock.now += 5
        assert collector.tick() is False  # nothing much to collect
        _make_pending(1)
        for _ in range(59):  # a minute of non-stop scanning: the backstop
            clock.now += 1
            collector.touched()
            if collector.tick():
                break
        assert collector.collections == 2 and clock.now - 1000.0 >= 60
    finally:
        collector.uninstall()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


async def test_the_console_holds_full_collections_while_it_runs(make_till):
    before = gc.get_threshold()
    app = make_till()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await settle(pilot)
        assert app.idle_gc.installed and gc.get_threshold()[2] == OFF
        last = app.idle_gc.last_input
        await pilot.press("1")
        assert app.idle_gc.last_input > last  # a key press counts as the cashier being busy
    assert gc.get_threshold() == before and not app.idle_gc.installed


def test_start_up_runs_without_collections_until_the_console_is_up():
    from app.idle_gc import hold_for_startup

    collector = IdleCollector()
    try:
        hold_for_startup()
        assert not gc.isenabled()
        collector.install()
        assert gc.isenabled() and gc.get_threshold()[2] == OFF
    finally:
        collector.uninstall()
        gc.enable()
    assert gc.isenabled()


def test_a_run_that_fails_before_the_console_is_up_leaves_collection_on(tmp_path):
    from app.cli import main

    (tmp_path / "till.toml").write_text("[store]\nid = 'X'\nbogus_key = 1\n", encoding="utf-8")
    assert main(["--home", str(tmp_path), "run"]) == 1  # a bad config: one line, no console
    assert gc.isenabled()
