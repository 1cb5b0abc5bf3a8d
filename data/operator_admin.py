"""Operators and roles, for managers: list, create, change (name, role, discount limit, permissions),
reset a PIN, lock and unlock. Every change is one transaction with its audit row (the acting manager's
code) and bumps `Operator.updated_at`, which is what tills pull from the site database by.

Two kinds of lock: five wrong PINs lock an operator for a few minutes (`locked_until`, set by
data.operators.authenticate); a manager's lock is `active = False` and lasts until a manager unlocks.
Unlocking clears both, and the failed-attempt count. Resetting a PIN clears the few-minutes lock and
the count, not a manager's lock: a PIN reset never lets a locked-out leaver back in by the way.

Guards: the last active manager can be neither demoted nor locked (nobody could manage the till any
more), a manager cannot lock or demote themselves, and only an active manager may change anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from data import audit
from data.db import read_session, write_session
from data.models import Operator
from data.operators import DEFAULT_DISCOUNT_LIMIT, PERMISSIONS, ROLES
from data.pins import hash_pin
from data.text import printable
from data.types import utcnow

PIN_MIN, PIN_MAX = 4, 8
CODE_PATTERN = re.compile(r"^[A-Za-z0-9]{1,16}$")  # what the login screen's operator field accepts
NAME_MAX = 60


class AdminError(ValueError):
    """A change refused: bad input or a guard. The message is shown to the manager as it is."""


@dataclass(frozen=True)
class OperatorRow:
    """An operator as the manager screens show it: no PIN hash, no live ORM row."""

    id: int
    code: str
    name: str
    role: str
    active: bool
    discount_limit_pct: Decimal
    permissions: tuple[str, ...]
    failed_attempts: int
    locked_until: datetime | None
    updated_at: datetime

    @property
    def locked(self) -> bool:
        """Locked by a manager (until unlocked)."""
        return not self.active

    def locked_out(self, now: datetime | None = None) -> bool:
        """Locked for a few minutes after too many wrong PINs."""
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def status(self, now: datetime | None = None) -> str:
        if self.locked:
            return "locked"
        if self.locked_out(now):
            minutes = max(1, int((self.locked_until - (now or utcnow())).total_seconds() // 60) + 1)
            return f"PIN lock {minutes} min"
        return "active"


def _row(op: Operator) -> OperatorRow:
    return OperatorRow(op.id, op.code, op.name, op.role, op.active, op.discount_limit_pct,
                       tuple(op.permissions or ()), op.failed_attempts, op.locked_until, op.updated_at)


# -- checking what is typed ---------------------------------------------------------------------------

def check_code(code: str) -> str:
    code = code.strip()
    if not CODE_PATTERN.match(code):
        raise AdminError("an operator code is 1 to 16 letters or digits")
    return code


def check_name(name: str) -> str:
    name = " ".join(printable(name).split())
    if not name:
        raise AdminError("type the operator's name")
    if len(name) > NAME_MAX:
        raise AdminError(f"a name has at most {NAME_MAX} characters")
    return name


def check_pin(pin: str) -> str:
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise AdminError(f"a PIN is {PIN_MIN} to {PIN_MAX} digits")
    return pin


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AdminError(f"role must be one of {', '.join(ROLES)}")
    return role


def parse_role(text: str) -> str:
    """'m', 'man' or 'manager' is the manager role; the first letter is enough."""
    t = text.strip().lower()
    for role in ROLES:
        if t and role.startswith(t):
            return role
    raise AdminError("role: type c (cashier), s (supervisor) or m (manager)")


def parse_discount_limit(text: str | Decimal) -> Decimal:
    """A percentage from 0 to 100, at most 2 decimal places ('15', '12.5', '15%')."""
    raw = text if isinstance(text, Decimal) else text.strip().rstrip("%").strip()
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(raw)
    except InvalidOperation:
        raise AdminError(f"discount limit {printable(text)!r} is not a number (0 to 100 %)") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise AdminError("a discount limit is from 0 to 100 %")
    if value != value.quantize(Decimal("0.01")):
        raise AdminError("a discount limit has at most 2 decimal places")
    return value


def check_permissions(permissions: Iterable[str]) -> list[str]:
    wanted = sorted(set(permissions))
    unknown = [p for p in wanted if p not in PERMISSIONS]
    if unknown:
        raise AdminError(f"unknown permission {', '.join(unknown)}; known: {', '.join(PERMISSIONS)}")
    return wanted


# -- reading ------------------------------------------------------------------------------------------

def list_operators(engine: Engine) -> list[OperatorRow]:
    """Every operator, locked ones included, by code."""
    with read_session(engine) as s:
        return [_row(op) for op in s.exec(select(Operator).order_by(Operator.code))]


def get_operator(engine: Engine, code: str) -> OperatorRow | None:
    with read_session(engine) as s:
        op = s.exec(select(Operator).where(Operator.code == code)).first()
        return _row(op) if op else None


# -- changing -----------------------------------------------------------------------------------------

def _actor(s: Session, by: str) -> Operator:
    actor = s.exec(select(Operator).where(Operator.code == by)).first()
    if actor is None or not actor.active or actor.role != "manager":
        raise AdminError("only an active manager may change operators")
    return actor


def _target(s: Session, code: str) -> Operator:
    op = s.exec(select(Operator).where(Operator.code == code).with_for_update()).first()
    if op is None:
        raise AdminError(f"no operator {printable(code)}")
    return op


def _active_managers(s: Session) -> int:
    # Row locks on PostgreSQL, so two managers demoting each other at once cannot both pass the count.
    ids = s.exec(select(Operator.id).where(Operator.role == "manager", Operator.active.is_(True))
                 .with_for_update()).all()
    return len(ids)


def _guard_last_manager(s: Session, op: Operator, what: str) -> None:
    if op.role == "manager" and op.active and _active_managers(s) <= 1:
        raise AdminError(f"operator {op.code} is the last active manager and cannot be {what}; "
                         "make another operator manager first")


def create_operator(engine: Engine, *, code: str, name: str, pin: str, role: str = "cashier",
                    discount_limit_pct: Decimal | None = None, permissions: Iterable[str] = (),
                    by: str, terminal: str | None = None, store: str | None = None) -> OperatorRow:
    """A new operator; the code must be free (locked operators keep theirs)."""
    code, name, pin, role = check_code(code), check_name(name), check_pin(pin), check_role(role)
    limit = DEFAULT_DISCOUNT_LIMIT[role] if discount_limit_pct is None else parse_discount_limit(discount_limit_pct)
    perms = check_permissions(permissions)
    pin_hash = hash_pin(pin)  # slow on purpose: before the write transaction, not inside it
    with write_session(engine) as s:
        _actor(s, by)
        taken = s.exec(select(func.count()).select_from(Operator).where(Operator.code == code)).one()
        if taken:
            raise AdminError(f"operator code {code} is taken; choose another")
        op = Operator(code=code, name=name, role=role, pin_hash=pin_hash, discount_limit_pct=limit,
                      permissions=perms, updated_at=utcnow())
        s.add(op)
        s.flush()
        audit.record(s, "operator.create", operator=by, subject=code, store=store, terminal=terminal,
                     name=name, role=role, discount_limit_pct=str(limit), permissions=perms)
        return _row(op)


def update_operator(engine: Engine, code: str, *, name: str | None = None, role: str | None = None,
                    discount_limit_pct: Decimal | str | None = None, permissions: Iterable[str] | None = None,
                    by: str, terminal: str | None = None, store: str | None = None) -> OperatorRow:
    """Change what is given; what did not change is left alone. Nothing changed: no audit row."""
    new_name = None if name is None else check_name(name)
    new_role = None if role is None else check_role(role)
    new_limit = None if discount_limit_pct is None else parse_discount_limit(discount_limit_pct)
    new_perms = None if permissions is None else check_permissions(permissions)
    with write_session(engine) as s:
        actor = _actor(s, by)
        op = _target(s, code)
        changes: dict[str, list] = {}
        if new_name is not None and new_name != op.name:
            changes["name"] = [op.name, new_name]
            op.name = new_name
        if new_role is not None and new_role != op.role:
            if op.role == "manager":
                if op.id == actor.id:
                    raise AdminError("you cannot take away your own manager role; another manager can")
                _guard_last_manager(s, op, "demoted")
            changes["role"] = [op.role, new_role]
            op.role = new_role
        if new_limit is not None and new_limit != op.discount_limit_pct:
            changes["discount_limit_pct"] = [str(op.discount_limit_pct), str(new_limit)]
            op.discount_limit_pct = new_limit
        if new_perms is not None and new_perms != sorted(op.permissions or ()):
            changes["permissions"] = [sorted(op.permissions or ()), new_perms]
            op.permissions = new_perms  # a new list: the JSON column sees the assignment
        if changes:
            op.updated_at = utcnow()
            audit.record(s, "operator.change", operator=by, subject=op.code, store=store, terminal=terminal,
                         changes=changes)
        s.flush()
        return _row(op)


def reset_pin(engine: Engine, code: str, pin: str, *, by: str, terminal: str | None = None,
              store: str | None = None) -> OperatorRow:
    """A new PIN; the wrong-PIN count and the few-minutes lock are cleared (a manager's lock is not)."""
    pin_hash = hash_pin(check_pin(pin))
    with write_session(engine) as s:
        _actor(s, by)
        op = _target(s, code)
        op.pin_hash = pin_hash
        op.failed_attempts = 0
        op.locked_until = None
        op.updated_at = utcnow()
        audit.record(s, "operator.pin_reset", operator=by, subject=op.code, store=store, terminal=terminal)
        s.flush()
        return _row(op)


def set_locked(engine: Engine, code: str, locked: bool, *, by: str, terminal: str | None = None,
               store: str | None = None, reason: str = "") -> OperatorRow:
    """Lock (active = False: no login, no manager approval) or unlock (clears every lock and the count)."""
    with write_session(engine) as s:
        actor = _actor(s, by)
        op = _target(s, code)
        if locked:
            if op.id == actor.id:
                raise AdminError("you cannot lock yourself; another manager can")
            _guard_last_manager(s, op, "locked")
            if not op.active:
                return _row(op)
            op.active = False
        else:
            if op.active and op.locked_until is None and op.failed_attempts == 0:
                return _row(op)
            op.active = True
            op.locked_until = None
            op.failed_attempts = 0
        op.updated_at = utcnow()
        audit.record(s, "operator.lock" if locked else "operator.unlock", operator=by, subject=op.code,
                     store=store, terminal=terminal, reason=printable(reason))
        s.flush()
        return _row(op)
