"""What every screen needs, built once by make_app and handed down (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from app.config import Settings
from app.devices.printer import ReceiptPrinter
from data.phones import region_of
from data.places import Place


@dataclass
class TillContext:
    settings: Settings
    engine: Engine
    place: Place
    printer: ReceiptPrinter

    @property
    def currency(self) -> str:
        return self.place.currency

    @property
    def phone_region(self) -> str:
        return region_of(self.place.locale)

    def audit_where(self) -> dict[str, str]:
        return {"store": self.place.store_id, "terminal": self.place.terminal_code}


def make_printer(settings: Settings) -> ReceiptPrinter:
    p = settings.printer
    return ReceiptPrinter(p.kind, port=p.port, host=p.host, vendor=p.vendor, product=p.product,
                          profile=p.profile, width=p.width, home=settings.home, baudrate=p.baudrate,
                          cjk=p.cjk, font=p.font)
