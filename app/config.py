"""Settings: one pydantic-settings model read from <home>/till.toml, overridden by TILL_<SECTION>__<KEY>
environment variables. Built once in the CLI and passed down; nothing reads a global."""

from __future__ import annotations

import os
import tomllib
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

CONFIG_NAME = "till.toml"
HHMM = r"([01][0-9]|2[0-3]):[0-5][0-9]"
"""A time of day as till.toml writes it (day_cutoff, PEAK's daily_after): 00:00 to 23:59."""


class ConfigError(Exception):
    """A bad till.toml or environment override: one line naming the file, the key and the problem."""


# ISO 4217 codes a shop can price in (no metals, funds or test codes).
CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
""".split())

# The countries phonenumbers reads numbers for: the store locale's country must be one of them.
REGIONS = frozenset("""
AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BW BY BZ CA
CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT PW PY QA RE RO
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA TC TD TG TH TJ TK TL TM TN TO TR TT
TV TW TZ UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
""".split())

# Every binding id in app/ and widgets/: what [keys] may remap (tests/test_config.py keeps the two equal).
BINDING_IDS = frozenset("""
backoffice_health backoffice_logout backoffice_open backoffice_operators backoffice_orders
backoffice_products backoffice_reload backoffice_sales backoffice_search backoffice_stock backoffice_store
backoffice_till backoffice_tills backoffice_z basket_discount cart_down cart_up choice_cancel confirm_cancel
confirm_no confirm_yes count_cancel count_done discount health health_close health_filter_day
health_filter_event health_filter_state health_open health_pause health_refresh health_retry
health_retry_all health_skip health_test inventory_close job_close job_page_down job_page_up job_retry
job_skip login_clear member menu menu_close note_1 note_2 note_3 note_4 note_5 operator_form_cancel
operator_form_save operators_close operators_edit operators_edit_enter operators_lock operators_new
operators_pin order_form_cancel order_form_save orders orders_cancel orders_close orders_delivered
orders_down orders_extend_down orders_extend_up orders_first orders_last orders_new orders_open
orders_page_down orders_page_up orders_picking orders_print orders_ready orders_search orders_search_down
orders_search_extend_down orders_search_extend_up orders_search_up orders_select_all
orders_status orders_stock orders_toggle orders_up park parked_close pay pay_back pin_form_cancel price
product_barcode_add product_barcode_remove product_form_cancel product_form_save products_close
products_down products_open products_pgdn products_pgup products_up prompt_cancel quantity quit
receipt_close receipt_reprint refund refund_all refund_cancel refund_card refund_cash refund_less
refund_more report_close report_print reprint search search_close search_down search_pgdn search_pgup
search_up tender_card tender_cash tender_other untender void
""".split())

_MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
_NAMED_KEYS = frozenset([f"f{n}" for n in range(1, 25)] + """escape enter tab space backspace delete insert
home end pageup pagedown up down left right""".split())
# Textual's names for characters that are not letters or digits (its _character_to_key).
_KEY_NAME_REPLACEMENTS = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
                          "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore"}


def _character_key(character: str) -> str:
    import unicodedata

    if character.isalnum():
        return character
    if character == "\t":
        return "tab"
    try:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return character
    return _KEY_NAME_REPLACEMENTS.get(name, name)


def _punctuation_keys() -> frozenset[str]:
    import string

    return frozenset(_character_key(c) for c in string.punctuation)


def normalise_keys(value: str) -> str:
    """`[keys]` text as Textual names keys: "F10, Ctrl+T" -> "f10,ctrl+t", "?" -> "question_mark".
    Raises ValueError for an empty entry or what is no key."""
    out = []
    for raw in value.split(","):
        part = raw.strip()
        if not part:
            raise ValueError(f"{value!r} has an empty key (keys are separated by commas: \"f10,ctrl+t\")")
        *mods, key = part.split("+") if part != "+" else ["+"]
        mods = [m.strip().lower() for m in mods]
        key = key.strip()
        if len(key) == 1:
            key = _character_key(key.lower() if mods else key)  # Ctrl+T arrives as ctrl+t; "A" alone is A
        else:
            key = _KEY_NAME_REPLACEMENTS.get(key.lower(), key.lower())
            if key not in _NAMED_KEYS and key not in _punctuation_keys():
                key = ""
        if not key or any(m not in _MODIFIERS for m in mods) or len(set(mods)) != len(mods):
            raise ValueError(f"{part!r} is not a key (a key name such as f10, escape or ctrl+t, or a character; "
                             f"modifiers {', '.join(_MODIFIERS)})")
        out.append("+".join([*mods, key]))
    return ",".join(out)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSettings(Section):
    id: str = "BKK01"
    """Place of business (branch) code; it starts every receipt number."""
    name: str = "Demo Store"
    currency: str = Field("THB", pattern=r"^[A-Z]{3}$")
    locale: str = "th_TH"
    timezone: str = "Asia/Bangkok"
    prices_include_vat: bool = True
    cash_rounding: Decimal = Field(Decimal("0.25"), validate_default=True)
    """Smallest cash unit; "0.01" for none."""
    terminal: str = Field("T1", pattern=r"^[A-Za-z0-9]{1,8}$")
    day_cutoff: str = Field("00:00", pattern=f"^{HHMM}$")
    """Business day starts here (store time); "04:00" puts a 02:00 sale on the day before."""

    @property
    def cutoff(self) -> time:
        hour, minute = self.day_cutoff.split(":")
        return time(int(hour), int(minute))

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"{value!r} is not an ISO 4217 currency code such as THB, EUR or USD")
        return value

    @field_validator("locale")
    @classmethod
    def _language_and_country(cls, value: str) -> str:
        import re

        found = re.fullmatch(r"([A-Za-z]{2,3})[_-]([A-Za-z]{2})(?:\.[\w-]+)?(?:@\w+)?", value.strip())
        if found is None:
            raise ValueError("must be language_COUNTRY such as th_TH or en_GB (the country reads phone numbers)")
        country = found.group(2).upper()
        if country not in REGIONS:
            raise ValueError(f"{country} is not a known country code (ISO 3166, such as TH or GB)")
        return f"{found.group(1).lower()}_{country}"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("cash_rounding")
    @classmethod
    def _positive(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        if value <= 0 or value > 100:
            raise ValueError("must be a positive amount such as 0.25 or 0.01")
        currency = info.data.get("currency")
        if currency:
            from data.money import quantum

            unit = quantum(currency)
            if value % unit:
                raise ValueError(f"must be a whole multiple of {unit}, the smallest unit of {currency}")
        return value

    @field_validator("id")
    @classmethod
    def _store_code(cls, value: str) -> str:
        if not value or not value.replace("_", "").isalnum():
            raise ValueError("letters and digits only")
        return value


def _database_url(value: str | None) -> str | None:
    """SQLite or PostgreSQL in SQLAlchemy's form (the shape only: no driver is imported here)."""
    import re

    if value is None:
        return None
    found = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)(\+[A-Za-z0-9_]+)?://.*", value.strip(), re.S)
    if found is None:
        raise ValueError("must be a database URL such as sqlite:///till.db or postgresql+psycopg://till@host/till")
    if found.group(1).lower() not in ("sqlite", "postgresql"):
        raise ValueError(f"{found.group(1)} is not a database Till works with (SQLite or PostgreSQL)")
    return value.strip()


