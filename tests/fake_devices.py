"""Real-byte stand-ins for till hardware: pseudo-terminal pairs, a serial receipt printer on the
master end of a pty that answers DLE EOT status queries, and an ESC/POS printer on a TCP port."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from pathlib import Path

DLE_EOT = b"\x10\x04"
ONLINE = {1: 0x12, 2: 0x12, 4: 0x12}
PAPER_OUT = {1: 0x1A, 2: 0x32, 4: 0x7E}
COVER_OPEN = {1: 0x1A, 2: 0x16, 4: 0x12}


class Pty:
    """A pty pair in raw mode, reachable through a symlink so a test can 'unplug' and 're-plug'."""

    def __init__(self, link: Path | None = None) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.link = link
        if link is not None:
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(self.path)

    @property
    def url(self) -> str:
        return str(self.link or self.path)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        """Close both ends, once: a second call must not close fds the numbers were reused for."""
        fds, self._closed = () if getattr(self, "_closed", False) else (self.master, self.slave), True
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass


def strip_status_queries(data: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(data):
        if data[i:i + 2] == DLE_EOT and i + 2 < len(data):
            i += 3
            continue
        out.append(data[i])
        i += 1
    return bytes(out)


class SerialPrinter(threading.Thread):
    """Reads what the till sends to a pty; answers DLE EOT n from `status`. With hang_up_on, it is
    unplugged (the master closed) as soon as that status query arrives, unanswered."""

    def __init__(self, pty: Pty, status: dict[int, int] | None = ONLINE, *, hang_up_on: int | None = None) -> None:
        super().__init__(daemon=True)
        self.pty = pty
        self.status = status
        self.hang_up_on = hang_up_on
        self.received = bytearray()
        self._halt = threading.Event()
        self.start()

    def run(self) -> None:
        pending = b""
        while not self._halt.is_set():
            try:
                ready, _, _ = select.select([self.pty.master], [], [], 0.05)
                if not ready:
                    continue
                chunk = os.read(self.pty.master, 65536)
            except OSError:
                return
            self.received += chunk
            pending += chunk
            while DLE_EOT in pending:
                at = pending.index(DLE_EOT)
                if len(pending) < at + 3:
                    break
                n = pending[at + 2]
                pending = pending[at + 3:]
                if n == self.hang_up_on:
                    self.pty.unplug()
                    return
                if self.status is not None and n in self.status:
                    os.write(self.pty.master, bytes([self.status[n]]))
            pending = pending[-2:]

    @property
    def printed(self) -> bytes:
        return strip_status_queries(bytes(self.received))

    def wait_for(self, marker: bytes, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and marker not in self.printed:
            time.sleep(0.02)
        return self.printed

    def stop(self) -> None:
        self._halt.set()
        self.join(1)


class NetworkPrinter(threading.Thread):
    """An ESC/POS printer on 127.0.0.1: records every connection's bytes and answers DLE EOT.
    With close_at_once it accepts and hangs up, like a printer that is rebooting."""

    def __init__(self, port: int = 0, *, close_at_once: bool = False) -> None:
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.server.settimeout(0.1)
        self.port = self.server.getsockname()[1]
        self.close_at_once = close_at_once
        self.jobs: list[bytes] = []
        self._halt = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.close_at_once:
                conn.close()
                continue
            data = bytearray()
            conn.settimeout(2)
            with conn:
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except (TimeoutError, OSError):
                        break
                    if not chunk:
                        break
                    data += chunk
                    if chunk.endswith(DLE_EOT + b"\x01") or chunk.endswith(DLE_EOT + b"\x02") or chunk.endswith(DLE_EOT + b"\x04"):
                        conn.sendall(bytes([ONLINE[chunk[-1]]]))
            self.jobs.append(strip_status_queries(bytes(data)))

    def stop(self) -> None:
        self._halt.set()
        self.server.close()
        self.join(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
