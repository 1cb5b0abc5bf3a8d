"""A webhook receiver on 127.0.0.1 for tests: verifies Standard Webhooks signatures, dedupes by
webhook-id like a well-behaved receiver, and answers with scripted status codes. A scripted status of
0 ("hold") keeps the event, then answers 200 only once `release` is set (a worker can be killed
meanwhile)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "whsec_" + base64.b64encode(b"till-test-secret-0123456789abcdef").decode()


def verify(secret: str, headers, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1)[1] == expected for sig in headers["webhook-signature"].split())


class Receiver:
    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.script: list[tuple[int, dict]] = []  # answers to give, in order; then 200
        self.requests: list[dict] = []
        self.documents: dict[str, dict] = {}  # webhook-id → event: what the receiver keeps
        self.received = threading.Event()  # set when an event was kept
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok = verify(receiver.secret, headers, body)
                receiver.requests.append({"headers": headers, "body": body, "valid": ok})
                status, extra = receiver.script.pop(0) if receiver.script else (200, {})
                if not ok:
                    status = 401
                hold = status == 0
                if hold or status == 200:
                    status = 200
                    receiver.documents.setdefault(headers["webhook-id"], json.loads(body))
                    receiver.received.set()
                if hold:
                    receiver.release.wait(30)
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                try:
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}' if status == 200 else b'{"error": "scripted"}')
                except OSError:
                    pass  # the sender is gone

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
