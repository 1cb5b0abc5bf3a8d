"""GTIN check digits (EAN-8, UPC-A, EAN-13, GTIN-14), validated when codes come in from outside."""

from __future__ import annotations

GTIN_LENGTHS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}


class BarcodeError(ValueError):
    pass


def check_digit(body: str) -> int:
    """Check digit for the digits before it (weights 3,1,3,… from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def with_check_digit(body: str) -> str:
    return body + str(check_digit(body))


def validate_gtin(code: str) -> str:
    """Return the code if it is a well-formed GTIN; raise BarcodeError saying what is wrong."""
    code = code.strip()
    if not code.isdigit() or not code.isascii():
        raise BarcodeError(f"barcode {code!r} has characters other than digits")
    kind = GTIN_LENGTHS.get(len(code))
    if kind is None:
        raise BarcodeError(f"barcode {code!r} has {len(code)} digits; EAN-8, UPC-A, EAN-13 or GTIN-14 expected")
    expected = check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise BarcodeError(f"{kind} {code} has check digit {code[-1]}, expected {expected}")
    return code


def gtin_key(code: str) -> str:
    """The code right-aligned in 14 digits, as GS1 compares GTINs: what every spelling of one barcode
    shares (the UPC-A 036000291452 is the EAN-13 0036000291452)."""
    return code.zfill(14)


def other_spellings(code: str) -> tuple[str, ...]:
    """The same GTIN at the other lengths a scanner may send or a file may hold, shortest first; ()
    for a code that is not an 8- to 14-digit GTIN length."""
    if not (code.isascii() and code.isdigit()) or len(code) not in GTIN_LENGTHS:
        return ()
    core = code.lstrip("0")
    return tuple(core.zfill(n) for n in sorted(GTIN_LENGTHS) if len(core) <= n and n != len(code))


def is_valid_gtin(code: str) -> bool:
    try:
        validate_gtin(code)
    except BarcodeError:
        return False
    return True
