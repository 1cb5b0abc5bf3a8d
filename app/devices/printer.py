"""ESC/POS output through python-escpos. The only module that speaks ESC/POS.

python-escpos is imported lazily: it is slow to import and calls logging.basicConfig() on import, so
logging must be set up (cli.setup_logging) before the first receipt is printed.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from data.text import printable

log = logging.getLogger(__name__)

WRITE_TIMEOUT = 5  # seconds
STATUS_TIMEOUT = 0.3
DLE_EOT = b"\x10\x04"


def realtime_status(device, n: int) -> int | None:
    """One DLE EOT n status byte from a pyserial port or a socket; None when the printer does not
    answer. Raises OSError when the connection is gone."""
    import socket

    if isinstance(device, socket.socket):
        old = device.gettimeout()
        device.settimeout(STATUS_TIMEOUT)
        try:
            device.sendall(DLE_EOT + bytes([n]))
            data = device.recv(1)
        except TimeoutError:
            return None
        finally:
            device.settimeout(old)  # the job itself keeps the connection's own write timeout
        if data == b"":
            raise ConnectionError("the printer closed the connection")
        return data[0]
    device.reset_input_buffer()
    device.write(DLE_EOT + bytes([n]))
    old, device.timeout = device.timeout, STATUS_TIMEOUT
    try:
        data = device.read(1)
    finally:
        device.timeout = old
    return data[0] if data else None


def printer_problem(query) -> str | None:
    """What stops printing, from DLE EOT 1 (offline), 2 (cover, paper stop, error) and 4 (paper)."""
    first = query(1)
    if first is None:
        return None  # not a printer that answers; send the job
    cause = query(2)
    paper = query(4)
    if cause is not None and cause & 0x04:
        return "cover open"
    if (paper is not None and paper & 0x60 == 0x60) or (cause is not None and cause & 0x20):
        return "out of paper"
    if cause is not None and cause & 0x40:
        return "error (paper jam or cutter)"
    if first & 0x08:
        return "offline"
    return None


class PrinterError(RuntimeError):
    """The printer could not take the job; the message is shown to the cashier."""


@dataclass(frozen=True)
class PrintJob:
    lines: tuple[str, ...]
    cut: bool = True
    open_drawer: bool = False
    code: str | None = None  # printed as a barcode (CODE128) at the bottom


class ReceiptPrinter:
    """Builds the right python-escpos printer for [printer] and sends one job at a time."""

    def __init__(self, kind: str, *, port: str | None = None, host: str | None = None, vendor=None,
                 product=None, profile: str = "default", width: int = 42, home: Path | None = None,
                 baudrate: int = 9600, cjk: str = "raster", font: str | None = None) -> None:
        self.kind = kind
        self.baudrate = baudrate
        self.cjk = cjk
        self.font = font
        self.port, self.host, self.vendor, self.product = port, host, vendor, product
        self.profile = profile
        self.width = width
        self.home = home or Path(".")
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.kind != "none"

    def describe(self) -> str:
        if self.kind == "file":
            return f"file {self._file_path()}"
        if self.kind == "network":
            host, port = self._address()
            return f"network {host}:{port}" if host else "network (no host)"
        if self.kind == "serial":
            return f"serial {self.port}"
        if self.kind == "usb":
            return f"usb {self.vendor}:{self.product}"
        return "no printer"

    def _address(self) -> tuple[str, int]:
        """`host` with `port` beside it (DESIGN: "host/port for network (9100)"); `host = "h:p"` and,
        from older configs, `port = "h:p"` alone also work."""
        if self.host:
            host, _, port = str(self.host).partition(":")
            port = port or str(self.port or "")
        else:
            host, _, port = str(self.port or "").partition(":")
        try:
            return host, int(port or 9100)
        except ValueError:
            raise PrinterError(f"[printer] port {port!r} is not a TCP port number") from None

    def _file_path(self) -> Path:
        path = Path(self.port or "receipts.prn")
        return path if path.is_absolute() else self.home / path

    def _open(self):
        os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(self.home / "cache"))
        Path(os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"]).mkdir(parents=True, exist_ok=True)
        from escpos import printer as escpos_printer

        profile = self.profile or "default"
        _known_profile(profile)
        if self.kind == "file":
            return _AppendingFile(str(self._file_path()), profile=profile)
        if self.kind == "network":
            host, port = self._address()
            if not host:
                raise PrinterError("[printer] kind = network needs host (and optionally port)")
            device = escpos_printer.Network(host, port=port, timeout=5, profile=profile)
            device.open()
            return device
        if self.kind == "serial":
            if not self.port:
                raise PrinterError("[printer] kind = serial needs port")
            device = escpos_printer.Serial(self.port, baudrate=self.baudrate, timeout=1, profile=profile)
            device.open()
            # python-escpos sets no write timeout: a printer that stops reading would block for ever.
            device.device.write_timeout = WRITE_TIMEOUT
            return device
        if self.kind == "usb":
            try:
                ids = _int(self.vendor), _int(self.product)
            except (TypeError, ValueError):
                raise PrinterError("[printer] kind = usb needs vendor and product ids, e.g. \"0x04b8\" and "
                                   "\"0x0202\"") from None
            return escpos_printer.Usb(*ids, profile=profile)
        raise PrinterError("no printer is configured ([printer] kind = none)")

    def check_status(self, device) -> None:
        """Ask a serial or network printer for its real-time status (DLE EOT) and refuse to send a
        job it cannot print. A printer that does not answer is given the job anyway."""
        if self.kind not in ("serial", "network"):
            return
        problem = printer_problem(lambda n: realtime_status(device.device, n))
        if problem:
            raise PrinterError(problem)

    def print_job(self, job: PrintJob) -> None:
        """Blocking; call from a worker thread. Raises PrinterError with a message for the cashier."""
        if not self.enabled:
            raise PrinterError("no printer is configured")
        from app.devices.escpos_text import write_line  # code pages and raster fallback: not needed at start-up

        with self._lock:
            try:
                device = self._open()
                try:
                    self.check_status(device)
                    device.hw("INIT")
                    for line in job.lines:
                        write_line(device, printable(line), width=self.width, cjk=self.cjk, font=self.font)
                    if job.code:
                        self._print_code(device, printable(job.code))
                    if job.cut:
                        device.cut()
                    if job.open_drawer:
                        device.cashdraw(2)
                    if self.kind == "network":
                        # A server that accepted and went away shows here, not on sendall.
                        self.check_status(device)
                finally:
                    _dispose(device)
            except PrinterError:
                raise
            except Exception as exc:  # python-escpos raises many kinds; the cashier needs one line
                raise PrinterError(f"{self.describe()}: {failure_reason(exc)}") from exc

    def _print_code(self, device, code: str) -> None:
        """The code as CODE128 under the receipt, as wide as the paper allows: the printer's own (GS k)
        when the profile has it and it fits, else a picture of one (the cheap 58 mm profiles have no
        GS k). A barcode that cannot be made is left out; the receipt still prints."""
        from app.devices.escpos_text import paper_dots

        dots = paper_dots(device.profile, self.width)
        data = code128_data(code, dots) if device.profile.supports("barcodeB") else None
        picture = impl = None
        if data is None:
            impl = next((i for i in ("bitImageRaster", "bitImageColumn", "graphics") if device.profile.supports(i)),
                        None)
            try:
                picture = code128_picture(code, dots) if impl else None
            except Exception as exc:  # noqa: BLE001 - python-barcode refusing the text must not stop the receipt
                log.warning("receipt barcode %r left out: %s", code, exc)
            if picture is None:
                return
        device.set(align="center")
        # python-escpos print()s which renderer it picked; keep that off the console.
        with contextlib.redirect_stdout(io.StringIO()):
            if data is not None:
                device.barcode(data, "CODE128", function_type="B", height=60, width=2, pos="BELOW", check=False)
            else:
                device.image(picture, impl=impl)
        device.set(align="left")


CODE128_MODULE = 2  # dots per module of the printer's own barcode (python-escpos allows 2 to 6)


def _code128_modules(data: str) -> int:
    """Modules of GS k CODE128 data: a symbol per character or code-set switch ("{B"), the check
    symbol, and the 13-module stop."""
    symbols = len(data) - data.count("{")
    return 11 * (symbols + 1) + 13


def code128_data(code: str, dots: int) -> str | None:
    """GS k CODE128 data for `code` that fits `dots` at CODE128_MODULE: code set B, with a trailing run
    of digits in code set C (two digits a symbol, sent as one byte 0-99) when B alone is too wide;
    None when neither fits (a printer prints nothing for a barcode wider than its paper)."""
    plain = "{B" + code
    if _code128_modules(plain) * CODE128_MODULE <= dots:
        return plain
    tail = re.search(r"(?:\d\d){2,}$", code)
    if tail is None:
        return None
    head, digits = code[:tail.start()], tail.group()
    data = ("{B" + head if head else "") + "{C" + "".join(chr(int(digits[i:i + 2])) for i in range(0, len(digits), 2))
    return data if _code128_modules(data) * CODE128_MODULE <= dots else None


def code128_picture(code: str, dots: int):
    """A CODE128 picture of `code` (python-barcode picks the code sets) with the text under it, drawn
    module by module in whole dots (2 a module, 1 if 2 is too wide) and centred on `dots`; None when
    even 1 dot a module is too wide."""
    from barcode import Code128
    from PIL import Image, ImageDraw, ImageFont

    bits = Code128(code).build()[0]
    module = 2 if len(bits) * 2 <= dots else 1
    if len(bits) * module > dots:
        return None
    height, text_size = 60, 20
    image = Image.new("1", (dots, height + text_size + 6), 1)
    draw = ImageDraw.Draw(image)
    left = (dots - len(bits) * module) // 2
    for k, bit in enumerate(bits):
        if bit == "1":
            draw.rectangle((left + k * module, 0, left + (k + 1) * module - 1, height - 1), fill=0)
    font = ImageFont.load_default(text_size)
    draw.text((dots // 2, height + 2), code, font=font, fill=0, anchor="ma")
    return image


def failure_reason(exc: BaseException) -> str:
    """One line saying why: the operating system's words when there are some ("Connection refused",
    "No such file or directory", "Input/output error"). python-escpos wraps them in a two-line
    DeviceNotFoundError and pyserial in a SerialException; the first line of those says nothing."""
    chain: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and all(node is not seen for seen in chain):
        chain.append(node)
        node = node.__cause__ or node.__context__
    for node in reversed(chain):
        if isinstance(node, OSError) and node.strerror and not isinstance(node.strerror, int):
            return str(node.strerror).strip().splitlines()[0][:160]
        if len(node.args) == 2 and isinstance(node.args[0], int) and isinstance(node.args[1], str):
            return node.args[1][:160]  # termios.error(errno, text): a serial port that vanished
    for node in reversed(chain):
        text = str(getattr(node, "msg", None) or node).strip()
        if text:
            return " ".join(text.split())[:160]
    return type(exc).__name__


def _dispose(device) -> None:
    """Close, and make sure python-escpos' __del__ does not try again: after the printer vanished,
    its close() raises termios.error, and the second try in __del__ prints "Exception ignored …" with
    a traceback onto the terminal."""
    try:
        device.close()
    except Exception:  # noqa: BLE001 - closing a vanished tty raises termios.error
        raw = getattr(device, "_device", None)
        try:
            if raw is not None and hasattr(raw, "close"):
                raw.close()  # the pyserial port or socket itself: no flush, just the descriptor
        except Exception:  # noqa: BLE001
            pass
    device.close = _nothing


def _nothing() -> None:
    return None


def _known_profile(name: str) -> None:
    from escpos.capabilities import CAPABILITIES

    profiles = CAPABILITIES["profiles"]
    if name not in profiles:
        import difflib

        near = difflib.get_close_matches(name, list(profiles), n=1, cutoff=0.8) or ["default"]
        raise PrinterError(f"unknown [printer] profile {name!r}; did you mean {near[0]!r}?")


def _int(value) -> int:
    if isinstance(value, int):
        return value
    return int(str(value), 0)


def _appending_file_class():
    from escpos.printer import File

    class AppendingFile(File):
        """python-escpos' File truncates; a receipt log in the home folder must grow instead."""

        def open(self, raise_not_found: bool = True) -> None:
            self.device = open(self.devfile, "ab")

    return AppendingFile


def _AppendingFile(path: str, **kw):  # noqa: N802 - a class made on first use
    return _appending_file_class()(path, **kw)
