"""Shared fixtures: a real SQLite file per test (copied from a seeded template), settings in a tmp
home, and the app built through make_app exactly as the CLI builds it."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from app.config import DEMO_CONFIG, load_settings
from data.db import make_engine, upgrade

DEMO_TOML = DEMO_CONFIG  # the file `till demo` writes: receipts go to receipts.prn in the home folder

HIGHLIGHTER = "4006381333931"  # HL-001, 35.00, 7 % VAT
COFFEE = "8850000000010"  # CF-001, 45.00
WATER = "8850000000034"  # WT-001, 7.00
MILK = "8850000000072"  # MK-001, 52.25
GREENS = "8850000000058"  # VG-001, 15.00, no VAT


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """One seeded database per test worker; every test gets its own copy."""
    home = tmp_path_factory.mktemp("template")
    (home / "till.toml").write_text(DEMO_TOML, encoding="utf-8")
    settings = load_settings(home)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    from app.tui import place_from_settings
    from data.demo import seed_demo

    seed_demo(engine, place_from_settings(settings, engine), products=300)
    engine.dispose()
    conn = sqlite3.connect(home / "till.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return home / "till.db"


@pytest.fixture
def home(tmp_path, demo_template) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    (h / "till.toml").write_text(DEMO_TOML, encoding="utf-8")
    shutil.copy(demo_template, h / "till.db")
    return h


@pytest.fixture
def settings(home):
    return load_settings(home)


@pytest.fixture
def engine(settings):
    e = make_engine(settings.database_url)
    yield e
    e.dispose()


@pytest.fixture
def place(settings, engine):
    from app.tui import place_from_settings

    return place_from_settings(settings, engine)


@pytest.fixture
def cashier(engine):
    from data.operators import by_code

    op = by_code(engine, "1")
    assert op is not None
    return op


@pytest.fixture
def manager(engine):
    from data.operators import by_code

    op = by_code(engine, "9")
    assert op is not None and op.is_manager
    return op


@pytest.fixture
def make_till(settings, engine):
    """Build the app through the factory; pass a modified settings object to change config."""
    from app.tui import make_app

    def build(custom=None):
        return make_app(custom or settings, engine=engine)

    return build


@pytest.fixture(autouse=True)
def _no_ambient_till_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("TILL_") and key != "TILL_TEST_PG_URL":
            monkeypatch.delenv(key, raising=False)
