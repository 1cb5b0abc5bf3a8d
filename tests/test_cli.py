"""The `till` command line, run as a real subprocess (`python -m app`) against a temporary home."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def till(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TILL_")}
    clean.update(env or {})
    clean["COLUMNS"] = "100"
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def assert_one_error_line(proc: subprocess.CompletedProcess, code: int = 1) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("till: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "home"
    proc = till("seed-demo", "--home", str(home), "--products", "50")
    assert proc.returncode == 0, proc.stderr
    assert "demo store ready: 50 products" in proc.stderr
    return home


def test_seed_demo_creates_config_and_database(seeded):
    from app.config import DEMO_CONFIG

    assert (seeded / "till.toml").read_text(encoding="utf-8") == DEMO_CONFIG
    db = seeded / "till.db"
    assert db.exists()
    assert count(db, "product") == 50
    assert count(db, "barcode") == 50
    assert count(db, "operator") == 2
    assert count(db, "terminal") == 1
    assert (seeded / "logs").is_dir()


def test_seed_demo_twice_does_not_fail(seeded):
    proc = till("seed-demo", "--home", str(seeded), "--products", "50")
    assert proc.returncode == 0, proc.stderr
    assert "already has a store" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert count(seeded / "till.db", "product") == 50


def test_seed_demo_keeps_an_existing_config(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    custom = '[store]\nname = "My Shop"\nterminal = "T4"\n'
    (home / "till.toml").write_text(custom, encoding="utf-8")
    proc = till("seed-demo", "--home", str(home), "--products", "10")
    assert proc.returncode == 0, proc.stderr
    assert (home / "till.toml").read_text(encoding="utf-8") == custom
    conn = sqlite3.connect(home / "till.db")
    try:
        assert conn.execute("SELECT name FROM store").fetchall() == [("My Shop",)]
        assert conn.execute("SELECT code FROM terminal").fetchall() == [("T4",)]
    finally:
        conn.close()


def test_db_upgrade_up_to_date(seeded):
    proc = till("--home", str(seeded), "db", "upgrade")  # --home before the command works too
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "database is up to date"


def test_db_upgrade_on_a_new_home(tmp_path):
    home = tmp_path / "fresh"
    home.mkdir()
    proc = till("db", "upgrade", "--home", str(home))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "database upgraded"
    assert (home / "till.db").exists()
    assert count(home / "till.db", "alembic_version") == 1


def test_home_from_environment(seeded):
    proc = till("db", "upgrade", env={"TILL_HOME": str(seeded)})
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout


@pytest.mark.parametrize("toml, needle", [
    ('[store]\ncash_rounding = "abc"\n', "store.cash_rounding"),
    ('[store]\nnmae = "typo"\n', "store.nmae: unknown key"),
    ('[store\n', "not valid TOML"),
])
def test_bad_config_is_one_line_exit_1(tmp_path, toml, needle):
    home = tmp_path / "bad"
    home.mkdir()
    (home / "till.toml").write_text(toml, encoding="utf-8")
    line = assert_one_error_line(till("db", "upgrade", "--home", str(home)))
    assert str(home / "till.toml") in line
    assert needle in line


@pytest.mark.parametrize("command", [("run",), ()])
def test_bad_config_stops_the_console_before_it_starts(tmp_path, command):
    home = tmp_path / "bad"
    home.mkdir()
    (home / "till.toml").write_text('[store]\ncash_rounding = "abc"\n', encoding="utf-8")
    line = assert_one_error_line(till(*command, "--home", str(home)))
    assert "store.cash_rounding" in line


def test_bad_config_on_seed_demo(tmp_path):
    home = tmp_path / "bad"
    home.mkdir()
    (home / "till.toml").write_text('[printer]\nwidth = "wide"\n', encoding="utf-8")
    line = assert_one_error_line(till("seed-demo", "--home", str(home), "--products", "10"))
    assert "printer.width" in line


def test_bad_env_override_is_one_line(seeded):
    line = assert_one_error_line(till("db", "upgrade", "--home", str(seeded),
                                      env={"TILL_STORE__CASH_ROUNDING": "lots"}))
    assert "store.cash_rounding" in line


def test_debug_shows_the_traceback(tmp_path):
    home = tmp_path / "bad"
    home.mkdir()
    (home / "till.toml").write_text('[store]\ncash_rounding = "abc"\n', encoding="utf-8")
    proc = till("db", "upgrade", "--home", str(home), "--debug")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr


def test_unknown_command_exits_2():
    proc = till("frobnicate")
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [("db",), ("db", "downgrade"), ("seed-demo", "--products", "many")])
def test_usage_errors_exit_2(args, tmp_path):
    proc = till(*args, "--home", str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_without_operators(tmp_path):
    home = tmp_path / "empty"
    home.mkdir()
    line = assert_one_error_line(till("run", "--home", str(home)))
    assert "no operators" in line
    assert "seed-demo" in line


def test_run_on_a_missing_home(tmp_path):
    line = assert_one_error_line(till("run", "--home", str(tmp_path / "nowhere")))
    assert "does not exist" in line
    assert not (tmp_path / "nowhere").exists()


def test_seed_demo_with_orders(tmp_path):
    home = tmp_path / "h"
    proc = till("seed-demo", "--home", str(home), "--products", "30", "--orders", "50")
    assert proc.returncode == 0, proc.stderr
    assert "50 customer orders" in proc.stderr
    assert count(home / "till.db", "customer_order") == 50
    again = till("seed-demo", "--home", str(home), "--orders", "50")
    assert again.returncode == 0, again.stderr
    assert "already has customer orders" in again.stderr
    assert count(home / "till.db", "customer_order") == 50


def test_version():
    from app import __version__

    proc = till("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"till {__version__}"


def test_console_script_entry_point():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["till"] == "app.cli:main"