class DatabaseSettings(Section):
    url: str = "sqlite:///till.db"
    """This till's own database; a relative SQLite path is inside the home folder."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _database_url(value)


class SiteSettings(Section):
    url: str | None = None
    """The shared site database of all stores (PostgreSQL): customer orders, stock and a copy of every
    store's sales. Sales reach it through the outbox (an implicit connector named "site")."""
    pull_minutes: float = Field(5, gt=0)
    """How often the till pulls product, price, barcode and operator changes from the site."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _database_url(value)


class ScannerSettings(Section):
    port: str | None = None
    baudrate: int = 9600
    suffix: str = "\r"
    prefix: str = ""


class PrinterSettings(Section):
    kind: Literal["serial", "network", "usb", "file", "none"] = "none"
    port: str | None = None
    host: str | None = None
    vendor: int | str | None = None
    product: int | str | None = None
    baudrate: int = 9600
    profile: str = "default"
    width: int = Field(42, ge=24, le=80)
    open_drawer_on_cash: bool = True
    cjk: Literal["raster", "gb18030"] = "raster"
    """Chinese: drawn as an image (any printer), or sent in the printer's GB18030 Kanji mode."""
    font: str | None = None
    """TrueType font for lines no code page can print; default: a system font that has the glyphs."""
    retry_seconds: float = Field(30, gt=0)
    """How often jobs left in the spool (printer off, out of paper) are tried again."""

    @field_validator("port", mode="before")
    @classmethod
    def _tcp_port(cls, value: Any) -> Any:
        """A network printer's `port = 9100` is a TOML integer; the other kinds' ports are paths."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class PaymentSettings(Section):
    other_tenders: list[str] = Field(default_factory=lambda: ["PromptPay", "Voucher"])
    """Tenders besides cash and card; F3 in the payment dialog cycles through them."""
    quick_cash: list[Decimal] = Field(default_factory=lambda: [Decimal(n) for n in (20, 50, 100, 500, 1000)])
    """Bank notes offered as one-key tenders."""


class OrdersSettings(Section):
    manage_roles: list[Literal["cashier", "supervisor", "manager"]] = Field(
        default_factory=lambda: ["supervisor", "manager"])
    """Roles that may create, change and cancel customer orders ("manage customer orders"); anyone
    may pick up. Others need a manager's PIN, which is audited."""


