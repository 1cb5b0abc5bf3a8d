"""The cash drawer: shifts, the counted float, cash in and out, safe drops."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from data import audit
from data.db import write_session
from data.models import CashMovement, Shift
from data.money import ZERO
from data.operators import OperatorInfo
from data.places import Place
from data.types import utcnow

KINDS = {"float": 1, "cash_in": 1, "cash_out": -1, "safe_drop": -1}


class CashError(ValueError):
    pass


def count_total(counts: dict[str, int], denominations: list[Decimal]) -> Decimal:
    """Σ denomination × count; counts are keyed by the denomination as written in till.toml."""
    known = {str(d): d for d in denominations}
    total = ZERO
    for key, n in counts.items():
        if key not in known:
            raise CashError(f"{key} is not a note or coin of this currency")
        if int(n) < 0:
            raise CashError("a count cannot be negative")
        total += known[key] * int(n)
    return total


def open_shift(session: Session, place: Place, operator: OperatorInfo) -> Shift:
    shift = session.exec(select(Shift).where(Shift.terminal_id == place.terminal_id, Shift.status == "open")).first()
    if shift is None:
        shift = Shift(terminal_id=place.terminal_id, operator_id=operator.id, opened_at=utcnow())
        session.add(shift)
        session.flush()
    return shift


def record_movement(engine: Engine, place: Place, operator: OperatorInfo, kind: str, amount: Decimal, *,
                    reason: str = "", counts: dict[str, int] | None = None, approver: OperatorInfo | None = None,
                    limit: Decimal | None = None, at: datetime | None = None) -> Decimal:
    """Cash in or out of the drawer. `amount` is what changed hands (positive); the sign follows the
    kind. Above `limit`, cash in and out need an approving manager; every movement is audited."""
    if kind not in KINDS:
        raise CashError(f"unknown cash movement {kind!r}")
    if amount <= 0:
        raise CashError("the amount must be more than zero")
    if kind in ("cash_in", "cash_out") and not reason.strip():
        raise CashError("cash in and out need a reason")
    if kind in ("cash_in", "cash_out") and limit is not None and amount > limit and approver is None:
        raise CashError(f"more than {limit} needs a manager")
    signed = amount * KINDS[kind]
    with write_session(engine) as s:
        shift = open_shift(s, place, operator)
        s.add(CashMovement(terminal_id=place.terminal_id, shift_id=shift.id, kind=kind, amount=signed,
                           counts=counts or {}, reason=reason.strip(), operator_id=operator.id,
                           approved_by_id=approver.id if approver else None, at=at or utcnow()))
        audit.record(s, f"cash.{kind}", operator=operator.code, store=place.store_id, terminal=place.terminal_code,
                     amount=str(amount), reason=reason.strip(), approved_by=approver.code if approver else None)
    return signed
