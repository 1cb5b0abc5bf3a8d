"""Serial barcode scanner reader: a plain thread with a stop Event that hands each scan to a callback.

It opens `[scanner] port` with serial.serial_for_url (a device, a pty path, socket://, loop://), splits
the byte stream on the configured suffix, strips the prefix, and survives the device going away: it
reports "disconnected" and tries again every `retry_seconds` until stopped. No Textual here; the app
passes callbacks that post messages.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

import serial

from data.text import printable

log = logging.getLogger(__name__)

MAX_LINE = 256  # no barcode is longer; anything longer without a suffix is noise


def split_scans(buffer: bytes, suffix: bytes, prefix: bytes = b"") -> tuple[list[str], bytes]:
    """Complete scans in `buffer` and the partial rest. CR, LF and CRLF all end a scan when the
    configured suffix is one of them, so a scanner set to CRLF works with suffix "\\r" too."""
    if suffix in (b"\r", b"\n", b"\r\n", b""):
        parts = re.split(rb"\r\n|\r|\n", buffer)
    else:
        parts = buffer.split(suffix)
    rest = parts.pop()
    if len(rest) > MAX_LINE:
        log.warning("scanner: dropped %d bytes without a suffix", len(rest))
        rest = b""
    codes = []
    for raw in parts:
        if prefix and raw.startswith(prefix):
            raw = raw[len(prefix):]
        code = printable(raw.decode("ascii", errors="ignore")).strip()
        if code:
            codes.append(code)
    return codes, rest


class ScannerReader(threading.Thread):
    def __init__(self, url: str, *, on_scan: Callable[[str], None], on_status: Callable[[str, str], None],
                 baudrate: int = 9600, suffix: str = "\r", prefix: str = "", retry_seconds: float = 2.0) -> None:
        super().__init__(name="scanner", daemon=True)
        self.url = url
        self.baudrate = baudrate
        self.suffix = suffix.encode()
        self.prefix = prefix.encode()
        self.retry_seconds = retry_seconds
        self.on_scan = on_scan
        self.on_status = on_status
        self._halt = threading.Event()
        self._port: serial.SerialBase | None = None
        self.state = "starting"

    def _status(self, state: str, detail: str = "") -> None:
        if state != self.state:
            self.state = state
            self.on_status(state, detail)

    def stop(self, timeout: float = 2.0) -> None:
        self._halt.set()
        port = self._port
        if port is not None:
            try:
                port.cancel_read()
            except Exception:  # noqa: BLE001 - the port may already be gone
                pass
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.2)
            except (serial.SerialException, OSError, ValueError) as exc:
                self._status("disconnected", _reason(exc))
                self._halt.wait(self.retry_seconds)
                continue
            self._port = port
            self._status("connected", self.url)
            try:
                self._read(port)
            except (serial.SerialException, OSError) as exc:
                self._status("disconnected", _reason(exc))
            finally:
                self._port = None
                try:
                    port.close()
                except Exception:  # noqa: BLE001 - closing a vanished tty raises termios.error
                    pass
            self._halt.wait(self.retry_seconds)
        self._status("stopped")

    def _read(self, port: serial.SerialBase) -> None:
        buffer = b""
        while not self._halt.is_set():
            waiting = port.in_waiting if hasattr(port, "in_waiting") else 0
            data = port.read(waiting or 1)
            if not data:
                continue
            buffer += data
            codes, buffer = split_scans(buffer, self.suffix, self.prefix)
            for code in codes:
                self.on_scan(code)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:120]
