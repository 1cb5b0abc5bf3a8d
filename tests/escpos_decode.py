"""A small ESC/POS decoder for tests: text lines in the code page the bytes select (ESC t n through
the profile's own table), Kanji mode as GB18030, and events for cut, drawer, barcode and raster.
Unknown commands raise, so a test notices bytes it did not expect."""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, FS, DLE, LF = 0x1B, 0x1D, 0x1C, 0x10, 0x0A
PYTHON_CODECS = {"CP437": "cp437", "CP874": "cp874", "CP866": "cp866", "CP855": "cp855", "CP858": "cp858",
                 "CP1251": "cp1251", "CP1252": "cp1252", "CP850": "cp850", "CP852": "cp852", "CP1125": "cp1125",
                 "ISO_8859-7": "iso8859_7", "ISO_8859-15": "iso8859_15", "ISO_8859-2": "iso8859_2",
                 "CP865": "cp865", "CP860": "cp860", "CP863": "cp863", "CP737": "cp737", "CP775": "cp775",
                 "CP857": "cp857", "CP862": "cp862", "CP864": "cp864", "CP869": "cp869", "CP1250": "cp1250",
                 "CP1253": "cp1253", "CP1254": "cp1254", "CP1255": "cp1255", "CP1256": "cp1256",
                 "CP1257": "cp1257", "CP1258": "cp1258", "CP720": "cp720", "CP932": "cp932"}


@dataclass
class Decoded:
    lines: list[str] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    rasters: list[tuple[int, int, bytes]] = field(default_factory=list)  # (bytes per row, rows, bitmap)

    def kinds(self) -> list[str]:
        return [e[0] for e in self.events]


def decode(data: bytes, code_pages: dict[str, str]) -> Decoded:
    """`code_pages` maps ESC t numbers (as strings) to page names, as python-escpos profiles do."""
    out = Decoded()
    page, kanji = "CP437", False
    text = bytearray()

    def flush_text(end_line: bool) -> None:
        nonlocal text
        if text or end_line:
            chunk = text.decode("gb18030") if kanji else text.decode(PYTHON_CODECS[page])
            if out.lines and not getattr(out, "_line_done", True):
                out.lines[-1] += chunk
            else:
                out.lines.append(chunk)
            out._line_done = end_line  # type: ignore[attr-defined]
            text = bytearray()

    i = 0
    while i < len(data):
        b = data[i]
        if b == LF:
            flush_text(True)
            i += 1
        elif b == ESC:
            cmd = data[i + 1]
            if cmd == ord("@"):
                out.events.append(("init",))
                page, i = "CP437", i + 2
            elif cmd == ord("t"):
                flush_text(False)
                page = code_pages[str(data[i + 2])]
                out.pages.append(page)
                i += 3
            elif cmd in (ord("a"), ord("E"), ord("-"), ord("!"), ord("M"), ord("G")):
                i += 3
            elif cmd == ord("d"):
                out.events.append(("feed", data[i + 2]))
                i += 3
            elif cmd == ord("p"):
                out.events.append(("drawer", data[i + 2], data[i + 3] * 2, data[i + 4] * 2))
                i += 5
            else:
                raise ValueError(f"unknown ESC {cmd:#x} at {i}")
        elif b == GS:
            cmd = data[i + 1]
            if cmd == ord("V"):
                out.events.append(("cut", data[i + 2]))
                i += 3
            elif cmd in (ord("h"), ord("w"), ord("f"), ord("H"), ord("!")):
                i += 3
            elif cmd == ord("k"):
                m = data[i + 2]
                n = data[i + 3]
                out.events.append(("barcode", m, data[i + 4:i + 4 + n].decode("ascii")))
                i += 4 + n
            elif cmd == ord("v") and data[i + 2] == ord("0"):
                xl, xh, yl, yh = data[i + 4:i + 8]
                size = (xl + 256 * xh) * (yl + 256 * yh)
                out.events.append(("raster", (xl + 256 * xh) * 8, yl + 256 * yh))
                out.rasters.append((xl + 256 * xh, yl + 256 * yh, bytes(data[i + 8:i + 8 + size])))
                i += 8 + size
            else:
                raise ValueError(f"unknown GS {cmd:#x} at {i}")
        elif b == FS:
            cmd = data[i + 1]
            if cmd == ord("&"):
                flush_text(False)
                kanji = True
            elif cmd == ord("."):
                flush_text(False)
                kanji = False
            else:
                raise ValueError(f"unknown FS {cmd:#x} at {i}")
            i += 2
        elif b == DLE:
            i += 3  # real-time status request
        elif b < 0x20:
            raise ValueError(f"stray control byte {b:#x} at {i}")
        else:
            text.append(b)
            i += 1
    flush_text(False) if text else None
    return out


