"""Outbox checks run against both SQLite and PostgreSQL (tests/test_outbox_storage.py, test_postgres.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from data import outbox
from data.db import writer

EVENTS = ("sale.completed",)


def payload_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM export_payload")).scalar_one()


def check_one_payload_per_event(engine, source_id: str) -> None:
    """Three connectors share one payload row; enqueuing again writes nothing; a connector added
    later gets its own job (and payload) while the others stay as they were."""
    three = [outbox.ExportTarget(name, "webhook", EVENTS, True) for name in ("hq", "bi", "audit")]
    payload = {"type": "sale.completed", "data": {"receipt_number": source_id, "name": "[bold]กาแฟ[/]"}}
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    before = payload_rows(engine)
    for _ in range(2):
        with writer(engine).begin() as conn:
            assert outbox.enqueue(conn, three, "sale.completed", "sale", source_id, payload, at=at) == 3
    jobs = [j for j in outbox.list_jobs(engine) if j.source_id == source_id]
    assert sorted(j.connector for j in jobs) == ["audit", "bi", "hq"]
    assert len({j.payload_id for j in jobs}) == 1 and payload_rows(engine) == before + 1
    assert all(outbox.show_job(engine, j.id)[1] == payload for j in jobs)
    with writer(engine).begin() as conn:
        outbox.enqueue(conn, [*three, outbox.ExportTarget("late", "webhook", EVENTS, True)], "sale.completed", "sale",
                       source_id, payload, at=at)
    jobs = [j for j in outbox.list_jobs(engine) if j.source_id == source_id]
    assert len(jobs) == 4 and payload_rows(engine) == before + 2
    claimed = outbox.claim(engine, "late", "t", now=at)
    assert [c.source_id for c in claimed] == [source_id] and claimed[0].payload == payload