class CashSettings(Section):
    denominations: list[Decimal] = Field(default_factory=lambda: [Decimal(d) for d in (
        "1000", "500", "100", "50", "20", "10", "5", "2", "1", "0.50", "0.25")])
    """The store currency's notes and coins, counted for the float and the day close."""
    movement_limit: Decimal = Decimal("1000")
    """Cash in or out above this needs a manager."""
    variance_tolerance: Decimal = Decimal("20")
    """A day-close count further than this from the expected cash needs a manager and a reason."""


SITE_EVENTS = ("sale.completed", "sale.refunded", "deposit.taken", "deposit.refunded", "day.closed")
EVENTS = ("sale.completed", "sale.refunded", "order.created", "order.updated", "deposit.taken", "deposit.refunded",
          "day.closed")
"""Every event the till writes to the outbox: what a connector's `events` may name."""


class ConnectorSettings(BaseModel):
    """Export connectors are read here and delivered by the exports runner. Keys beyond these are
    kept for the connector kinds that need them (PEAK credentials, …)."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    kind: Literal["peak", "webhook", "file_drop", "site"]
    live: bool = False
    url: str | None = None
    secret: str | None = None
    secret_file: Path | None = None
    events: list[str] = Field(default_factory=lambda: ["sale.completed", "sale.refunded", "order.created",
                                                       "order.updated", "day.closed"])
    retry_schedule: list[float] = Field(default_factory=lambda: [30, 120, 600, 1800, 3600, 7200, 14400, 28800,
                                                                 43200, 86400, 86400])

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        for event in value:
            if event not in EVENTS:
                raise ValueError(f"{event!r} is not an event (one of {', '.join(EVENTS)})")
        return value

    @field_validator("retry_schedule")
    @classmethod
    def _positive_delays(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise ValueError("a delay cannot be negative (seconds before each retry)")
        return value

    def model_post_init(self, _context) -> None:
        # The site database is our own, not a third party: live unless `live = false` is written.
        if self.kind == "site" and "live" not in self.model_fields_set:
            self.live = True

    def secret_value(self) -> str | None:
        """The secret from the file (readable only by its owner), the environment or till.toml."""
        return self.secret_of("secret")

    def secret_of(self, key: str) -> str | None:
        """Any secret key (secret, connect_id, connect_key, user_token, …): the environment variable
        TILL_CONNECTORS__<NAME>__<KEY> first, then `<key>_file` (readable only by its owner), then
        the key itself in till.toml."""
        env = os.environ.get(f"TILL_CONNECTORS__{self.name.upper()}__{key.upper()}")
        if env:
            return env
        extra = self.model_extra or {}
        file = self.secret_file if key == "secret" else extra.get(f"{key}_file")
        if file is not None:
            path = Path(file).expanduser()
            where = f"{key}_file {path}"
            try:
                if path.stat().st_mode & 0o077:
                    raise ConfigError(f"{where}: must be readable only by its owner (chmod 600)")
                text = path.read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                raise ConfigError(f"{where}: does not exist") from None
            except OSError as exc:
                raise ConfigError(f"{where}: cannot read: {exc.strerror or exc}") from None
            except UnicodeDecodeError:
                raise ConfigError(f"{where}: not UTF-8 text") from None
            if not text:
                raise ConfigError(f"{where}: is empty")
            return text
        value = self.secret if key == "secret" else extra.get(key)
        return None if value is None else str(value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TILL_", env_nested_delimiter="__", extra="forbid",
                                      case_sensitive=False)

    store: StoreSettings = Field(default_factory=StoreSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    site: SiteSettings = Field(default_factory=SiteSettings)
    scanner: ScannerSettings = Field(default_factory=ScannerSettings)
    printer: PrinterSettings = Field(default_factory=PrinterSettings)
    payment: PaymentSettings = Field(default_factory=PaymentSettings)
    cash: CashSettings = Field(default_factory=CashSettings)
    orders: OrdersSettings = Field(default_factory=OrdersSettings)
    connectors: list[ConnectorSettings] = Field(default_factory=list)
    keys: dict[str, str] = Field(default_factory=dict)
    """Binding id -> keys, e.g. pay = "f10,ctrl+enter"."""

    home: Path = Field(default=Path("."), exclude=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)

    @property
    def database_url(self) -> str:
        return resolve_sqlite_url(self.database.url, self.home)

    @property
    def is_back_office(self) -> bool:
        """Started on the site database itself (`[database] url` is not this till's SQLite file): the
        manager's console over every store, not a selling till."""
        url = self.database_url
        return not url.startswith("sqlite") or (bool(self.site.url) and url == self.site.url)

    def site_connector(self) -> ConnectorSettings | None:
        """The `site` connector: one configured with kind "site", else an implicit one when `[site] url`
        is set. Live unless `live = false` is written: the site database is our own, not a third party."""
        if self.is_back_office:
            return None
        for c in self.connectors:
            if c.kind == "site":
                return c
        if self.site.url:
            return ConnectorSettings(name="site", kind="site", live=True, url=self.site.url,
                                     events=list(SITE_EVENTS), retry_schedule=[10, 30, 60, 120, 300, 600])
        return None

    def all_connectors(self) -> list[ConnectorSettings]:
        """The configured connectors plus the implicit site connector."""
        site = self.site_connector()
        if site is not None and site not in self.connectors:
            return [*self.connectors, site]
        return list(self.connectors)

    def site_url_for(self, connector: ConnectorSettings) -> str | None:
        return connector.url or self.site.url

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_NAME


def resolve_sqlite_url(url: str, home: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        return prefix + str((home / url[len(prefix):]).resolve())
    return url


def default_home() -> Path:
    env = os.environ.get("TILL_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs  # only when neither --home nor TILL_HOME says where

    return platformdirs.user_data_path("till", appauthor=False)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))  # -sig: Notepad's byte order mark
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(p) for p in error["loc"])
    msg = error["msg"]
    if error["type"] == "extra_forbidden":
        msg = "unknown key"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = error.get("input")
    if isinstance(value, Decimal):
        value = str(value)
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict | list) and error["type"] != "missing" else ""
    return f"{key}: {msg}{shown}"


