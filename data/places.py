"""Which store and terminal this till is. The [store] settings are the truth; the rows follow them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import select

from data.db import write_session
from data.models import ReceiptSeries, Store, Terminal


@dataclass(frozen=True)
class Place:
    store_id: str
    store_name: str
    terminal_id: int
    terminal_code: str
    currency: str
    locale: str
    timezone: str
    prices_include_vat: bool
    cash_rounding: Decimal


def ensure_place(engine: Engine, *, store_id: str, store_name: str, terminal: str, currency: str,
                 locale: str, timezone: str, prices_include_vat: bool, cash_rounding: Decimal) -> Place:
    with write_session(engine) as s:
        store = s.get(Store, store_id)
        if store is None:
            store = Store(id=store_id, name=store_name)
            s.add(store)
        store.name, store.currency, store.locale, store.timezone = store_name, currency, locale, timezone
        store.prices_include_vat, store.cash_rounding = prices_include_vat, cash_rounding
        term = s.exec(select(Terminal).where(Terminal.store_id == store_id, Terminal.code == terminal)).first()
        if term is None:
            term = Terminal(store_id=store_id, code=terminal)
            s.add(term)
            s.flush()
            s.add(ReceiptSeries(terminal_id=term.id, next_number=1))
        return Place(store_id, store_name, term.id, terminal, currency, locale, timezone,
                     prices_include_vat, cash_rounding)
