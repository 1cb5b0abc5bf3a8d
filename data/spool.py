"""The print spool: what still has to reach paper, in order, per terminal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from data.db import read_session, write_session
from data.models import PrintJob
from data.types import utcnow


@dataclass(frozen=True)
class SpoolJob:
    id: int
    kind: str
    reference: str
    open_drawer: bool
    attempts: int
    last_error: str


_INSERT = PrintJob.__table__.insert()


def add(conn: Connection | Session, terminal_id: int, kind: str, reference: str, *, open_drawer: bool = False,
        at: datetime | None = None) -> None:
    """In the caller's transaction (the sale's own, for a receipt)."""
    conn.execute(_INSERT, {"terminal_id": terminal_id, "kind": kind, "reference": reference,
                           "open_drawer": open_drawer, "status": "pending", "attempts": 0, "last_error": "",
                           "created_at": at or utcnow(), "printed_at": None})


def enqueue(engine: Engine, terminal_id: int, kind: str, reference: str, *, open_drawer: bool = False) -> None:
    with write_session(engine) as s:
        add(s, terminal_id, kind, reference, open_drawer=open_drawer)


def pending(engine: Engine, terminal_id: int) -> list[SpoolJob]:
    with read_session(engine) as s:
        rows = s.exec(select(PrintJob).where(PrintJob.terminal_id == terminal_id, PrintJob.status == "pending")
                      .order_by(PrintJob.id))
        return [SpoolJob(j.id, j.kind, j.reference, j.open_drawer, j.attempts, j.last_error) for j in rows]


def mark_printed(engine: Engine, job_id: int) -> None:
    with write_session(engine) as s:
        job = s.get(PrintJob, job_id)
        if job is not None:
            job.status, job.printed_at, job.attempts = "printed", utcnow(), job.attempts + 1


def mark_failed(engine: Engine, job_id: int, error: str) -> None:
    with write_session(engine) as s:
        job = s.get(PrintJob, job_id)
        if job is not None:
            job.attempts += 1
            job.last_error = error[:500]
