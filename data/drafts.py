"""The open cart is saved on every change and parked carts are kept, both per terminal, so a crash,
a power cut or a restart never loses what the cashier rang up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam
from sqlalchemy.engine import Engine
from sqlmodel import delete, select

from data.cart import Cart
from data.db import dialect_insert, read_session, write_session, writer
from data.models import CartDraft
from data.types import utcnow


@dataclass(frozen=True)
class DraftInfo:
    uid: str
    label: str
    status: str
    updated_at: datetime
    line_count: int
    item_count: Decimal
    cart: Cart


def _info(d: CartDraft) -> DraftInfo:
    cart = Cart.from_dict(d.data)
    return DraftInfo(d.uid, d.label, d.status, d.updated_at, len(cart.lines), cart.item_count(), cart)


_DRAFTS = CartDraft.__table__
_DELETE_OPEN = delete(_DRAFTS).where(_DRAFTS.c.uid == bindparam("b_uid"), _DRAFTS.c.status == "open")
_UPSERT: dict[str, object] = {}


def _upsert(dialect: str):
    """Built once per dialect: constructing ON CONFLICT statements costs more than running them."""
    if dialect not in _UPSERT:
        stmt = dialect_insert(dialect)(_DRAFTS)
        _UPSERT[dialect] = stmt.on_conflict_do_update(
            index_elements=[_DRAFTS.c.uid],
            set_={"status": "open", "data": stmt.excluded.data, "operator_id": stmt.excluded.operator_id,
                  "updated_at": stmt.excluded.updated_at})
    return _UPSERT[dialect]


def save_open(engine: Engine, terminal_id: int, operator_id: int | None, cart: Cart) -> None:
    """Upsert this cart as the terminal's open draft; an empty cart leaves no draft behind.
    One statement in one short write transaction: it runs on every scan."""
    with writer(engine).begin() as conn:
        if cart.is_empty:
            conn.execute(_DELETE_OPEN, {"b_uid": cart.uid})
            return
        now = utcnow()
        conn.execute(_upsert(conn.dialect.name), {
            "uid": cart.uid, "terminal_id": terminal_id, "operator_id": operator_id, "status": "open", "label": "",
            "data": cart.to_dict(), "created_at": now, "updated_at": now})


def open_draft(engine: Engine, terminal_id: int) -> DraftInfo | None:
    """The cart left open on this terminal by a crash or a closed session, if it has lines."""
    with read_session(engine) as s:
        d = s.exec(select(CartDraft).where(CartDraft.terminal_id == terminal_id, CartDraft.status == "open")
                   .order_by(CartDraft.updated_at.desc())).first()
        return _info(d) if d else None


def park(engine: Engine, terminal_id: int, operator_id: int | None, cart: Cart, label: str) -> None:
    with write_session(engine) as s:
        draft = s.exec(select(CartDraft).where(CartDraft.uid == cart.uid)).first()
        if draft is None:
            draft = CartDraft(uid=cart.uid, terminal_id=terminal_id)
            s.add(draft)
        draft.status, draft.label, draft.data = "parked", label, cart.to_dict()
        draft.operator_id, draft.updated_at = operator_id, utcnow()


def parked(engine: Engine, terminal_id: int) -> list[DraftInfo]:
    with read_session(engine) as s:
        rows = s.exec(select(CartDraft).where(CartDraft.terminal_id == terminal_id, CartDraft.status == "parked")
                      .order_by(CartDraft.updated_at))
        return [_info(d) for d in rows]


def recall(engine: Engine, uid: str, operator_id: int | None) -> Cart:
    """Turn a parked cart back into the open one, in one transaction."""
    with write_session(engine) as s:
        draft = s.exec(select(CartDraft).where(CartDraft.uid == uid, CartDraft.status == "parked")).first()
        if draft is None:
            raise LookupError("that parked sale was already recalled")
        draft.status, draft.operator_id, draft.updated_at = "open", operator_id, utcnow()
        return Cart.from_dict(draft.data)


def discard(engine: Engine, uid: str) -> None:
    with write_session(engine) as s:
        s.exec(delete(CartDraft).where(CartDraft.uid == uid))
