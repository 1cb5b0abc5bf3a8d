"""Full garbage collections while the till is idle, not in the middle of a sale.

CPython's automatic full (generation 2) collection walks every object the process holds: with
Textual, SQLAlchemy and the screens' render caches that is 20–60 ms on a small till, and during
steady scanning it came about every 50 scans, so the scans that arrived meanwhile waited for it (it
was most of the serial-scan p99). The console instead freezes what start-up built (it lives as long
as the process), turns the automatic full collection off, and runs it itself once input has paused
for a second, or after a minute of non-stop selling at the latest. Young generations are collected
as usual. Before all that, start-up runs with no collection at all (hold_for_startup)."""

from __future__ import annotations

import gc
import time

OFF = 1_000_000  # a generation-2 threshold that is never reached: the full collection is ours


def hold_for_startup() -> None:
    """No collections at all while the console starts (`till run`): the imports and the first
    screen make several hundred thousand objects that live as long as the process, and collecting
    while they were made was over a tenth of start-up. IdleCollector.install turns it back on."""
    gc.disable()


class IdleCollector:
    IDLE_SECONDS = 1.0
    LATEST_SECONDS = 60.0
    PENDING = 10  # generation-1 collections since the last full one, CPython's own default trigger

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._saved: tuple[int, int, int] | None = None
        self.last_input = self.last_full = clock()
        self.collections = 0

    @property
    def installed(self) -> bool:
        return self._saved is not None

    def install(self) -> None:
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(self._saved[0], self._saved[1], OFF)
        gc.enable()  # held since start-up (hold_for_startup)
        self.last_full = self._clock()

    def uninstall(self) -> None:
        """The interpreter as it was (tests run many consoles in one process)."""
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        gc.unfreeze()
        gc.enable()
        self._saved = None

    def touched(self) -> None:
        """A key or a scan: the cashier is busy."""
        self.last_input = self._clock()

    def tick(self) -> bool:
        """Run a full collection if one is due and the till is idle (or has not been for a minute)."""
        if self._saved is None or gc.get_count()[2] < self.PENDING:
            return False
        now = self._clock()
        if now - self.last_input < self.IDLE_SECONDS and now - self.last_full < self.LATEST_SECONDS:
            return False
        gc.collect()
        self.last_full = self._clock()
        self.collections += 1
        return True
