"""A small fake PEAK Open API on 127.0.0.1 for tests (reference/exports.md §1): checks the auth headers
(Time-Stamp in UTC within 5 minutes, Time-Signature = hex HMAC-SHA1 keyed by the Connect ID, a client
token it issued, the User-Token), answers errors inside HTTP 200 like PEAK does, and does NOT dedupe:
a document posted twice is kept twice, so a test that finds one document proves the till looked it
up before sending again.

`script` holds what to do with the next document POSTs, in order (then "ok"):
  "ok" · ("status", 500) · "timeout" (keep the document, answer too late) · "empty" (keep it, answer an
  empty 200) · ("429", "concurrency"|"rate", seconds) · ("row_error", "resDesc") · ("envelope_error",
  code, desc) · "token_expired" (answer resCode 601 for the current token) · "hold" (keep the document,
  then answer only when `release` is set: a worker can be killed meanwhile).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CONNECT_ID = "till-test-connect-id"
CONNECT_KEY = "till-test-connect-key"
USER_TOKEN = "till-test-user-token"
LISTS = {"receipts": ("PeakReceipts", "receipts"), "creditnotes": ("PeakCreditNotes", "creditNotes"),
         "contacts": ("PeakContacts", "contacts")}


class FakePeak:
    def __init__(self, *, delay: float = 1.5) -> None:
        self.script: list = []
        self.requests: list[dict] = []
        self.documents: dict[str, list[dict]] = {"receipts": [], "creditnotes": [], "contacts": []}
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.delay = delay  # how late a "timeout" answer comes
        self.release = threading.Event()
        self.received = threading.Event()  # set when a document was stored
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, body: dict | bytes | None, headers: dict | None = None) -> None:
                raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def _auth_error(self, token_needed: bool = True) -> str | None:
                stamp = self.headers.get("Time-Stamp", "")
                try:
                    at = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
                except ValueError:
                    return "Invalid API Validate Data. (TimeStamp)"
                if abs((datetime.now(UTC) - at).total_seconds()) > 300:
                    return "Invalid API Validate Data. (TimeStamp)"
                expected = hmac.new(CONNECT_ID.encode(), stamp.encode(), hashlib.sha1).hexdigest()
                if self.headers.get("Time-Signature") != expected:
                    return "Invalid API Validate Data. (TimeSignature)"
                if token_needed:
                    if self.headers.get("Client-Token") not in fake.tokens:
                        return "601"
                    if self.headers.get("User-Token") != USER_TOKEN:
                        return "Invalid User Token"
                return None

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                path = urlsplit(self.path).path.removeprefix("/api/v1/")
                body = json.loads(raw, parse_float=Decimal) if raw else {}
                with fake.lock:
                    fake.requests.append({"method": "POST", "path": path, "headers": dict(self.headers), "body": body})
                if path == "clienttoken":
                    fake.token_requests += 1
                    error = self._auth_error(token_needed=False)
                    inner = body.get("PeakClientToken") or body.get("peakClientToken") or {}
                    secret = inner.get("password") or inner.get("connectKey")
                    if error is None and (inner.get("connectId") != CONNECT_ID or secret != CONNECT_KEY):
                        error = "Invalid connectId or password"
                    if error:
                        return self._answer(200, {"PeakClientToken": {"resCode": "401", "resDesc": error}})
                    token = uuid.uuid4().hex
                    fake.tokens.add(token)
                    return self._answer(200, {"PeakClientToken": {"resCode": "200", "token": token}})
                if path not in LISTS:
                    return self._answer(404, {"error": "no such endpoint"})
                outer, inner = LISTS[path]
                error = self._auth_error()
                if error == "601":
                    return self._answer(200, {outer: {"resCode": "601", "resDesc": "Invalid Client Token"}})
                if error:
                    return self._answer(200, {outer: {"resCode": "400", "resDesc": error}})
                rows = (body.get(outer) or {}).get(inner) or []
                if path == "contacts":
                    out = []
                    for row in rows:
                        stored = {**row, "id": uuid.uuid4().hex}
                        fake.documents["contacts"].append(stored)
                        out.append({"resCode": "200", "resDesc": "", "id": stored["id"], "code": row.get("code")})
                    return self._answer(200, {outer: {"resCode": "200", inner: out}})
                step = fake.script.pop(0) if fake.script else "ok"
                kind = step[0] if isinstance(step, tuple) else step
                if kind == "status":
                    return self._answer(step[1], {"error": "scripted"})
                if kind == "429":
                    return self._answer(429, {"type": step[1], "retryAfterSeconds": step[2]},
                                        {"Retry-After": str(step[2])})
                if kind == "token_expired":
                    fake.tokens.discard(self.headers.get("Client-Token"))
                    return self._answer(200, {outer: {"resCode": "601", "resDesc": "Invalid Client Token"}})
                if kind == "envelope_error":
                    return self._answer(200, {outer: {"resCode": step[1], "resDesc": step[2]}})
                if kind == "row_error":
                    return self._answer(200, {outer: {"resCode": "200", inner: [
                        {"resCode": "400", "resDesc": step[1], "reference": r.get("reference")} for r in rows]}})
                out = []
                for row in rows:
                    number = f"{'RE' if path == 'receipts' else 'CN'}-{len(fake.documents[path]) + 1:05d}"
                    stored = {**row, "id": uuid.uuid4().hex, "code": number}
                    with fake.lock:
                        fake.documents[path].append(stored)
                    out.append({"resCode": "200", "resDesc": "", "id": stored["id"], "code": number,
                                "reference": row.get("reference")})
                fake.received.set()
                if kind == "timeout":
                    time.sleep(fake.delay)
                if kind == "hold":
                    fake.release.wait(30)
                if kind == "empty":
                    return self._answer(200, b"")
                try:
                    return self._answer(200, {outer: {"resCode": "200", "resDesc": "", inner: out}})
                except OSError:
                    pass  # the client gave up waiting

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                path = parts.path.removeprefix("/api/v1/")
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                with fake.lock:
                    fake.requests.append({"method": "GET", "path": path, "headers": dict(self.headers),
                                          "query": query})
                if path not in LISTS:
                    return self._answer(404, {"error": "no such endpoint"})
                outer, inner = LISTS[path]
                error = self._auth_error()
                if error:
                    return self._answer(200, {outer: {"resCode": "601" if error == "601" else "400", "resDesc": error}})
                rows = [d for d in fake.documents[path] if all(str(d.get(k)) == v for k, v in query.items())]
                return self._answer(200, {outer: {"resCode": "200", inner: [
                    {"id": d["id"], "code": d.get("code"), "reference": d.get("reference")} for d in rows]}})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self, path: str = "receipts") -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == path]

    def by_reference(self, reference: str, path: str = "receipts") -> list[dict]:
        return [d for d in self.documents[path] if d.get("reference") == reference]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
