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


# -- the contract's sample and the checks a bad config must not slip past ---------------------------

DESIGN_SAMPLE = '''[store]
id = "BKK01"              # place of business (branch)
name = "Demo Store"
currency = "THB"
locale = "th_TH"
timezone = "Asia/Bangkok"
prices_include_vat = true
cash_rounding = "0.25"    # smallest cash unit; "0.01" for none
terminal = "T1"

[database]
url = "sqlite:///till.db" # this till's own database, relative to the home folder

[site]                    # optional: the shared site database of all stores (PostgreSQL)
url = "postgresql+psycopg://till@site-host/till"

[scanner]                 # optional; a keyboard-wedge scanner needs no section
port = "/dev/ttyUSB0"     # anything pyserial's serial_for_url accepts
baudrate = 9600
suffix = "\\r"             # or "\\r\\n", "\\n"
prefix = ""

[printer]
kind = "serial"           # serial | network | usb | file | none
port = "/dev/ttyS0"       # serial; host/port for network (9100); vendor/product for usb; path for file
profile = "TM-T88V"       # python-escpos capability profile
width = 42                # characters per line
open_drawer_on_cash = true

[[connectors]]             # any number; every one has name, kind, live
name = "hq"
kind = "webhook"          # peak | webhook | file_drop | site
url = "https://hq.example/hooks"          # plain http only to loopback addresses
secret = "whsec_…"        # Standard Webhooks secret (base64 after the prefix)
events = ["sale.completed", "sale.refunded", "order.created", "order.updated", "day.closed"]
live = false              # dry-run by default: payloads are built and checked, nothing is sent
retry_schedule = [30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 86400]  # seconds

[[connectors]]
name = "peak"
kind = "peak"
url = "https://api.peakaccount.com/api/v1"
connect_id = "…"
connect_key = "…"
user_token = "…"
pos_customer_code = "…"   # the contact for the daily "POS Customer" entry
date = "payment"          # payment | sale: which time dates a document
day_cutoff = "00:00"      # business day starts here, store timezone
live = false

[[connectors]]
name = "accountant"
kind = "file_drop"
folder = "exports"          # relative to the home folder, or an absolute path
live = true
'''


def design_sample() -> str:
    """The full till.toml sample of DESIGN.md (webhook with an https url, peak, file_drop), kept here as a
    copy; where DESIGN.md is at hand the copy must still be the sample."""
    import re

    design = Path("/work/shared/DESIGN.md")
    if design.exists():
        found = re.search(r"```toml\n(.*?)```", design.read_text(encoding="utf-8"), re.S)
        assert found is not None and found.group(1) == DESIGN_SAMPLE, "DESIGN.md's sample changed: copy it here"
    return DESIGN_SAMPLE


def test_the_design_sample_loads_with_every_key(tmp_path, monkeypatch):
    monkeypatch.delenv("TILL_CONNECTORS__PEAK__CONNECT_ID", raising=False)
    write(tmp_path, design_sample())
    s = load_settings(tmp_path)
    assert (s.store.id, s.store.currency, s.store.locale, s.store.terminal) == ("BKK01", "THB", "th_TH", "T1")
    assert s.store.cash_rounding == Decimal("0.25") and s.site.url.startswith("postgresql+psycopg://")
    assert (s.scanner.port, s.scanner.baudrate, s.scanner.suffix) == ("/dev/ttyUSB0", 9600, "\r")
    assert (s.printer.kind, s.printer.port, s.printer.profile, s.printer.width) == ("serial", "/dev/ttyS0",
                                                                                     "TM-T88V", 42)
    hq, peak, accountant = s.connectors
    assert (hq.kind, hq.url, hq.live, hq.retry_schedule[-1]) == ("webhook", "https://hq.example/hooks", False, 86400)
    assert (peak.kind, peak.live, peak.secret_of("connect_id")) == ("peak", False, "…")
    assert (accountant.kind, accountant.live, accountant.model_extra["folder"]) == ("file_drop", True, "exports")


