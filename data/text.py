"""Text from outside (product names, imported orders, member names) is shown and printed literally.
Control bytes are removed before it reaches a terminal or a printer: an ESC in a product name must not
open the drawer or repaint the screen."""

from __future__ import annotations

import re
import unicodedata

# C0 controls, DEL and C1 controls; tab and newline become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    text = _CONTROL.sub("", text)
    # Bidi overrides and other format characters can reorder what the operator sees.
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf" or ch == "\u200d")


def one_line(exc: BaseException, limit: int = 160) -> str:
    """An error as one line for a person: database drivers (SQLAlchemy's `orig`) add lines of background
    nobody at a till needs."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return (lines[0] if lines else exc.__class__.__name__)[:limit]