def _source_of(error: dict[str, Any], path: Path, connector_names: list[str] = ()) -> str:
    """The environment variable that set the bad value, if one did; else the file."""
    loc = error["loc"]
    if len(loc) > 2 and loc[0] == "connectors" and isinstance(loc[1], int) and loc[1] < len(connector_names):
        name = f"TILL_CONNECTORS__{connector_names[loc[1]]}__{loc[2]}".upper()
        if any(key.upper() == name for key in os.environ):
            return f"environment variable {name}"
    parts = [str(p) for p in loc if not isinstance(p, int)]
    for n in range(len(parts), 0, -1):
        name = "TILL_" + "__".join(parts[:n]).upper()
        if any(key.upper() == name for key in os.environ):
            return f"environment variable {name}"
    return str(path)


def _unparsed_env(exc: Exception) -> str:
    """One line for pydantic-settings' "error parsing value for field X": the variable and the key."""
    import json
    import re

    found = re.search(r'field "([^"]+)"', str(exc))
    prefix = f"TILL_{found.group(1).upper() if found else ''}"
    for name, value in sorted(os.environ.items()):
        if not name.upper().startswith(prefix):
            continue
        try:
            json.loads(value)
        except ValueError:
            key = name[len("TILL_"):].lower().replace("__", ".")
            return (f"environment variable {name.upper()}: {key}: not valid JSON (write a list or table as JSON, "
                    f'e.g. ["20", "50"]; got {value!r})')
    return f"environment variable {prefix}…: {exc}"


