"""Getting any script onto thermal paper.

A line goes out as text when every character is in one of the code pages the printer's profile
lists (python-escpos picks the page and sends ESC t); Chinese goes in the printer's Kanji mode
(FS & … FS .) when [printer] cjk = "gb18030". Anything else, e.g. Thai on a profile without CP874,
is drawn with Pillow and sent as a raster image, so the customer never gets question marks.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import re
import shutil
import subprocess

log = logging.getLogger(__name__)

CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
FS_KANJI_ON, FS_KANJI_OFF = b"\x1c&", b"\x1c."
DOTS_PER_CHAR = 12  # font A


def paper_dots(profile, width: int) -> int:
    """Printable dots across: `width` characters of font A, or the profile's paper if that is narrower
    (python-escpos refuses a picture wider than the profile's paper)."""
    dots = width * DOTS_PER_CHAR
    try:
        return min(dots, int(profile.profile_data["media"]["width"]["pixels"]))
    except (KeyError, TypeError, ValueError):
        return dots


def encodable(device, text: str) -> bool:
    """Every character is in some code page of the printer's profile (answers cached per profile:
    asking every page for every character was most of the time a receipt took)."""
    pages = tuple(sorted(device.magic.encoder.codepages))
    return all(ord(ch) < 128 or _in_some_page(device.magic.encoder, pages, ch) for ch in set(text))


_PAGE_ANSWERS: dict[tuple[tuple[str, ...], str], bool] = {}


def _in_some_page(encoder, pages: tuple[str, ...], ch: str) -> bool:
    key = (pages, ch)
    answer = _PAGE_ANSWERS.get(key)
    if answer is None:
        answer = _PAGE_ANSWERS[key] = any(encoder.can_encode(page, ch) for page in pages)
    return answer


def write_line(device, text: str, *, width: int, cjk: str = "raster", font: str | None = None) -> str:
    """Send one line; returns how it went out ("text", "kanji" or "raster") for the log and tests."""
    if CJK.search(text):
        if cjk == "gb18030":
            try:
                data = text.encode("gb18030")
            except UnicodeEncodeError:
                data = None
            if data is not None:
                device._raw(FS_KANJI_ON + data + FS_KANJI_OFF + b"\n")
                return "kanji"
    elif encodable(device, text):
        device.textln(text)
        return "text"
    image = render_line(text, paper_dots(device.profile, width), font_for(text, font))
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos print()s profile remarks
        device.image(image, impl="bitImageRaster")
    return "raster"


def render_line(text: str, pixels: int, font_path: str | None):
    from PIL import Image, ImageDraw, ImageFont

    size = 22
    try:
        font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size)
    except OSError:
        font = ImageFont.load_default(size)
    image = Image.new("1", (pixels, size + 6), 1)
    ImageDraw.Draw(image).text((0, 2), text, font=font, fill=0)
    return image


def font_for(text: str, configured: str | None) -> str | None:
    """The configured font, else a system font that has the line's characters (fontconfig)."""
    if configured:
        return configured
    wanted = sorted({f"{ord(ch):x}" for ch in text if ord(ch) > 127})
    return _fc_font(" ".join(wanted[:8]))


@functools.lru_cache(maxsize=64)
def _fc_font(charset: str) -> str | None:
    if not charset or not shutil.which("fc-list"):
        return None
    try:
        out = subprocess.run(["fc-list", f":charset={charset}", "file"], capture_output=True, text=True,
                             timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
    regular = [f for f in files if not re.search(r"(?i)bold|italic|oblique", f)]
    return (regular or files or [None])[0]
