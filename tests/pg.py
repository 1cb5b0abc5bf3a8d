"""A throwaway PostgreSQL database per test module, on the server TILL_TEST_PG_URL names."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("TILL_TEST_PG_URL")


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """Create a database, yield its SQLAlchemy URL, drop it (with any connection left) afterwards.
    The variable was set on purpose: an unreachable server fails the test instead of skipping it."""
    base = make_url(PG_URL)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = base.set(drivername="postgresql", database=base.database or "postgres").render_as_string(
        hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    except psycopg.OperationalError as exc:
        pytest.fail(f"TILL_TEST_PG_URL={base.render_as_string()}: cannot create a test database: "
                    f"{' '.join(str(exc).split())}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def demo_place(store_id: str, terminal: str) -> dict:
    """ensure_place() arguments for a demo-like store (Bangkok, THB, VAT included)."""
    from decimal import Decimal

    return dict(store_id=store_id, store_name=f"Store {store_id}", terminal=terminal, currency="THB", locale="th_TH",
                timezone="Asia/Bangkok", prices_include_vat=True, cash_rounding=Decimal("0.25"))
