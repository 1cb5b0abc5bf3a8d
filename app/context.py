"""What every screen needs, built once by make_app and handed down (no globals).

The database side (engine, place) may arrive a moment after the login screen is painted: opening it
imports SQLAlchemy, which is most of start-up. Everything the login screen shows comes from the
settings; `wait_ready` is for the first thing that needs the database (the PIN check).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.config import Settings
from app.devices.printer import ReceiptPrinter
from data.phones import region_of

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from data.places import Place


class DatabaseUnavailable(RuntimeError):
    pass


class SiteOffline(RuntimeError):
    """The shared site database (customer orders of every store) cannot be reached; selling goes on."""


@dataclass
class TillContext:
    settings: Settings
    printer: ReceiptPrinter
    engine: Engine | None = None
    place: Place | None = None
    error: str | None = None
    _ready: threading.Event = field(default_factory=threading.Event, repr=False)
    _site: Engine | None = field(default=None, repr=False)
    _site_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_database(self, engine: Engine, place: Place) -> None:
        self.engine, self.place = engine, place
        self._ready.set()

    def set_failed(self, error: str) -> None:
        self.error = error
        self._ready.set()

    @property
    def is_ready(self) -> bool:
        return self._ready.is_set() and self.error is None

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Blocking (call from a worker thread): the database is open, or DatabaseUnavailable."""
        if not self._ready.wait(timeout):
            raise DatabaseUnavailable("the database is still opening; try again")
        if self.error is not None:
            raise DatabaseUnavailable(self.error)

    @property
    def has_site(self) -> bool:
        return bool(self.settings.site.url)

    def orders_db(self) -> Engine:
        """Blocking (workers only): where customer orders live — the site database when `[site] url`
        is set (opened, and migrated, on first use), else this till's own. SiteOffline if unreachable."""
        self.wait_ready()
        if not self.has_site or self.settings.is_back_office:
            return self.engine
        with self._site_lock:
            if self._site is None:
                from data.db import DatabaseError, make_engine, upgrade

                try:
                    engine = make_engine(self.settings.site.url)
                    upgrade(engine)
                except DatabaseError as exc:
                    raise SiteOffline(f"site database offline: {offline_reason(exc)}") from None
                except Exception as exc:  # noqa: BLE001 - driver errors vary; the cashier sees one line
                    raise SiteOffline(f"site database offline: {offline_reason(exc)}") from None
                self._site = engine
            return self._site

    def on_orders(self, fn, *args, **kw):
        """Run an orders function on the orders database; a lost connection becomes SiteOffline."""
        engine = self.orders_db()
        if engine is self.engine:
            return fn(engine, *args, **kw)
        from sqlalchemy.exc import DBAPIError

        from app.connectors.site import is_connectivity

        try:
            return fn(engine, *args, **kw)
        except DBAPIError as exc:
            if is_connectivity(exc):
                raise SiteOffline(f"site database offline: {offline_reason(exc)}") from None
            raise

    @property
    def currency(self) -> str:
        return self.settings.store.currency

    @property
    def phone_region(self) -> str:
        return region_of(self.settings.store.locale)

    def audit_where(self) -> dict[str, str]:
        return {"store": self.settings.store.id, "terminal": self.settings.store.terminal}


def offline_reason(exc: BaseException) -> str:
    """One line; a wrapper's cause when it has no driver error of its own (DatabaseError from upgrade)."""
    from data.text import one_line

    return one_line(exc if getattr(exc, "orig", None) is not None or exc.__cause__ is None else exc.__cause__)


def make_printer(settings: Settings) -> ReceiptPrinter:
    p = settings.printer
    return ReceiptPrinter(p.kind, port=p.port, host=p.host, vendor=p.vendor, product=p.product,
                          profile=p.profile, width=p.width, home=settings.home, baudrate=p.baudrate,
                          cjk=p.cjk, font=p.font)
