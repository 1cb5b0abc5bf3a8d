"""How the outbox stores jobs: one payload row per event, and migration 0007 carrying old jobs over."""

from __future__ import annotations

import json
import os

import pytest
from alembic import command
from sqlalchemy import text

from data import outbox
from data.db import _alembic_config, make_engine, upgrade
from tests.outbox_checks import check_one_payload_per_event

PG_URL = os.environ.get("TILL_TEST_PG_URL")


def test_connectors_share_one_payload_row(engine):
    check_one_payload_per_event(engine, "BKK01-T1-000042")


def test_migration_0007_keeps_the_payload_of_every_job(tmp_path):
    """Jobs written before 0007 carried their own payload; after it they read the same payload from
    export_payload, keep their state, and new jobs get new payload ids."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _old_jobs_survive(engine, {"type": "sale.completed", "data": {"receipt_number": "OLD-1", "total": "45.00"}})
    engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="set TILL_TEST_PG_URL to run the PostgreSQL tests")
def test_migration_0007_on_postgresql():
    from tests.pg import throwaway_database

    with throwaway_database("till_outbox") as url:
        engine = make_engine(url)
        try:
            _old_jobs_survive(engine, {"type": "sale.completed", "data": {"receipt_number": "OLD-1"}})
        finally:
            engine.dispose()


def _old_jobs_survive(engine, body: dict) -> None:
    command.upgrade(_alembic_config(engine), "0006")
    with engine.begin() as conn:
        for n, state in ((1, "succeeded"), (2, "dead")):
            conn.execute(text(
                "INSERT INTO export_job (connector, kind, event, source_type, source_id, revision, idempotency_key, "
                "payload, state, attempt_count, max_attempts, next_attempt_at, last_error, remote_id, resolution, "
                "created_at, updated_at) VALUES (:c, 'webhook', 'sale.completed', 'sale', 'OLD-1', 1, :k, :p, :s, 1, "
                "12, '2026-11-30 10:00:00.000000', '', '', '', '2026-11-30 10:00:00.000000', "
                "'2026-11-30 10:00:00.000000')"),
                {"c": f"c{n}", "k": f"c{n}:sale.completed:OLD-1:1", "p": json.dumps(body), "s": state})
    assert upgrade(engine) is True
    old = outbox.list_jobs(engine)
    assert sorted((j.connector, j.state) for j in old) == [("c1", "succeeded"), ("c2", "dead")]
    assert all(outbox.show_job(engine, j.id)[1] == body for j in old)
    check_one_payload_per_event(engine, "NEW-1")



def test_background_checkpoint_copies_the_wal_back(engine, settings):
    """A sale's pages sit in the WAL (SQLite's own checkpoint waits for 4000 pages) until
    data.db.checkpoint copies them into the database file, read here without the WAL."""
    import sqlite3

    from data.db import WAL_AUTOCHECKPOINT_PAGES, checkpoint
    from tests.test_health import sell

    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_AUTOCHECKPOINT_PAGES
    path = engine.url.database

    def in_file(receipt: str) -> int:
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as raw:  # the file alone, no WAL
            return raw.execute("SELECT count(*) FROM sale WHERE receipt_number = ?", (receipt,)).fetchone()[0]

    receipt = sell(engine, settings)
    assert in_file(receipt) == 0
    checkpoint(engine)
    assert in_file(receipt) == 1
