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
                 "CP1257": "cp1257", "CP1258": "cp1258", "CP720": "cp720"}


@dataclass
class Decoded:
    lines: list[str] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

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
