"""Settings from <home>/till.toml with TILL_<SECTION>__<KEY> environment overrides."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.config import CONFIG_NAME, DEMO_CONFIG, ConfigError, default_home, load_settings, resolve_sqlite_url


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path


def config_error(home: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(home)
    message = str(info.value)
    assert "\n" not in message, "a config error is one line"
    assert "Traceback" not in message
    return message


def test_defaults_without_a_file(tmp_path):
    s = load_settings(tmp_path)
    assert s.home == tmp_path
    assert s.config_path == tmp_path / CONFIG_NAME
    assert s.store.id == "BKK01"
    assert s.store.name == "Demo Store"
    assert s.store.currency == "THB"
    assert s.store.locale == "th_TH"
    assert s.store.timezone == "Asia/Bangkok"
    assert s.store.prices_include_vat is True
    assert s.store.cash_rounding == Decimal("0.25") and isinstance(s.store.cash_rounding, Decimal)
    assert s.store.terminal == "T1"
    assert s.database.url == "sqlite:///till.db"
    assert s.database_url == "sqlite:///" + str((tmp_path / "till.db").resolve())
    assert s.site.url is None
    assert s.scanner.port is None and s.scanner.suffix == "\r"
    assert s.printer.kind == "none" and s.printer.width == 42
    assert s.payment.quick_cash == [Decimal(n) for n in (20, 50, 100, 500, 1000)]
    assert s.connectors == [] and s.keys == {}


def test_values_from_the_file(tmp_path):
    write(tmp_path, """
[store]
id = "CNX02"
name = "ร้านเชียงใหม่"
currency = "THB"
timezone = "Asia/Bangkok"
prices_include_vat = false
cash_rounding = "0.01"
terminal = "T7"

[database]
url = "sqlite:///data/pos.db"

[printer]
kind = "file"
port = "receipts.prn"
width = 32

[payment]
other_tenders = ["PromptPay"]
quick_cash = ["100", "1000"]

[keys]
pay = "f10,ctrl+enter"

