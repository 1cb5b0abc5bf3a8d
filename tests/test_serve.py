"""`till serve`: the console in a browser through textual-serve, on 127.0.0.1 only in these tests."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app import serve

ROOT = Path(__file__).parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TILL_", "TEXTUAL"))}
    clean["COLUMNS"] = "100"
    return clean


def _start(home: Path, port: int, tmp_path: Path) -> subprocess.Popen:
    """In its own process group, so the consoles it starts are stopped with it."""
    out = open(tmp_path / "serve.out", "wb")
    try:
        return subprocess.Popen([sys.executable, "-m", "app", "serve", "--home", str(home), "--port", str(port)],
                                cwd=ROOT, env=_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        out.close()


def _stop(proc: subprocess.Popen) -> int:
    """Ctrl+C for the whole group; SIGKILL if that has not ended it within 10 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)
    return -9


def _wait_for_page(url: str, proc: subprocess.Popen, log: Path, **headers) -> httpx.Response:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            answer = httpx.get(url, timeout=2, headers=headers)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        if answer.status_code == 200:
            return answer
        time.sleep(0.1)
    pytest.fail(f"no answer from {url} within 15 s: {log.read_text(errors='replace')}")


async def _first_frame(port: int) -> tuple[bytes, int]:
    """The console's output over the page's websocket until the login screen is drawn (20 s at most),
    and the status a second window's websocket gets meanwhile."""
    import aiohttp

    url = f"http://127.0.0.1:{port}/ws?width=80&height=24"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.ws_connect(url) as ws:
            received = b""
            deadline = time.monotonic() + 20
            while b"Operator" not in received and time.monotonic() < deadline:
                try:
                    message = await asyncio.wait_for(ws.receive(), timeout=max(0.1, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    break
                if message.type == aiohttp.WSMsgType.BINARY:
                    received += message.data
                elif message.type != aiohttp.WSMsgType.TEXT:
                    break
            try:
                async with session.ws_connect(url):
                    second = 101
            except aiohttp.WSServerHandshakeError as exc:
                second = exc.status
            return received, second


def test_serve_answers_with_the_page_and_the_console(home, tmp_path):
    port = _free_port()
    proc = _start(home, port, tmp_path)
    log = tmp_path / "serve.out"
    try:
        page = _wait_for_page(f"http://127.0.0.1:{port}/", proc, log)
        assert "text/html" in page.headers["content-type"]
        assert "Till · Demo Store" in page.text
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page.text
        # Through a tunnel to another local port, or a TLS proxy, the page points at the address used.
        tunnelled = _wait_for_page(f"http://127.0.0.1:{port}/", proc, log, host="127.0.0.1:18000")
        assert 'data-session-websocket-url="ws://127.0.0.1:18000/ws"' in tunnelled.text
        proxied = _wait_for_page(f"http://127.0.0.1:{port}/", proc, log, host="till.example",
                                 **{"X-Forwarded-Proto": "https"})
        assert 'data-session-websocket-url="wss://till.example/ws"' in proxied.text

        frame, second = asyncio.run(_first_frame(port))
        assert b"Demo Store" in frame and b"Operator" in frame, frame[-400:]
        assert second == 409  # one console at a time: a second window would be a second till T1
    finally:
        code = _stop(proc)
    output = log.read_text(errors="replace")
    assert code == 0, output
    assert f"serving the console of {home.resolve()} at http://127.0.0.1:{port}" in output
    assert "Traceback" not in output


def test_port_in_use_is_one_line(home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "app", "serve", "--home", str(home), "--port", str(port)],
                              cwd=ROOT, env=_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.splitlines() == [f"till: error: port {port} on 127.0.0.1 is in use"]
    assert proc.stdout == ""


def test_a_home_without_a_store_is_refused_before_serving(tmp_path, capsys):
    from app.cli import main

    (tmp_path / "empty").mkdir()
    assert main(["serve", "--home", str(tmp_path / "empty"), "--port", str(_free_port())]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no operators yet" in err[0], err


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_warning(host):
    assert serve.is_loopback(host)
    assert serve.exposure_warning(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_other_hosts_are_warned_about(host):
    assert not serve.is_loopback(host)
    warning = serve.exposure_warning(host)
    assert warning and "\n" not in warning
    assert warning.startswith(f"till: warning: {host} ") and "PIN" in warning and "SSH tunnel" in warning


def test_host_0000_prints_the_warning_and_binds_nothing(home, monkeypatch, capsys):
    """The CLI path for --host 0.0.0.0, with the port check and the server replaced: no public socket."""
    from app.cli import main

    started = []
    monkeypatch.setattr(serve, "port_in_use", lambda host, port: False)
    monkeypatch.setattr(serve.TillServer, "serve", lambda self, debug=False: started.append(self))
    assert main(["serve", "--home", str(home), "--host", "0.0.0.0", "--port", "8123"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [serve.EXPOSED_WARNING.format(host="0.0.0.0")]
    (server,) = started
    assert (server.host, server.port, server.title) == ("0.0.0.0", 8123, "Till · Demo Store")
    assert server.public_url.endswith(":8123") and "0.0.0.0" not in server.public_url
    assert shlex.split(server.command) == ["exec", sys.executable, "-m", "app", "run", "--home", str(home.resolve())]


def test_default_is_loopback_port_8000_without_a_warning(home, monkeypatch, capsys):
    from app.cli import main

    started = []
    monkeypatch.setattr(serve, "port_in_use", lambda host, port: False)
    monkeypatch.setattr(serve.TillServer, "serve", lambda self, debug=False: started.append(self))
    assert main(["serve", "--home", str(home)]) == 0
    assert capsys.readouterr().err == ""
    assert (started[0].host, started[0].port, started[0].public_url) == ("127.0.0.1", 8000, "http://127.0.0.1:8000")


def test_url_for_brackets_ipv6_and_names_a_wildcard_bind():
    assert serve.url_for("::1", 8000) == "http://[::1]:8000"
    assert serve.url_for("127.0.0.1", 80) == "http://127.0.0.1"
    assert serve.url_for("0.0.0.0", 8000) == f"http://{socket.getfqdn()}:8000"
