"""Operators, roles, login with lockout, and manager authorisation for overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import select

from data import audit
from data.db import read_session, write_session
from data.errors import LoginError
from data.models import Operator
from data.pins import hash_pin, verify_pin
from data.types import utcnow

ROLES = ("cashier", "supervisor", "manager")
MAX_FAILED = 5
LOCK_MINUTES = 5
DEFAULT_DISCOUNT_LIMIT = {"cashier": Decimal("10"), "supervisor": Decimal("25"), "manager": Decimal("100")}
MANAGE_ORDERS = "manage_orders"
PERMISSIONS = {MANAGE_ORDERS: "Manage customer orders"}
"""Grants beyond the role (Operator.permissions), with what the manager screens call them."""


@dataclass(frozen=True)
class OperatorInfo:
    """What screens may hold on to: no PIN hash, no live ORM row."""

    id: int
    code: str
    name: str
    role: str
    discount_limit_pct: Decimal
    permissions: tuple[str, ...] = ()

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    def has(self, permission: str) -> bool:
        return permission in self.permissions


def _info(op: Operator) -> OperatorInfo:
    return OperatorInfo(op.id, op.code, op.name, op.role, op.discount_limit_pct, tuple(op.permissions or ()))


def create_operator(engine: Engine, code: str, name: str, pin: str, role: str = "cashier",
                    discount_limit_pct: Decimal | None = None) -> OperatorInfo:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValueError("a PIN is 4 to 12 digits")
    limit = DEFAULT_DISCOUNT_LIMIT[role] if discount_limit_pct is None else discount_limit_pct
    with write_session(engine) as s:
        op = Operator(code=code, name=name, role=role, pin_hash=hash_pin(pin), discount_limit_pct=limit)
        s.add(op)
        s.flush()
        return _info(op)


def authenticate(engine: Engine, code: str, pin: str, *, terminal: str | None = None,
                 store: str | None = None, purpose: str = "login") -> OperatorInfo:
    """Check a PIN. Five wrong PINs in a row lock the operator for five minutes; all of it audited."""
    code = code.strip()
    # The failure is raised after the transaction commits: the attempt count and audit row must stick.
    failure: str | None = None
    with write_session(engine) as s:
        op = s.exec(select(Operator).where(Operator.code == code)).first()
        now = utcnow()
        if op is None:
            audit.record(s, f"{purpose}.failed", operator=code, terminal=terminal, store=store,
                         reason="unknown operator")
            failure = "unknown operator or wrong PIN"
        elif not op.active:  # locked by a manager (data.operator_admin), until a manager unlocks it
            audit.record(s, f"{purpose}.refused", operator=code, terminal=terminal, store=store, reason="inactive")
            failure = f"operator {code} is locked by a manager"
        elif op.locked_until is not None and op.locked_until > now:
            minutes = max(1, int((op.locked_until - now).total_seconds() // 60) + 1)
            audit.record(s, f"{purpose}.refused", operator=code, terminal=terminal, store=store, reason="locked")
            failure = f"operator {code} is locked for {minutes} more minute(s) after {MAX_FAILED} wrong PINs"
        elif not verify_pin(pin, op.pin_hash):
            op.failed_attempts += 1
            left = MAX_FAILED - op.failed_attempts
            if left <= 0:
                op.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                op.failed_attempts = 0
                audit.record(s, "operator.locked", operator=code, terminal=terminal, store=store,
                             minutes=LOCK_MINUTES)
                failure = f"wrong PIN: operator {code} is locked for {LOCK_MINUTES} minutes"
            else:
                audit.record(s, f"{purpose}.failed", operator=code, terminal=terminal, store=store,
                             reason="wrong PIN", attempts_left=left)
                failure = f"wrong PIN ({left} attempt{'s' if left != 1 else ''} left)"
        else:
            op.failed_attempts = 0
            op.locked_until = None
            audit.record(s, purpose, operator=code, terminal=terminal, store=store, role=op.role)
            info = _info(op)
    if failure is not None:
        raise LoginError(failure)
    return info


def authorise_manager(engine: Engine, pin: str, *, action: str, terminal: str | None = None,
                      store: str | None = None) -> OperatorInfo:
    """A manager PIN typed on the cashier's till: any active manager whose PIN matches."""
    with write_session(engine) as s:
        managers = list(s.exec(select(Operator).where(Operator.role == "manager", Operator.active == True)))  # noqa: E712
        now = utcnow()
        for op in managers:
            if op.locked_until is not None and op.locked_until > now:
                continue
            if verify_pin(pin, op.pin_hash):
                return _info(op)
        audit.record(s, "override.refused", terminal=terminal, store=store, for_action=action,
                     reason="wrong manager PIN")
    raise LoginError("not a manager PIN")  # raised after the commit, so the refusal stays audited


def by_code(engine: Engine, code: str) -> OperatorInfo | None:
    with read_session(engine) as s:
        op = s.exec(select(Operator).where(Operator.code == code)).first()
        return _info(op) if op else None