class _WithoutConnectorSecrets(PydanticBaseSettingsSource):
    """TILL_CONNECTORS__<NAME>__<KEY> variables carry connector secrets, read by
    ConnectorSettings.secret_of; they are not a replacement for the [[connectors]] list."""

    def __init__(self, inner: PydanticBaseSettingsSource) -> None:
        super().__init__(inner.settings_cls)
        self.inner = inner

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return self.inner.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        data = self.inner()
        if isinstance(data.get("connectors"), dict):
            data = {k: v for k, v in data.items() if k != "connectors"}
        return data


def _connector_env(data: dict[str, Any]) -> list[str]:
    """TILL_CONNECTORS__<NAME>__<KEY> over the key of the [[connectors]] entry of that name (JSON for a
    list, as every list variable); the names of the entries, for naming a bad variable."""
    import json

    connectors = data.get("connectors")
    if not isinstance(connectors, list):
        return []
    names = [str(c.get("name", "")) if isinstance(c, dict) else "" for c in connectors]
    for variable, value in os.environ.items():
        parts = variable.upper().split("__")
        if len(parts) != 3 or parts[0] != "TILL_CONNECTORS" or not parts[2] or parts[2] == "NAME":
            continue
        for entry, name in zip(connectors, names):
            if isinstance(entry, dict) and name and name.upper() == parts[1]:
                if value.lstrip().startswith(("[", "{")):
                    try:
                        value = json.loads(value)
                    except ValueError:
                        pass
                entry[parts[2].lower()] = value
    return names


def _secret_files_in_home(data: dict[str, Any], home: Path) -> None:
    """A relative `<key>_file` of a connector is in the home folder, as every relative path in till.toml."""
    for entry in data.get("connectors") or ():
        if not isinstance(entry, dict):
            continue
        for key, value in entry.items():
            if key.endswith("_file") and isinstance(value, str) and value.strip():
                path = Path(value).expanduser()
                if not path.is_absolute():
                    entry[key] = str(home / path)


