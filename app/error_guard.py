"""What an unexpected error does in the running console: a line on screen and the traceback in the log.

Textual's answer to any unhandled exception (in a worker, a handler, a render) is to end the app and
print the traceback. At a till that is a cashier in front of a traceback mid-queue, for what is often
a passing failure (the database locked by a long write, a full disk, a bug in one dialog). The cart is
saved on every change, so staying up loses nothing: the failed step is abandoned, the cashier is told
in one line, the log has the detail. Only errors that keep coming (a widget that fails every frame)
still end the console, with one line instead of a traceback.

Tests keep Textual's behaviour (an exception fails the test) unless they ask for this one.
"""

from __future__ import annotations

import logging
import time
from collections import deque

log = logging.getLogger("till.console")

BURST = 5
"""Errors within BURST_SECONDS after which the console gives up and ends (with one line)."""
BURST_SECONDS = 30.0


def one_line(error: BaseException) -> str:
    """The error as a cashier can read it: its class and first line (a driver's own message for a
    database error), shown literally."""
    inner = getattr(error, "error", None)  # textual.worker.WorkerFailed wraps the worker's own exception
    if isinstance(inner, BaseException):
        error = inner
    from data.text import one_line as first_line
    from data.text import printable

    name, text = type(error).__name__, printable(first_line(error))
    return name if text in ("", name) else f"{name}: {text}"


class ErrorGuard:
    """Counts the console's unexpected errors; `survive(error)` says whether to carry on after this one."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._recent: deque[float] = deque(maxlen=BURST)

    def survive(self, error: BaseException) -> bool:
        cause = getattr(error, "error", None)
        log.error("unexpected error in the console: %s", one_line(error),
                  exc_info=(type(cause), cause, cause.__traceback__) if isinstance(cause, BaseException) else error)
        now = self._clock()
        self._recent.append(now)
        return not (len(self._recent) == BURST and now - self._recent[0] < BURST_SECONDS)