@pytest.mark.parametrize("toml, key, problem", [
    ('[store]\ncurrency = "XYZ"\n', "store.currency", "ISO 4217"),
    ('[store]\ncurrency = "THBX"\n', "store.currency", "pattern"),
    ('[store]\nlocale = "xx_YY"\n', "store.locale", "country"),
    ('[store]\nlocale = "thai"\n', "store.locale", "th_TH"),
    ('[store]\nlocale = "th"\n', "store.locale", "th_TH"),
    ('[store]\nlocale = ""\n', "store.locale", "th_TH"),
    ('[[connectors]]\nname = "a"\nkind = "file_drop"\n[[connectors]]\nname = "a"\nkind = "webhook"\n',
     "connectors.1.name", "connectors.0"),
    ('[[connectors]]\nname = "hq"\nkind = "file_drop"\n[[connectors]]\nname = "HQ"\nkind = "webhook"\n',
     "connectors.1.name", "connectors.0"),
    ('[site]\nurl = "postgresql+psycopg://till@site/till"\n[[connectors]]\nname = "site"\nkind = "webhook"\n',
     "connectors.0.name", "[site]"),
    ('[[connectors]]\nname = "peak"\nkind = "peak"\nlive = true\n', "connectors.0.connect_id", "missing"),
    ('[[connectors]]\nname = "peak"\nkind = "peak"\nlive = true\nconnect_id = "i"\nconnect_key = "k"\n',
     "connectors.0.user_token", "missing"),
    ('[[connectors]]\nname = "peak"\nkind = "peak"\ndate = "yesterday"\n', "connectors.0.date", "payment"),
    ('[[connectors]]\nname = "peak"\nkind = "peak"\nday_cutoff = "25:00"\n', "connectors.0.day_cutoff", "HH:MM"),
    ('[store]\ncash_rounding = "0.001"\n', "store.cash_rounding", "0.01"),
    ('[store]\ncurrency = "JPY"\n', "store.cash_rounding", "JPY"),
    ('[keys]\npaay = "f10"\n', "keys.paay", "pay"),
    ('[keys]\npay = "ctrl+"\n', "keys.pay", "not a key"),
    ('[keys]\npay = "f10,,ctrl+t"\n', "keys.pay", "empty"),
    ('[keys]\npay = "ctr+t"\n', "keys.pay", "not a key"),
    ('[keys]\npay = "f99"\n', "keys.pay", "not a key"),
    ('[keys]\npay = ""\n', "keys.pay", "empty"),
    ('[database]\nurl = "nonsense"\n', "database.url", "postgresql+psycopg://"),
    ('[database]\nurl = "mysql://till@db/till"\n', "database.url", "SQLite or PostgreSQL"),
    ('[site]\nurl = "till@site-host/till"\n', "site.url", "postgresql+psycopg://"),
    ('[[connectors]]\nname = "hq"\nkind = "webhook"\nlve = true\n', "connectors.0.lve", "unknown key"),
    ('[[connectors]]\nname = "a"\nkind = "file_drop"\nfoldr = "x"\n', "connectors.0.foldr", "unknown key"),
    ('[[connectors]]\nname = "hq"\nkind = "webhook"\nevents = ["sale.complete"]\n', "connectors.0.events",
     "sale.completed"),
    ('[[connectors]]\nname = "hq"\nkind = "webhook"\nretry_schedule = [30, -5]\n', "connectors.0.retry_schedule",
     "negative"),
])
def test_a_bad_value_the_types_allow_names_file_key_and_problem(tmp_path, toml, key, problem):
    path = write(tmp_path, toml)
    message = config_error(tmp_path)
    assert message.startswith(f"{path}: {key}: "), message
    assert problem.lower() in message.lower(), message


def test_a_posix_locale_keeps_its_country(tmp_path):
    from data.phones import region_of

    write(tmp_path, '[store]\nlocale = "en_US.UTF-8"\n')
    s = load_settings(tmp_path)
    assert s.store.locale == "en_US" and region_of(s.store.locale) == "US"


def test_a_live_peak_may_take_its_credentials_from_files_or_the_environment(tmp_path, monkeypatch):
    for key in ("connect_id", "connect_key"):
        (tmp_path / key).write_text("x", encoding="utf-8")
        (tmp_path / key).chmod(0o600)
    write(tmp_path, f'[[connectors]]\nname = "peak"\nkind = "peak"\nlive = true\n'
                    f'connect_id_file = "{tmp_path / "connect_id"}"\nconnect_key_file = "{tmp_path / "connect_key"}"\n')
    assert "connectors.0.user_token" in config_error(tmp_path)
    monkeypatch.setenv("TILL_CONNECTORS__PEAK__USER_TOKEN", "t")
    [peak] = load_settings(tmp_path).connectors
    assert peak.secret_of("user_token") == "t" and peak.secret_of("connect_id") == "x"


def test_a_bad_key_from_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TILL_KEYS__PAY", "ctrl+")
    assert config_error(tmp_path).startswith("environment variable TILL_KEYS__PAY: keys.pay: ")


def test_keys_are_normalised_the_way_textual_names_them(tmp_path):
    write(tmp_path, '[keys]\npay = " F10, Ctrl+T "\nhealth = "f11,?"\nsearch = "Ctrl+Shift+F2"\nrefund_all = "A"\n')
    assert load_settings(tmp_path).keys == {"pay": "f10,ctrl+t", "health": "f11,question_mark",
                                            "search": "ctrl+shift+f2", "refund_all": "A"}


def test_every_binding_id_can_be_remapped_and_no_other():
    """app.config.BINDING_IDS is what [keys] accepts: exactly the ids of the bindings in app/ and widgets/
    (a new binding with an id goes into that set too)."""
    import importlib
    import inspect
    import pkgutil

    import app
    import widgets
    from app.config import BINDING_IDS
    from textual.binding import Binding
    from textual.dom import DOMNode

    found: set[str] = set()
    for package in (app, widgets):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if inspect.isclass(obj) and issubclass(obj, DOMNode) and obj.__module__ == module.__name__:
                    found |= {b.id for b in obj.__dict__.get("BINDINGS", []) if isinstance(b, Binding) and b.id}
    assert found == set(BINDING_IDS), (sorted(found - set(BINDING_IDS)), sorted(set(BINDING_IDS) - found))


