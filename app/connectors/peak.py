"""PEAK accounting (reference/exports.md §1, §6.4–6.8). Documents are built by data/peak.py; this
sends them with httpx. No Textual: it also runs from `till exports run`.

Auth on every request: `Time-Stamp` (UTC, yyyyMMddHHmmss), `Time-Signature` (lowercase hex
HMAC-SHA1 of the Time-Stamp keyed by the Connect ID), `Client-Token` (from POST /clienttoken, cached
and fetched again on expiry or on a token error) and `User-Token` (selects the business).

PEAK answers errors inside HTTP 200 (`resCode` in the envelope and in each row) and does not dedupe:
an answer that leaves it open whether the document exists (empty 200, 502/504, a timeout after the
request left, a row with a code but no resCode, a worker killed mid-send) makes the job `uncertain`,
and before anything is sent again the document is looked up by its reference: found → succeeded with
PEAK's number, not found → sent. 429 "concurrency" is retried once after a short wait; 429 "rate"
stops the connector for retryAfterSeconds (or Retry-After). Neither uses up an attempt.

Facts PEAK does not publish (field names, the lookup filter, token body, vatType values) are settings
(README "PEAK"), tested against tests/fake_peak.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time as _time
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from app import __version__
from app.config import HHMM, ConfigError
from app.connectors.webhook import retry_after_seconds
from data import peak as docs
from data.outbox import ClaimedJob, Outcome

TOKEN_CODES = ("600", "601")  # seen as "client token expired / invalid" [UNVERIFIED]
REDACTED = ("Time-Signature", "Client-Token", "User-Token")
ENVELOPES = {"receipts": ("PeakReceipts", "receipts"), "creditnotes": ("PeakCreditNotes", "creditNotes"),
             "contacts": ("PeakContacts", "contacts")}


class PeakConfigError(ValueError):
    pass


class PeakAuthError(RuntimeError):
    """PEAK refused the credentials (the client token cannot be had)."""


class LookupFailed(RuntimeError):
    pass


@dataclass
class PeakSettings:
    name: str
    url: str
    connect_id: str | None
    connect_key: str | None
    user_token: str | None
    live: bool
    cfg: docs.PeakConfig
    timeout: float = 30.0
    concurrency_wait: float = 8.0
    token_hours: float = 23.0
    token_body: str = "password"  # password | connectKey: the two request bodies seen in the wild
    signature_key: str = "connect_id"  # connect_id | connect_key
    lookup_param: str = "reference"
    create_contacts: bool = True
    amounts: str = "number"  # number | string
    extra: dict = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/")

    def missing_credentials(self) -> list[str]:
        return [k for k in ("connect_id", "connect_key", "user_token") if not getattr(self, k)]


def _hhmm(value: Any, what: str) -> time:
    text = str(value)
    if not re.fullmatch(HHMM, text):
        raise PeakConfigError(f"{what} must be HH:MM (got {text!r})")
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def settings_of(connector, settings=None) -> PeakSettings:
    """The PEAK settings of a [[connectors]] entry; `settings` gives the store (branch, time zone,
    cutoff, currency). Raises PeakConfigError naming the key (or the secret file that cannot be used)."""
    try:
        return _settings_of(connector, settings)
    except (ConfigError, OSError) as exc:  # a <key>_file others may read, or one that is missing
        raise PeakConfigError(f"connector {connector.name}: {exc}") from None


def _settings_of(connector, settings=None) -> PeakSettings:
    extra = dict(connector.model_extra or {})
    store = settings.store if settings is not None else None
    date_basis = str(extra.get("date", "payment"))
    if date_basis not in ("payment", "sale"):
        raise PeakConfigError(f"connector {connector.name}: date must be payment or sale (got {date_basis!r})")
    cutoff = _hhmm(extra["day_cutoff"], f"connector {connector.name}: day_cutoff") if "day_cutoff" in extra \
        else (store.cutoff if store else time(0, 0))
    after = _hhmm(extra.get("daily_after", "03:00"), f"connector {connector.name}: daily_after")
    vat_types = {str(k): int(v) for k, v in (extra.get("vat_types") or {"7": 3, "0": 1}).items()}
    methods = extra.get("payment_methods")
    cfg = docs.PeakConfig(
        connector=connector.name, branch=store.id if store else "BKK01",
        timezone=store.timezone if store else "Asia/Bangkok", cutoff=cutoff,
        currency=store.currency if store else "THB", date_basis=date_basis,
        pos_customer_code=str(connector.secret_of("pos_customer_code") or ""),
        tax_invoice=int(extra.get("tax_invoice", 0)), tax_status=int(extra.get("tax_status", 1)),
        vat_types=vat_types, payment_methods={str(k): str(v) for k, v in methods.items()} if methods else None,
        rounding_code=str(extra.get("rounding_code", "")),
        daily_after=timedelta(hours=after.hour, minutes=after.minute), days_back=int(extra.get("days_back", 7)))
    try:
        return PeakSettings(
            name=connector.name, url=connector.url or "https://api.peakaccount.com/api/v1",
            connect_id=connector.secret_of("connect_id"), connect_key=connector.secret_of("connect_key"),
            user_token=connector.secret_of("user_token"), live=connector.live, cfg=cfg,
            timeout=float(extra.get("timeout", 30)), concurrency_wait=float(extra.get("concurrency_wait", 8)),
            token_hours=float(extra.get("token_hours", 23)), token_body=str(extra.get("token_body", "password")),
            signature_key=str(extra.get("signature_key", "connect_id")),
            lookup_param=str(extra.get("lookup_param", "reference")),
            create_contacts=bool(extra.get("create_contacts", True)), amounts=str(extra.get("amounts", "number")),
            extra=extra)
    except (TypeError, ValueError) as exc:
        raise PeakConfigError(f"connector {connector.name}: {exc}") from None


# -- wire format -------------------------------------------------------------------------------------

def timestamp(now: datetime | None = None) -> str:
    """PEAK's Time-Stamp: UTC (never Bangkok time), yyyyMMddHHmmss."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d%H%M%S")


