"""Signed webhooks (Standard Webhooks): webhook-id = the job's idempotency key (the same on every
retry), webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>",
plus Idempotency-Key and User-Agent. No redirects; 410 disables the endpoint; plain http only to
loopback addresses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from app import __version__
from data.outbox import ClaimedJob, Outcome

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
REDACTED = {"webhook-signature"}


class WebhookConfigError(ValueError):
    pass


def secret_key(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise WebhookConfigError("secret must be whsec_ followed by base64") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookConfigError(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http":
        host = parts.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise WebhookConfigError("plain http is allowed only to loopback addresses; use https")


def body_of(job: ClaimedJob) -> bytes:
    return json.dumps(job.payload, ensure_ascii=False, separators=(",", ":")).encode()


def deliver(client: httpx.Client, url: str, secret: str, job: ClaimedJob, *, now: float | None = None) -> Outcome:
    try:
        check_url(url)
        body = body_of(job)
        ts = int(now if now is not None else time.time())
        headers = {"content-type": "application/json", "webhook-id": job.idempotency_key,
                   "webhook-timestamp": str(ts), "webhook-signature": sign(secret, job.idempotency_key, ts, body),
                   "idempotency-key": job.idempotency_key, "user-agent": f"till/{__version__}"}
    except WebhookConfigError as exc:
        return Outcome("blocked", error=str(exc))
    shown = {k: ("***" if k in REDACTED else v) for k, v in headers.items()}
    try:
        response = client.post(url, content=body, headers=headers, follow_redirects=False)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return Outcome("connectivity", error=f"cannot reach {url}: {exc}", request_headers=shown)
    except httpx.TimeoutException as exc:
        # It may have arrived: the receiver dedupes by webhook-id, so sending again is safe.
        return Outcome("retry", error=f"no answer in time: {exc}", request_headers=shown)
    except httpx.HTTPError as exc:
        return Outcome("retry", error=f"{exc.__class__.__name__}: {exc}", request_headers=shown)
    text = response.text[:65536]
    status = response.status_code
    if 200 <= status < 300:
        return Outcome("success", status=status, response_body=text, request_headers=shown)
    retry_after = retry_after_seconds(response.headers.get("retry-after"))
    if status == 410:
        return Outcome("dead", status=status, response_body=text, request_headers=shown,
                       error="410 Gone: the receiver removed this endpoint; the connector is paused")
    if status in (408, 425, 429) or status >= 500:
        return Outcome("retry", status=status, response_body=text, retry_after=retry_after, request_headers=shown,
                       error=f"HTTP {status}")
    if 300 <= status < 400:
        return Outcome("retry", status=status, response_body=text, request_headers=shown,
                       error=f"HTTP {status} redirect to {response.headers.get('location', '?')}: redirects are not followed")
    return Outcome("dead", status=status, response_body=text, request_headers=shown,
                   error=f"HTTP {status}: the receiver refused the event")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds: a number of seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        at = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if at.tzinfo is None:
        return None
    return max(0.0, at.timestamp() - (now if now is not None else time.time()))
