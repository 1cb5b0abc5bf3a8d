"""Connector checks for the integration-health screen and the CLI: is the configuration complete, and
can the receiver be reached ("test connection")? Nothing here sends an export. No Textual."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from app.config import ConfigError, ConnectorSettings, Settings
from data.health import ConnectorInfo

SKEW_WARN_SECONDS = 60
LOW_DISK_BYTES = 100 * 1024 * 1024
TENDER_MAP_KEYS = ("tender_map", "payment_methods", "tenders")


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str
    skew_seconds: float | None = None


def extra(connector: ConnectorSettings) -> dict:
    return dict(connector.model_extra or {})


def config_problem(connector: ConnectorSettings) -> str | None:
    """What keeps the connector from delivering, as one line; None when the configuration is complete."""
    if connector.kind == "webhook":
        from app.connectors import webhook

        if not connector.url:
            return "no url in till.toml"
        try:
            webhook.check_url(connector.url)
            secret = connector.secret_value()
        except (webhook.WebhookConfigError, ConfigError, OSError, ValueError) as exc:
            return str(exc)
        if not secret:
            return f"no secret (secret, secret_file or TILL_CONNECTORS__{connector.name.upper()}__SECRET)"
        try:
            webhook.secret_key(secret)
        except webhook.WebhookConfigError as exc:
            return str(exc)
    elif connector.kind == "peak":
        missing = [k for k in ("connect_id", "connect_key", "user_token")
                   if not extra(connector).get(k) and not extra(connector).get(f"{k}_file")]
        if missing:
            return "missing " + ", ".join(missing)
    return None


def tender_map(connector: ConnectorSettings) -> dict | None:
    for key in TENDER_MAP_KEYS:
        value = extra(connector).get(key)
        if isinstance(value, dict):
            return value
    return None


def connector_infos(settings: Settings) -> list[ConnectorInfo]:
    """The configured connectors as the data layer's health checks need them."""
    from app.exports import DELIVERED_KINDS

    def problem(c: ConnectorSettings) -> str | None:
        if c.kind == "site":
            return None if settings.site_url_for(c) else "no url, and no [site] url in till.toml"
        return config_problem(c)

    return [ConnectorInfo(c.name, c.kind, c.live, delivered=c.kind in DELIVERED_KINDS, problem=problem(c),
                          needs_external_ids=c.kind == "peak", tender_map=tender_map(c),
                          daily=c.kind in ("peak", "file_drop") or "day.closed" in c.events)
            for c in settings.all_connectors()]


def test_connection(connector: ConnectorSettings, settings: Settings, *, timeout: float = 5.0) -> ProbeResult:
    """Reachability (and clock skew against the server) without sending anything that counts."""
    try:
        if connector.kind == "webhook":
            return _test_webhook(connector, timeout)
        if connector.kind == "file_drop":
            return _test_folder(connector, settings.home)
        if connector.kind == "peak":
            return _test_peak(connector, settings)
        if connector.kind == "site":
            from app.connectors import site

            ok, message = site.test_connection(settings.site_url_for(connector))
            return ProbeResult(ok, message)
    except Exception as exc:  # noqa: BLE001 - a test reports, it never crashes the screen
        return ProbeResult(False, f"test failed: {exc.__class__.__name__}: {exc}")
    return ProbeResult(False, f"test connection is not available for {connector.kind} connectors")


def _test_peak(connector: ConnectorSettings, settings: Settings) -> ProbeResult:
    try:
        from app.connectors import peak  # type: ignore[attr-defined]
        check = peak.test_connection
    except (ImportError, AttributeError):
        return ProbeResult(False, "PEAK test connection is not available in this version")
    import inspect

    takes_settings = len(inspect.signature(check).parameters) > 1
    ok, message = check(connector, settings) if takes_settings else check(connector)
    return ProbeResult(bool(ok), str(message))


def _test_webhook(connector: ConnectorSettings, timeout: float) -> ProbeResult:
    import httpx

    from app.connectors import webhook

    problem = config_problem(connector)
    if not connector.url:
        return ProbeResult(False, problem or "no url in till.toml")
    try:
        webhook.check_url(connector.url)
    except webhook.WebhookConfigError as exc:
        return ProbeResult(False, str(exc))
    started = time.monotonic()
    try:
        # HEAD: nothing is delivered, no signature leaves; any answer means the receiver is there.
        with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0))) as client:
            response = client.head(connector.url, follow_redirects=False)
    except httpx.ConnectError as exc:
        return ProbeResult(False, f"cannot reach {connector.url}: {_reason(exc)}")
    except httpx.TimeoutException:
        return ProbeResult(False, f"no answer from {connector.url} within {timeout:g} s")
    except httpx.HTTPError as exc:
        return ProbeResult(False, f"{connector.url}: {exc.__class__.__name__}: {exc}")
    ms = (time.monotonic() - started) * 1000
    skew = clock_skew(response.headers.get("date"))
    parts = [f"reachable: HTTP {response.status_code} in {ms:.0f} ms"]
    ok = problem is None
    if skew is not None:
        parts.append(f"clock skew {skew:+.0f} s")
        if abs(skew) > SKEW_WARN_SECONDS:
            ok = False
            parts.append(f"(more than {SKEW_WARN_SECONDS} s: check the till's clock)")
    else:
        parts.append("no Date header: clock skew unknown")
    if 300 <= response.status_code < 400:
        parts.append("redirects are not followed: fix the url")
        ok = False
    if response.status_code == 410:
        parts.append("410 Gone: the receiver removed this endpoint")
        ok = False
    if problem:
        parts.append(f"but {problem}")
    return ProbeResult(ok, "; ".join(parts), skew)


def clock_skew(date_header: str | None, now: float | None = None) -> float | None:
    """Seconds the till's clock is ahead (+) or behind (-) the server's Date header."""
    if not date_header:
        return None
    try:
        server = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    if server.tzinfo is None:
        server = server.replace(tzinfo=UTC)
    local = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return (local - server).total_seconds()


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused (is the receiver running?)"
    return text or exc.__class__.__name__


def _test_folder(connector: ConnectorSettings, home: Path) -> ProbeResult:
    from app.connectors import file_drop

    folder = file_drop.folder_of(extra(connector).get("folder"), home)
    if not folder.exists():
        return ProbeResult(False, f"folder {folder} does not exist (it is made on the first export if the "
                                  "parent is writable)")
    if not folder.is_dir():
        return ProbeResult(False, f"{folder} is not a folder")
    probe = folder / ".till-write-test"
    try:
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return ProbeResult(False, f"folder {folder} is not writable: {exc.strerror or exc}")
    free = shutil.disk_usage(folder).free
    text = f"folder {folder} is writable; {free / 1024 ** 3:.1f} GB free"
    if free < LOW_DISK_BYTES:
        return ProbeResult(False, text + " (low: exports may fail)")
    return ProbeResult(True, text)
