"""ESC/POS output through python-escpos. The only module that speaks ESC/POS.

python-escpos is imported lazily: it is slow to import and calls logging.basicConfig() on import, so
logging must be set up (cli.setup_logging) before the first receipt is printed.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from data.text import printable


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
                 product=None, profile: str = "default", width: int = 42, home: Path | None = None) -> None:
        self.kind = kind
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
            return f"network {self.host or self.port}"
        if self.kind == "serial":
            return f"serial {self.port}"
        if self.kind == "usb":
            return f"usb {self.vendor}:{self.product}"
        return "no printer"

    def _file_path(self) -> Path:
        path = Path(self.port or "receipts.prn")
        return path if path.is_absolute() else self.home / path

    def _open(self):
        os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(self.home / "cache"))
        Path(os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"]).mkdir(parents=True, exist_ok=True)
        from escpos import printer as escpos_printer

        profile = self.profile or "default"
        if self.kind == "file":
            return _AppendingFile(str(self._file_path()), profile=profile)
        if self.kind == "network":
            host, _, port = (self.host or self.port or "").partition(":")
            if not host:
                raise PrinterError("[printer] kind = network needs host (and optionally :port)")
            return escpos_printer.Network(host, port=int(port or 9100), timeout=10, profile=profile)
        if self.kind == "serial":
            if not self.port:
                raise PrinterError("[printer] kind = serial needs port")
            return escpos_printer.Serial(self.port, timeout=2, profile=profile)
        if self.kind == "usb":
            return escpos_printer.Usb(_int(self.vendor), _int(self.product), profile=profile)
        raise PrinterError("no printer is configured ([printer] kind = none)")

    def print_job(self, job: PrintJob) -> None:
        """Blocking; call from a worker thread. Raises PrinterError with a message for the cashier."""
        if not self.enabled:
            raise PrinterError("no printer is configured")
        with self._lock:
            try:
                device = self._open()
                try:
                    device.hw("INIT")
                    for line in job.lines:
                        device.textln(printable(line))
                    if job.code:
                        device.set(align="center")
                        # python-escpos print()s which renderer it picked; keep that off the console.
                        with contextlib.redirect_stdout(io.StringIO()):
                            device.barcode("{B" + printable(job.code), "CODE128", function_type="B", height=60,
                                           width=2, pos="BELOW", check=False)
                        device.set(align="left")
                    if job.cut:
                        device.cut()
                    if job.open_drawer:
                        device.cashdraw(2)
                finally:
                    device.close()
            except PrinterError:
                raise
            except Exception as exc:  # python-escpos raises many kinds; the cashier needs one line
                raise PrinterError(f"printer ({self.describe()}): {exc.__class__.__name__}: {exc}") from exc


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