[[connectors]]
name = "hq"
kind = "webhook"
url = "https://hq.example/hooks"
live = false
""")
    s = load_settings(tmp_path)
    assert s.store.id == "CNX02"
    assert s.store.name == "ร้านเชียงใหม่"
    assert s.store.prices_include_vat is False
    assert s.store.cash_rounding == Decimal("0.01")
    assert s.store.terminal == "T7"
    assert s.printer.kind == "file" and s.printer.width == 32
    assert s.payment.other_tenders == ["PromptPay"]
    assert s.payment.quick_cash == [Decimal(100), Decimal(1000)]
    assert s.keys == {"pay": "f10,ctrl+enter"}
    assert len(s.connectors) == 1
    hq = s.connectors[0]
    assert (hq.name, hq.kind, hq.live) == ("hq", "webhook", False)
    assert hq.url == "https://hq.example/hooks"
    assert s.database_url == "sqlite:///" + str((tmp_path / "data" / "pos.db").resolve())


def test_demo_config_loads(tmp_path):
    write(tmp_path, DEMO_CONFIG)
    s = load_settings(tmp_path)
    assert s.store.cash_rounding == Decimal("0.25")
    assert s.printer.kind == "file" and s.printer.port == "receipts.prn"


def test_toml_float_cash_rounding_is_exact(tmp_path):
    write(tmp_path, "[store]\ncash_rounding = 0.25\n")
    assert load_settings(tmp_path).store.cash_rounding == Decimal("0.25")


def test_env_beats_the_file(tmp_path, monkeypatch):
    write(tmp_path, '[store]\nname = "From File"\ncash_rounding = "0.50"\n[printer]\nwidth = 32\n')
    monkeypatch.setenv("TILL_STORE__NAME", "From Env")
    monkeypatch.setenv("TILL_PRINTER__KIND", "file")
    s = load_settings(tmp_path)
    assert s.store.name == "From Env"
    # the rest of the section still comes from the file
    assert s.store.cash_rounding == Decimal("0.50")
    assert s.printer.width == 32
    assert s.printer.kind == "file"


def test_env_without_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TILL_STORE__TERMINAL", "T3")
    monkeypatch.setenv("TILL_PRINTER__WIDTH", "48")
    s = load_settings(tmp_path)
    assert s.store.terminal == "T3"
    assert s.printer.width == 48


def test_env_names_are_case_insensitive(tmp_path, monkeypatch):
    monkeypatch.setenv("till_store__name", "lower")
    assert load_settings(tmp_path).store.name == "lower"


def test_bad_env_value_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TILL_STORE__CASH_ROUNDING", "abc")
    message = config_error(tmp_path)
    assert "store.cash_rounding" in message


@pytest.mark.parametrize("toml, key, problem", [
    ('[store]\ncash_rounding = "abc"\n', "store.cash_rounding", "decimal"),
    ('[store]\ncash_rounding = "-1"\n', "store.cash_rounding", "positive"),
    ('[store]\ncash_rounding = "0"\n', "store.cash_rounding", "positive"),
    ('[store]\nfoo = 1\n', "store.foo", "unknown key"),
    ('[stor]\nname = "x"\n', "stor", "unknown key"),
    ('[store]\ntimezone = "Mars/Olympus_Mons"\n', "store.timezone", "unknown time zone"),
    ('[store]\ncurrency = "baht"\n', "store.currency", "pattern"),
    ('[store]\nterminal = "T 1"\n', "store.terminal", "pattern"),
    ('[store]\nid = "BKK-01"\n', "store.id", "letters and digits"),
    ('[store]\nprices_include_vat = "maybe"\n', "store.prices_include_vat", "boolean"),
    ('[printer]\nkind = "laser"\n', "printer.kind", "'serial'"),
    ('[printer]\nwidth = 10\n', "printer.width", "greater than or equal"),
    ('[[connectors]]\nname = "x"\nkind = "ftp"\n', "connectors.0.kind", "peak"),
    ('[[connectors]]\nkind = "webhook"\n', "connectors.0.name", "required"),
])
def test_bad_value_names_file_key_and_problem(tmp_path, toml, key, problem):
    path = write(tmp_path, toml)
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: "), message
    assert key in message, message
    assert problem.lower() in message.lower(), message


def test_several_problems_are_counted_on_one_line(tmp_path):
    write(tmp_path, '[store]\ncurrency = "baht"\ntimezone = "Nowhere/City"\n')
    message = config_error(tmp_path)
    assert "1 more problem" in message


def test_bad_toml_syntax(tmp_path):
    path = write(tmp_path, '[store\nname = "x"\n')
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: ")
    assert "not valid TOML" in message
    assert "line 1" in message


def test_bad_toml_value_syntax(tmp_path):
    write(tmp_path, '[store]\nname = "unterminated\n')
    assert "not valid TOML" in config_error(tmp_path)


def test_not_utf8(tmp_path):
    tmp_path.joinpath(CONFIG_NAME).write_bytes(b'[store]\nname = "\xff\xfe"\n')
    message = config_error(tmp_path)
    assert str(tmp_path / CONFIG_NAME) in message
    assert "UTF-8" in message or "TOML" in message


def test_unreadable_config(tmp_path):
    (tmp_path / CONFIG_NAME).mkdir()
    message = config_error(tmp_path)
    assert str(tmp_path / CONFIG_NAME) in message


@pytest.mark.parametrize("url, expected", [
    ("sqlite:///till.db", "HOME/till.db"),
    ("sqlite:///data/pos.db", "HOME/data/pos.db"),
    ("sqlite:////var/lib/till/till.db", "sqlite:////var/lib/till/till.db"),
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("postgresql+psycopg://till@site-host/till", "postgresql+psycopg://till@site-host/till"),
])
def test_relative_sqlite_url_resolves_inside_home(tmp_path, url, expected):
    got = resolve_sqlite_url(url, tmp_path)
    if expected.startswith("HOME/"):
        assert got == "sqlite:///" + str((tmp_path / expected[5:]).resolve())
        assert Path(got[len("sqlite:///"):]).is_absolute()
    else:
        assert got == expected


def test_database_url_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TILL_DATABASE__URL", "sqlite:///other.db")
    assert load_settings(tmp_path).database_url == "sqlite:///" + str((tmp_path / "other.db").resolve())


def test_default_home_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TILL_HOME", str(tmp_path / "h"))
    assert default_home() == tmp_path / "h"
    monkeypatch.delenv("TILL_HOME")
    assert default_home().name == "till"


def test_home_from_env_is_used_by_load_settings(tmp_path, monkeypatch):
    write(tmp_path, '[store]\nname = "Env Home"\n')
    monkeypatch.setenv("TILL_HOME", str(tmp_path))
    s = load_settings()
    assert s.store.name == "Env Home"
    assert s.home == tmp_path
