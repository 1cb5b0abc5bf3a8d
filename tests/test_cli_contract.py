"""The `till` command as DESIGN.md promises it, run as a subprocess against a temporary home: every error
is one line on stderr (exit 1, 2 for usage) and never a traceback; closing the day from the command line
writes the same export jobs as closing it on the till."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import assert_one_error_line, till


@pytest.fixture
def store(home) -> Path:
    """The seeded demo home of conftest (a copy per test), with a file-drop connector."""
    config = home / "till.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[[connectors]]\nname = "accountant"\n'
                      'kind = "file_drop"\nfolder = "exports"\nlive = true\n', encoding="utf-8")
    return home


def jobs(home: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(home / "till.db")
    try:
        return conn.execute("SELECT connector, event, state FROM export_job ORDER BY id").fetchall()
    finally:
        conn.close()


def expected_cash(home: Path) -> str:
    proc = till("report", "x", "--json", "--home", str(home))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["expected_cash"]


def close_day(home: Path, counted: str, *extra: str, pins: str = "1111\n"):
    import subprocess
    import sys

    from tests.test_cli import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("TILL_")}
    return subprocess.run([sys.executable, "-m", "app", "report", "z", "--counted", counted, "--operator", "1",
                           *extra, "--home", str(home)], cwd=ROOT, env=env, input=pins, capture_output=True,
                          text=True, timeout=120)


def test_report_z_from_the_command_line_writes_the_day_closed_jobs(store):
    proc = close_day(store, expected_cash(store))
    assert proc.returncode == 0, proc.stderr
    assert jobs(store) == [("accountant", "day.closed", "pending")]
    run = till("exports", "run", "--once", "--home", str(store))
    assert run.returncode == 0, run.stderr
    assert jobs(store) == [("accountant", "day.closed", "succeeded")]
    assert list((store / "exports").iterdir())


@pytest.mark.parametrize("counted", ["NaN", "Infinity", "-5", "12.345", "lots", "1e9999"])
def test_report_z_refuses_a_count_that_is_no_amount_of_cash(store, counted):
    line = assert_one_error_line(close_day(store, counted))
    assert "--counted" in line and "InvalidOperation" not in line
    assert jobs(store) == []
    conn = sqlite3.connect(store / "till.db")
    try:
        assert conn.execute("SELECT count(*) FROM day_close").fetchone()[0] == 0
    finally:
        conn.close()


@pytest.mark.parametrize("date", ["yesterday", "2026-13-01", "2026-02-30", "1.12.2026"])
def test_report_z_date_that_is_no_date_is_a_usage_error(store, date):
    proc = till("report", "z", "--date", date, "--home", str(store))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "YYYY-MM-DD" in proc.stderr and "Traceback" not in proc.stderr


def test_report_z_with_a_date_and_a_count_is_a_usage_error(store):
    """It reprinted the kept Z and took no notice of the count: now neither, and why."""
    proc = till("report", "z", "--date", "2026-12-01", "--counted", "100", "--operator", "1", "--home", str(store))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "give one of them" in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize("command", [("seed-demo", "--products", "5"), ("demo", "--products", "5"),
                                     ("db", "upgrade"), ("run",), ("exports", "list")])
def test_home_that_is_a_file_is_one_line(tmp_path, command):
    home = tmp_path / "afile"
    home.write_text("not a folder", encoding="utf-8")
    line = assert_one_error_line(till(*command, "--home", str(home)))
    assert str(home) in line and "not a folder" in line


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root writes anywhere")
@pytest.mark.parametrize("command", [("seed-demo", "--products", "5"), ("db", "upgrade"), ("exports", "list")])
def test_home_that_cannot_be_written_is_one_line(tmp_path, command):
    import subprocess
    import sys

    from tests.test_cli import ROOT

    home = tmp_path / "readonly"
    home.mkdir()
    home.chmod(0o555)
    prefix = []
    if os.geteuid() == 0:  # root ignores the mode bits unless it gives up CAP_DAC_OVERRIDE
        caps = "-dac_override,-dac_read_search"
        prefix = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILL_")}
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "app", *command, "--home", str(home)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        home.chmod(0o755)
    line = assert_one_error_line(proc)
    assert str(home) in line


def test_unexpected_errors_before_logging_show_no_traceback(tmp_path):
    """A home below a file: the folder cannot be made, and nothing but the one line reaches stderr."""
    below = tmp_path / "afile"
    below.write_text("x", encoding="utf-8")
    line = assert_one_error_line(till("seed-demo", "--products", "5", "--home", str(below / "home")))
    assert str(below / "home") in line


def test_a_list_env_override_that_is_no_json_names_the_variable(home):
    line = assert_one_error_line(till("db", "upgrade", "--home", str(home),
                                      env={"TILL_PAYMENT__QUICK_CASH": "20,50"}))
    assert "TILL_PAYMENT__QUICK_CASH" in line and "SettingsError" not in line


def test_output_into_a_closed_pipe_is_no_error(home):
    """`till exports list --json | head -1`: the reader goes away; till stops quietly."""
    import subprocess
    import sys

    from tests.test_cli import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("TILL_")}
    proc = subprocess.Popen([sys.executable, "-m", "app", "report", "x", "--home", str(home)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    proc.stdout.close()  # before till writes a byte
    _, err = proc.communicate(timeout=120)
    assert err.decode() == ""
    assert proc.returncode == 141  # as a program killed by SIGPIPE, for the shell's pipefail


def test_exports_list_says_when_it_shows_only_the_newest(home):
    from app.config import ConnectorSettings, load_settings
    from app.exports import targets
    from data import outbox
    from data.db import make_engine, writer

    settings = load_settings(home)
    settings.connectors = [ConnectorSettings(name="hq", kind="webhook", url="https://hq.example/hooks")]
    engine = make_engine(settings.database_url)
    with writer(engine).begin() as conn:
        for n in range(205):
            outbox.enqueue(conn, targets(settings), "sale.completed", "sale", f"R{n}",
                           outbox.envelope("sale.completed", outbox.utcnow(), {"n": n}))
    engine.dispose()
    listed = till("exports", "list", "--json", "--home", str(home))
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 200
    assert "newest 200" in listed.stderr and "--limit" in listed.stderr
    everything = till("exports", "list", "--json", "--limit", "0", "--home", str(home))
    assert len(json.loads(everything.stdout)) == 205 and everything.stderr == ""
    few = till("exports", "list", "--limit", "3", "--home", str(home))
    assert len(few.stdout.splitlines()) == 3 and "newest 3" in few.stderr


@pytest.mark.parametrize("args", [("exports", "retry"), ("exports", "retry", "--connector", "accountant")])
def test_a_missing_or_misplaced_option_is_a_usage_error(store, args):
    line = assert_one_error_line(till(*args, "--home", str(store)), code=2)
    assert "Traceback" not in line
    assert jobs(store) == []


def test_the_design_sample_config_runs_the_commands(tmp_path):
    from tests.test_config import design_sample

    home = tmp_path / "home"
    home.mkdir()
    (home / "till.toml").write_text(design_sample(), encoding="utf-8")
    upgrade = till("db", "upgrade", "--home", str(home))
    assert upgrade.returncode == 0 and upgrade.stdout.strip() == "database upgraded", upgrade.stderr
    listed = till("exports", "list", "--json", "--home", str(home))
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr
