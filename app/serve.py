"""`till serve`: this home's console in a browser through textual-serve.

Each browser connection starts `python -m app run --home HOME` as its own process (textual-serve's
web driver); the server only relays the terminal. It has no login of its own, so it binds to
127.0.0.1 unless --host says otherwise, and serves one console at a time: a second tab would be a
second till on the same terminal code."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import shlex
import socket
import sys
from pathlib import Path

from textual_serve.server import Server

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

EXPOSED_WARNING = ("till: warning: {host} is reachable from other machines and the console has no login of its own "
                   "beyond the operator PIN; prefer an SSH tunnel, or a reverse proxy with TLS and its own login")


class ServeError(Exception):
    """A one-line problem before the server starts."""


def _addresses(host: str, port: int) -> list[tuple]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot use host {host!r}: {exc.strerror}") from None
    return [(family, sockaddr) for family, _type, _proto, _name, sockaddr in found]


def is_loopback(host: str) -> bool:
    """True when every address the host name stands for is a loopback address."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = _addresses(host, 0)
    except ServeError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(addr[0].split("%")[0]).is_loopback
                                   for _family, addr in addresses)


def exposure_warning(host: str) -> str | None:
    """The warning printed before binding to an address other machines can reach, else None."""
    return None if is_loopback(host) else EXPOSED_WARNING.format(host=host)


def port_in_use(host: str, port: int) -> bool:
    """Whether the server's bind would fail. SO_REUSEADDR as aiohttp sets it, so a port a closed
    connection left in TIME_WAIT counts as free and only a listening socket as in use."""
    for family, sockaddr in _addresses(host, port):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
                raise ServeError(f"cannot bind {host}:{port}: {exc.strerror or exc}") from None
    return False


def console_command(home: Path, *, debug: bool = False) -> str:
    """The shell command textual-serve runs per connection: this same console for this home, with this
    Python (so the venv's packages), `exec`ed so that stopping it stops the console."""
    argv = [sys.executable, "-m", "app", "run", "--home", str(home.resolve())]
    if debug:
        argv.append("--debug")
    return "exec " + shlex.join(argv)


def url_for(host: str, port: int) -> str:
    """Where a browser on this machine (or at the end of an SSH tunnel) finds the server."""
    shown = host
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        if address.is_unspecified:  # 0.0.0.0 / :: - other machines use this machine's name
            shown = socket.getfqdn()
        elif address.version == 6:
            shown = f"[{address}]"
    return f"http://{shown}" if port == 80 else f"http://{shown}:{port}"


class TillServer(Server):
    """textual-serve's Server with one console at a time and the page's own URLs taken from the
    request (so a tunnel to another local port, or a proxy, still finds the websocket) unless
    --public-url fixes them."""

    def __init__(self, command: str, *, host: str, port: int, title: str, public_url: str | None,
                 home: Path) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url or url_for(host, port))
        self.fixed_public_url = public_url
        self.home = home
        self.sessions: set[asyncio.Task] = set()

    def initialize_logging(self) -> None:
        """Nothing: `till` already logs to <home>/logs/till.log, and textual-serve's records go there."""

    async def on_startup(self, app) -> None:
        print(f"till: serving the console of {self.home} at {self.public_url} (Ctrl+C stops)", flush=True)

    async def on_shutdown(self, app) -> None:
        """Ctrl+C with a console open: end its session now (textual-serve then tells the console to quit)
        instead of aiohttp waiting out its shutdown timeout for the websocket."""
        for task in self.sessions:
            task.cancel()
        if self.sessions:
            await asyncio.wait(self.sessions, timeout=10)

    async def handle_index(self, request):
        if self.fixed_public_url is None:
            scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
            self.public_url = f"{'https' if scheme == 'https' else 'http'}://{request.host}"
        # textual-serve's handler reads public_url without awaiting anything first.
        return await super().handle_index(request)

    async def handle_websocket(self, request):
        from aiohttp import web

        if self.sessions:
            return web.Response(status=409, text="the console is already open in another window\n")
        task = asyncio.current_task()
        assert task is not None
        self.sessions.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions.discard(task)


def serve(home: Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, title: str = "Till",
          public_url: str | None = None, debug: bool = False) -> int:
    if not 0 < port < 65536:
        raise ServeError(f"port {port} is out of range (1 to 65535)")
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise ServeError(f"--public-url {public_url!r} must start with http:// or https://")
    warning = exposure_warning(host)
    if port_in_use(host, port):
        raise ServeError(f"port {port} on {host} is in use")
    if warning:
        print(warning, file=sys.stderr, flush=True)
    server = TillServer(console_command(home, debug=debug), host=host, port=port, title=title,
                        public_url=public_url.rstrip("/") if public_url else None, home=home)
    try:
        server.serve(debug=False)  # textual-serve's debug turns on Textual devtools in the console
    except OSError as exc:  # lost the race for the port after the check
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is in use") from None
        raise
    return 0