def load_settings(home: Path | None = None) -> Settings:
    home = (home or default_home()).expanduser()
    path = home / CONFIG_NAME
    data = _read_toml(path)
    connector_names = _connector_env(data)
    _secret_files_in_home(data, home)

    class _FileSource(PydanticBaseSettingsSource):
        def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
            return data.get(field_name), field_name, False

        def __call__(self) -> dict[str, Any]:
            return data

    class _Loaded(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                       file_secret_settings):
            # Environment beats the file, as the contract says.
            return (init_settings, _WithoutConnectorSecrets(env_settings), _FileSource(settings_cls))

    try:
        settings = _Loaded()
    except SettingsError as exc:  # an environment variable for a list or table that is not JSON
        raise ConfigError(_unparsed_env(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{_source_of(first, path, connector_names)}: {_describe(first)}{extra}") from None
    problem = _problem_of(settings)
    if problem is not None:
        loc, message = problem
        raise ConfigError(f"{_source_of({'loc': loc}, path, connector_names)}: {'.'.join(map(str, loc))}: {message}")
    settings.home = home
    return settings


PEAK_CREDENTIALS = ("connect_id", "connect_key", "user_token")
_TENDER_MAPS = ("tender_map", "payment_methods", "tenders")  # app.connectors.probe.TENDER_MAP_KEYS
# Keys beyond ConnectorSettings' own that a kind reads (PEAK reads many, and is not checked here).
_KNOWN_EXTRA = {"webhook": frozenset(_TENDER_MAPS), "file_drop": frozenset(("folder", *_TENDER_MAPS)),
                "site": frozenset(_TENDER_MAPS)}


def _problem_of(settings: Settings) -> tuple[tuple, str] | None:
    """What the types alone let through: a connector name used twice (they share jobs and environment
    variables), a live PEAK connector without its credentials, PEAK's date keys, and [keys] naming a
    binding that does not exist or a key that is none. Normalises [keys] in place."""
    import difflib
    import re

    seen: dict[str, int] = {}
    for n, connector in enumerate(settings.connectors):
        first = seen.setdefault(connector.name.lower(), n)
        if first != n:
            return ("connectors", n, "name"), f"{connector.name!r} is already the name of connectors.{first}"
        if connector.name.lower() == "site" and connector.kind != "site" and settings.site.url \
                and not any(c.kind == "site" for c in settings.connectors):
            return ("connectors", n, "name"), ("'site' is the name of the connector [site] url makes; "
                                               "give this one another name")
        extra = connector.model_extra or {}
        allowed = _KNOWN_EXTRA.get(connector.kind)
        if allowed is not None:
            for key in extra:
                if key not in allowed:
                    return ("connectors", n, key), f"unknown key for a {connector.kind} connector"
        if connector.kind != "peak":
            continue
        if str(extra.get("date", "payment")) not in ("payment", "sale"):
            return ("connectors", n, "date"), f"must be payment or sale (got {extra['date']!r})"
        for key in ("day_cutoff", "daily_after"):
            if key in extra and not re.fullmatch(HHMM, str(extra[key])):
                return ("connectors", n, key), f"must be HH:MM such as 04:00 (got {extra[key]!r})"
        if connector.live:
            env = f"TILL_CONNECTORS__{connector.name.upper()}__"
            for key in PEAK_CREDENTIALS:
                if not (extra.get(key) or extra.get(f"{key}_file") or os.environ.get(env + key.upper())):
                    return ("connectors", n, key), (f"missing for a live PEAK connector (give {key}, {key}_file "
                                                    f"or {env}{key.upper()}, or set live = false)")
    for binding, keys in list(settings.keys.items()):
        if binding not in BINDING_IDS:
            close = difflib.get_close_matches(binding, sorted(BINDING_IDS), n=1)
            hint = f"; did you mean {close[0]}?" if close else " (the ids are in README: Keys)"
            return ("keys", binding), f"no binding has this id{hint}"
        try:
            settings.keys[binding] = normalise_keys(keys)
        except ValueError as exc:
            return ("keys", binding), str(exc)
    return None


DEMO_CONFIG = """\
# Till configuration for the demo store. See README.md for every key.
[store]
id = "BKK01"
name = "Demo Store"
currency = "THB"
locale = "th_TH"
timezone = "Asia/Bangkok"
prices_include_vat = true
cash_rounding = "0.25"
terminal = "T1"

[database]
url = "sqlite:///till.db"

[printer]
kind = "file"             # receipts are appended to receipts.prn in the home folder
port = "receipts.prn"
profile = "default"
width = 42
open_drawer_on_cash = true
"""