def signature(key: str, stamp: str) -> str:
    return hmac.new(key.encode(), stamp.encode(), hashlib.sha1).hexdigest()


_MARK = re.compile(r'"\\u0000D(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


def encode(obj: Any, amounts: str = "number") -> bytes:
    """JSON with Decimals as exact JSON numbers (never through float), or as strings."""
    from decimal import Decimal

    def default(value):
        if isinstance(value, Decimal):
            return f"\x00D{value:f}\x00" if amounts == "number" else f"{value:f}"
        raise TypeError(f"{type(value).__name__} is not JSON")

    text = json.dumps(obj, default=default, ensure_ascii=False, separators=(",", ":"))
    return _MARK.sub(r"\1", text).encode()


def envelope(doc: docs.PeakDoc) -> dict:
    outer, inner = ENVELOPES[doc.endpoint]
    return {outer: {inner: [doc.body]}}


def _pick(data: Any, key: str) -> Any:
    """A key of a PEAK answer, whatever its first letter's case (PeakReceipts / peakReceipts)."""
    if not isinstance(data, dict):
        return None
    if key in data:
        return data[key]
    lowered = key.lower()
    for k, v in data.items():
        if k.lower() == lowered:
            return v
    return None


# -- tokens ------------------------------------------------------------------------------------------

_TOKENS: dict[tuple[str, str], tuple[str, float]] = {}
_TOKEN_LOCK = threading.Lock()


def forget_tokens() -> None:
    with _TOKEN_LOCK:
        _TOKENS.clear()


class PeakClient:
    """Signed requests to one PEAK business; the client token is cached per (URL, Connect ID) and
    refreshes are serialised."""

    def __init__(self, http: httpx.Client, ps: PeakSettings) -> None:
        self.http, self.ps = http, ps
        self.last_headers: dict = {}

    def _stamp_headers(self) -> dict:
        stamp = timestamp()
        key = self.ps.connect_key if self.ps.signature_key == "connect_key" else self.ps.connect_id
        return {"Time-Stamp": stamp, "Time-Signature": signature(key or "", stamp),
                "User-Agent": f"till/{__version__}", "Content-Type": "application/json"}

    def fetch_token(self) -> httpx.Response:
        ps = self.ps
        if ps.token_body == "connectKey":
            body = {"peakClientToken": {"connectId": ps.connect_id, "connectKey": ps.connect_key}}
        else:
            body = {"PeakClientToken": {"connectId": ps.connect_id, "password": ps.connect_key}}
        return self.http.post(f"{ps.endpoint}/clienttoken", content=encode(body), headers=self._stamp_headers(),
                              timeout=ps.timeout)

    def token(self, *, force: bool = False) -> str:
        key = (self.ps.endpoint, self.ps.connect_id or "")
        with _TOKEN_LOCK:
            cached = _TOKENS.get(key)
            if cached and not force and _time.monotonic() - cached[1] < self.ps.token_hours * 3600:
                return cached[0]
            response = self.fetch_token()
            token = _token_of(response)
            _TOKENS[key] = (token, _time.monotonic())
            return token

    def headers(self, *, force_token: bool = False) -> dict:
        h = self._stamp_headers()
        h["Client-Token"] = self.token(force=force_token)
        h["User-Token"] = self.ps.user_token or ""
        self.last_headers = {k: ("***" if k in REDACTED else v) for k, v in h.items()}
        return h

    def call(self, method: str, path: str, body: Any = None, params: dict | None = None) -> httpx.Response:
        """One request; a token error is answered by fetching a new token and sending once more (the
        refused request created nothing)."""
        content = encode(body, self.ps.amounts) if body is not None else None
        for again in (False, True):
            response = self.http.request(method, f"{self.ps.endpoint}/{path}", content=content, params=params,
                                         headers=self.headers(force_token=again), timeout=self.ps.timeout,
                                         follow_redirects=False)
            if not again and _token_error(response):
                continue
            return response
        return response  # pragma: no cover - the loop returns

    def lookup(self, doc: docs.PeakDoc) -> str | None:
        """PEAK's number of the document with our reference, or None if PEAK has none."""
        response = self.call("GET", doc.endpoint, params={self.ps.lookup_param: doc.reference})
        if response.status_code != 200:
            raise LookupFailed(f"looking up {doc.reference} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise LookupFailed(f"looking up {doc.reference} gave no JSON") from None
        outer, inner = ENVELOPES[doc.endpoint]
        env = _pick(data, outer) or data
        code = _pick(env, "resCode")
        if code is not None and str(code) != "200":
            raise LookupFailed(f"looking up {doc.reference}: resCode {code} {_pick(env, 'resDesc') or ''}".strip())
        for row in _pick(env, inner) or []:
            if row.get("reference", doc.reference) == doc.reference:
                return str(row.get("code") or row.get("id") or doc.reference)
        return None

    def ensure_contact(self, contact: dict) -> None:
        """The member's contact: looked up by code, made once if PEAK has none (never for unknown phones:
        only members with a valid phone get here)."""
        key = (self.ps.endpoint, self.ps.user_token or "", contact["code"])
        if key in _CONTACTS:
            return
        response = self.call("GET", "contacts", params={"code": contact["code"]})
        rows = []
        if response.status_code == 200:
            try:
                rows = _pick(_pick(response.json(), "PeakContacts") or {}, "contacts") or []
            except ValueError:
                rows = []
        if not rows:
            body = {"PeakContacts": {"contacts": [{"code": contact["code"], "name": contact["name"],
                                                   "contactType": 3, "phone": contact["phone"]}]}}
            made = self.call("POST", "contacts", body)
            outcome = classify(made, "contacts")
            if outcome.kind != "success":
                raise LookupFailed(f"cannot make the PEAK contact {contact['code']}: {outcome.error}")
        _CONTACTS.add(key)


_CONTACTS: set[tuple[str, str, str]] = set()


def _token_of(response: httpx.Response) -> str:
    if response.status_code != 200:
        raise PeakAuthError(f"client token: HTTP {response.status_code}")
    try:
        data = _pick(response.json(), "PeakClientToken") or {}
    except ValueError:
        raise PeakAuthError("client token: the answer is not JSON") from None
    code, token = _pick(data, "resCode"), _pick(data, "token")
    if str(code) != "200" or not token:
        raise PeakAuthError(f"client token refused: resCode {code} {_pick(data, 'resDesc') or ''}".strip())
    return str(token)


def _token_error(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code != 200 or b"resCode" not in response.content:
        return False
    try:
        data = response.json()
    except ValueError:
        return False
    env = next(iter(data.values()), {}) if isinstance(data, dict) and len(data) == 1 else data
    code = str(_pick(env, "resCode") or _pick(data, "resCode") or "")
    desc = str(_pick(env, "resDesc") or "")
    return code in TOKEN_CODES or ("token" in desc.lower() and code != "200")


# -- answers -----------------------------------------------------------------------------------------

def classify(response: httpx.Response, endpoint: str, headers: dict | None = None) -> Outcome:
    """What one PEAK answer means for the job (§1.6, §6.4)."""
    status, text = response.status_code, response.text[:65536]
    kw = {"status": status, "response_body": text, "request_headers": headers or {}}
    if status in (502, 504):
        return Outcome("uncertain", error=f"HTTP {status}: the document may exist; it is looked up before "
                                          f"sending again", **kw)
    if status >= 500:
        return Outcome("retry", error=f"HTTP {status}", **kw)
    if status in (401, 403):
        return Outcome("blocked", error=f"auth: PEAK refused the credentials (HTTP {status}); re-enter them", **kw)
    if 300 <= status < 400:
        return Outcome("retry", error=f"HTTP {status} redirect: redirects are not followed", **kw)
    if status != 200 and status < 500:
        return Outcome("dead", error=f"HTTP {status}: PEAK refused the document", **kw)
    if not text.strip():
        return Outcome("uncertain", error="empty HTTP 200: the document may exist", **kw)
    try:
        data = response.json()
    except ValueError:
        return Outcome("uncertain", error="HTTP 200 without JSON: the document may exist", **kw)
    outer, inner = ENVELOPES[endpoint]
    env = _pick(data, outer)
    if not isinstance(env, dict):
        env = data if isinstance(data, dict) else {}
    if env.get("isSuccess") is False or env.get("success") is False:
        return Outcome("dead", error=f"PEAK: {_pick(env, 'resDesc') or _pick(env, 'message') or 'not successful'}",
                       **kw)
    code, desc = _pick(env, "resCode"), str(_pick(env, "resDesc") or "")
    if code is not None and str(code) != "200":
        if str(code) in TOKEN_CODES:
            return Outcome("blocked", error=f"auth: PEAK resCode {code} {desc} after a new token".strip(), **kw)
        if "timestamp" in desc.lower():
            return Outcome("retry", error=f"PEAK resCode {code}: {desc} (check this till's clock)", **kw)
        return Outcome("dead", error=f"PEAK resCode {code}: {desc}".strip(), **kw)
    rows = _pick(env, inner)
    if not rows:
        return Outcome("uncertain", error="PEAK answered without the document: it may exist", **kw)
    row = rows[0] or {}
    row_code, row_desc = _pick(row, "resCode"), str(_pick(row, "resDesc") or "")
    if row_code is None:
        return Outcome("uncertain", error="PEAK answered a row without resCode: the document may exist", **kw)
    if str(row_code) != "200":
        return Outcome("dead", error=f"PEAK row resCode {row_code}: {row_desc}".strip(), **kw)
    remote = row.get("code") or row.get("id")
    if not remote:
        return Outcome("uncertain", error="PEAK accepted the row but gave no id", **kw)
    return Outcome("success", remote_id=str(remote), **kw)


def _retry_after(response: httpx.Response) -> tuple[str, float | None]:
    kind, seconds = "", None
    try:
        data = response.json()
        kind = str(_pick(data, "type") or "")
        value = _pick(data, "retryAfterSeconds")
        seconds = float(value) if value is not None else None
    except (ValueError, TypeError, AttributeError):
        pass
    header = retry_after_seconds(response.headers.get("retry-after"))
    if header is not None:
        seconds = max(seconds or 0.0, header)
    return kind, seconds


# -- one job -----------------------------------------------------------------------------------------

def deliver(http: httpx.Client, connector, settings, engine, job: ClaimedJob) -> Outcome:
    """Build, check and (live) send one job. Dry-run builds and checks everything, sends nothing."""
    try:
        ps = settings_of(connector, settings)
    except PeakConfigError as exc:
        return Outcome("blocked", error=str(exc))
    try:
        doc = docs.build(engine, ps.cfg, job, check_depends=ps.live)
    except docs.PeakBlocked as exc:
        return Outcome("blocked", error=str(exc))
    except docs.PeakWaiting as exc:
        return Outcome("wait", error=str(exc), retry_after=60)
    except docs.PeakNotNeeded as exc:
        return Outcome("not_needed", error=str(exc))
    body = envelope(doc)
    if not ps.live:
        return Outcome("dry_run", response_body=encode(body, ps.amounts).decode())
    missing = ps.missing_credentials()
    if missing:
        name = ps.name.upper()
        return Outcome("blocked", error=f"connector {ps.name}: no {', '.join(missing)} (in till.toml, <key>_file "
                                        f"or TILL_CONNECTORS__{name}__<KEY>)")
    client = PeakClient(http, ps)
    try:
        if job.sent_before or job.previous_state == "uncertain":
            try:
                found = client.lookup(doc)
            except (httpx.HTTPError, LookupFailed) as exc:
                return Outcome("unreconciled", error=f"still uncertain: {exc}", request_headers=client.last_headers)
            if found:
                return Outcome("success", remote_id=found, request_headers=client.last_headers,
                               response_body=f"found at PEAK by reference {doc.reference}: {found}")
        if doc.contact and ps.create_contacts:
            client.ensure_contact(doc.contact)
    except PeakAuthError as exc:
        return Outcome("blocked", error=f"auth: {exc}; re-enter the PEAK credentials")
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return Outcome("connectivity", error=f"cannot reach {ps.endpoint}: {exc}")
    except (httpx.HTTPError, LookupFailed) as exc:
        return Outcome("retry", error=f"{exc.__class__.__name__}: {exc}", request_headers=client.last_headers)
    for second_try in (False, True):
        try:
            response = client.call("POST", doc.endpoint, body)
        except PeakAuthError as exc:
            return Outcome("blocked", error=f"auth: {exc}; re-enter the PEAK credentials")
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return Outcome("connectivity", error=f"cannot reach {ps.endpoint}: {exc}",
                           request_headers=client.last_headers)
        except httpx.HTTPError as exc:
            # The request left: PEAK may have made the document.
            return Outcome("uncertain", error=f"no answer ({exc.__class__.__name__}): the document may exist; "
                                              f"it is looked up before sending again",
                           request_headers=client.last_headers)
        if response.status_code != 429:
            return classify(response, doc.endpoint, client.last_headers)
        kind, seconds = _retry_after(response)
        if kind == "concurrency" and not second_try:
            _time.sleep(ps.concurrency_wait)
            continue
        wait = seconds if seconds is not None else (ps.concurrency_wait if kind == "concurrency" else 60.0)
        return Outcome("wait", status=429, retry_after=wait, response_body=response.text[:65536],
                       request_headers=client.last_headers, error=f"PEAK 429 {kind or 'rate'}: wait {wait:g} s")
    raise AssertionError("unreachable")  # pragma: no cover


def test_connection(connector_settings, settings=None) -> tuple[bool, str]:
    """Get a client token; report the clock skew against PEAK's Date header (PEAK rejects a stale
    Time-Stamp). For the integration-health screen (`t`)."""
    try:
        ps = settings_of(connector_settings, settings)
    except PeakConfigError as exc:
        return False, str(exc)
    missing = ps.missing_credentials()
    if missing:
        return False, f"no {', '.join(missing)} configured"
    try:
        with httpx.Client(timeout=ps.timeout) as http:
            response = PeakClient(http, ps).fetch_token()
    except httpx.HTTPError as exc:
        return False, f"cannot reach {ps.endpoint}: {exc}"
    skew_text, skew_ok = "", True
    date_header = response.headers.get("date")
    if date_header:
        try:
            skew = (datetime.now(UTC) - parsedate_to_datetime(date_header)).total_seconds()
            skew_ok = abs(skew) <= 60
            skew_text = f"; clock skew {skew:+.0f} s" + ("" if skew_ok else " (more than 60 s: fix this till's clock)")
        except (TypeError, ValueError):
            pass
    try:
        _token_of(response)
    except PeakAuthError as exc:
        return False, f"{exc}{skew_text}"
    return skew_ok, f"client token obtained{skew_text}"


test_connection.__test__ = False  # not a pytest test when imported into a test module


def plan(engine, connector, settings, target, *, now: datetime | None = None) -> list[str]:
    """The daily POS Customer jobs that are due (data.peak.plan_daily with this connector's settings)."""
    ps = settings_of(connector, settings)
    return docs.plan_daily(engine, ps.cfg, target, now=now)