def raster_row(raster: tuple[int, int, bytes], row: int) -> str:
    """One row of a GS v 0 bitmap as "1" (black) and "0"."""
    per_row, _, bitmap = raster
    line = bitmap[row * per_row:(row + 1) * per_row]
    return "".join(f"{byte:08b}" for byte in line)


def read_code128(row: str) -> str:
    """The text of a CODE128 symbol drawn in one bitmap row (what a scanner would read), from the
    pattern table python-barcode draws with; raises if the row is no valid CODE128."""
    from barcode.charsets.code128 import CODES, STOP

    bars = row.strip("0")
    runs, i = [], 0
    while i < len(bars):
        j = i
        while j < len(bars) and bars[j] == bars[i]:
            j += 1
        runs.append(j - i)
        i = j
    if len(runs) < 13 or (len(runs) - 7) % 6:
        raise ValueError(f"{len(runs)} bars and spaces is no CODE128 symbol")
    # The picture's modules are not whole pixels everywhere (python-barcode draws at float positions and
    # truncates), so, as a scanner's decoder does, each group of 3 bars and 3 spaces is read as the
    # pattern it is nearest to; the check symbol then proves the reading.
    def widths(pattern: str) -> list[int]:
        out, k = [], 0
        while k < len(pattern):
            j = k
            while j < len(pattern) and pattern[j] == pattern[k]:
                j += 1
            out.append(j - k)
            k = j
        return out

    table = [widths(pattern) for pattern in CODES]
    values = []
    for k in range(0, len(runs) - 7, 6):
        group = runs[k:k + 6]
        module = sum(group) / 11
        errors = [sum((n - m * module) ** 2 for n, m in zip(group, w)) for w in table]
        best = min(range(len(table)), key=errors.__getitem__)
        if errors[best] > 2 * module ** 2:
            raise ValueError(f"symbol {k // 6}: {group} is no CODE128 pattern")
        values.append(best)
    stop = runs[-7:]
    module = sum(stop) / 13
    if [round(n / module) for n in stop] != widths(STOP + "11"):  # python-barcode keeps the last bar apart
        raise ValueError("no CODE128 stop pattern")
    start, *data, check = values
    if (start + sum(v * (k + 1) for k, v in enumerate(data))) % 103 != check:
        raise ValueError("CODE128 check symbol does not match")
    sets = {103: "A", 104: "B", 105: "C"}
    code_set, text = sets[start], ""
    for v in data:
        if code_set == "C":
            if v < 100:
                text += f"{v:02d}"
                continue
            code_set = {100: "B", 101: "A"}[v]
        elif v in (99, 100, 101) and not (code_set == "B" and v == 100) and not (code_set == "A" and v == 101):
            code_set = {99: "C", 100: "B", 101: "A"}[v]
        elif code_set == "B":
            text += chr(v + 32)
        else:
            text += chr(v + 32) if v < 64 else chr(v - 64)
    return text


def hw_code128_text(data: str) -> str:
    """What a scanner reads from GS k CODE128 data: "{B" text, then "{C" and one byte per digit pair."""
    text, code_set, i = "", None, 0
    while i < len(data):
        if data[i] == "{" and i + 1 < len(data) and data[i + 1] in "ABC":
            code_set, i = data[i + 1], i + 2
            continue
        text += f"{ord(data[i]):02d}" if code_set == "C" else data[i]
        i += 1
    return text