@pytest.mark.parametrize("content, mode, problem", [
    (None, 0o600, "does not exist"),
    ("", 0o600, "empty"),
    ("whsec_abc\n", 0o640, "chmod 600"),
    ("whsec_abc\n", 0o604, "chmod 600"),
])
def test_a_secret_file_that_cannot_serve_names_the_key_and_the_file(tmp_path, content, mode, problem):
    from app.config import ConnectorSettings

    path = tmp_path / "secret"
    if content is not None:
        path.write_text(content, encoding="utf-8")
        path.chmod(mode)
    hq = ConnectorSettings(name="hq", kind="webhook", secret_file=path)
    with pytest.raises(ConfigError) as info:
        hq.secret_value()
    message = str(info.value)
    assert message.startswith(f"secret_file {path}: ") and problem in message, message


async def test_a_remapped_key_written_in_capitals_works(home, engine):
    from app.screens.payment import PaymentScreen
    from app.tui import make_app
    from tests.conftest import COFFEE
    from tests.pilot import enter, login, press

    config = home / "till.toml"
    config.write_text(config.read_text() + '\n[keys]\npay = "F10, Ctrl+T"\n', encoding="utf-8")
    app = make_app(load_settings(home), engine=engine)
    async with app.run_test() as pilot:
        await login(pilot)
        await enter(pilot, COFFEE)
        await press(pilot, "f10")
        assert isinstance(app.screen, PaymentScreen)


def test_connector_keys_from_the_environment_beat_the_file(tmp_path, monkeypatch):
    write(tmp_path, '[[connectors]]\nname = "hq"\nkind = "webhook"\nurl = "https://hq.example/hooks"\n'
                    'secret = "whsec_file"\nlive = false\n[[connectors]]\nname = "accountant"\nkind = "file_drop"\n')
    monkeypatch.setenv("TILL_CONNECTORS__HQ__URL", "http://127.0.0.1:8099/hooks")
    monkeypatch.setenv("TILL_CONNECTORS__HQ__LIVE", "true")
    monkeypatch.setenv("TILL_CONNECTORS__HQ__EVENTS", '["day.closed"]')
    monkeypatch.setenv("TILL_CONNECTORS__HQ__SECRET", "whsec_env")
    monkeypatch.setenv("TILL_CONNECTORS__ACCOUNTANT__FOLDER", "/srv/drop")
    hq, accountant = load_settings(tmp_path).connectors
    assert (hq.url, hq.live, hq.events, hq.secret_value()) == ("http://127.0.0.1:8099/hooks", True, ["day.closed"],
                                                               "whsec_env")
    assert accountant.model_extra["folder"] == "/srv/drop" and accountant.live is False


def test_a_bad_connector_value_from_the_environment_names_the_variable(tmp_path, monkeypatch):
    write(tmp_path, '[[connectors]]\nname = "hq"\nkind = "webhook"\n')
    monkeypatch.setenv("TILL_CONNECTORS__HQ__LIVE", "maybe")
    message = config_error(tmp_path)
    assert message.startswith("environment variable TILL_CONNECTORS__HQ__LIVE: connectors.0.live: "), message


def test_a_network_printer_port_is_a_number(tmp_path):
    """DESIGN.md: "host/port for network (9100)", and a port is written as a TOML integer."""
    write(tmp_path, '[printer]\nkind = "network"\nhost = "192.168.1.50"\nport = 9100\n')
    printer = load_settings(tmp_path).printer
    assert (printer.host, printer.port) == ("192.168.1.50", "9100")


def test_a_config_saved_with_a_byte_order_mark_loads(tmp_path):
    """Windows editors (Notepad) save UTF-8 with a BOM; tomllib alone calls that line 1 invalid."""
    tmp_path.joinpath(CONFIG_NAME).write_bytes('\ufeff[store]\nname = "ร้าน"\n'.encode())
    assert load_settings(tmp_path).store.name == "ร้าน"


def test_a_relative_secret_file_is_in_the_home_folder(tmp_path, monkeypatch):
    """As every other relative path in till.toml (database, printer file, file_drop folder)."""
    home = tmp_path / "home"
    write(home, '[[connectors]]\nname = "hq"\nkind = "webhook"\nsecret_file = "hq.secret"\n'
                '[[connectors]]\nname = "peak"\nkind = "peak"\nconnect_key_file = "keys/peak"\n')
    (home / "hq.secret").write_text("whsec_abc\n", encoding="utf-8")
    (home / "hq.secret").chmod(0o600)
    (home / "keys").mkdir()
    (home / "keys" / "peak").write_text("k\n", encoding="utf-8")
    (home / "keys" / "peak").chmod(0o600)
    monkeypatch.chdir(tmp_path)  # started from elsewhere, as systemd or cron would
    hq, peak = load_settings(home).connectors
    assert hq.secret_value() == "whsec_abc" and peak.secret_of("connect_key") == "k"
