"""Daily sales CSV for the accountant, written when the day closes: UTF-8 with BOM (Excel reads Thai),
one row per sale and refund, written to a temporary file, fsynced and renamed, with a .sha256 file
beside it. A file is never overwritten: the same job again finds its own file; different content for
an existing revision is refused."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from pathlib import Path

from data.outbox import ClaimedJob, Outcome
from data.reports import period_rows

COLUMNS = ["business_date", "receipt_number", "kind", "refund_of", "time_local", "member_phone", "subtotal",
           "discount", "vat", "total", "rounding", "cash", "card", "other"]


def folder_of(folder: str | None, home: Path) -> Path:
    path = Path(folder or "exports").expanduser()
    return path if path.is_absolute() else home / path


def render_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


def deliver(engine, folder: Path, job: ClaimedJob, revision: int = 1) -> Outcome:
    data = job.payload.get("data", {})
    business_date = (data.get("business_date") or job.business_date or "").replace("-", "")
    try:
        rows = period_rows(engine, job.source_id)
    except LookupError as exc:
        return Outcome("blocked", error=str(exc))
    body = render_csv(rows)
    name = f"sales_{data.get('store_id', 'store')}_{data.get('terminal', 'T')}_{business_date}_r{revision}.csv"
    target = folder / name
    digest = hashlib.sha256(body).hexdigest()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if hashlib.sha256(target.read_bytes()).hexdigest() != digest:
                return Outcome("blocked", error=f"{target} exists with other content; files are never overwritten")
        else:
            _write_atomically(target, body)
        # After the file (a reader that sees the manifest finds the file complete); written again when
        # the worker died between the two.
        manifest, line = folder / f"{name}.sha256", f"{digest}  {name}\n".encode("ascii")
        if not manifest.exists() or manifest.read_bytes() != line:
            _write_atomically(manifest, line)
    except OSError as exc:
        return Outcome("retry", error=f"cannot write {target}: {exc.strerror or exc}")
    return Outcome("success", remote_id=str(target))


def _write_atomically(target: Path, data: bytes) -> None:
    """A hidden temporary file in the same folder, fsynced, then renamed: no partial file is ever seen."""
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
