"""Operators and roles (data.operator_admin) on a real SQLite file: create, change, PIN reset, lock and
unlock, the last-manager and self guards, the manage_orders permission, updated_at and audit rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from data import operator_admin as admin
from data.errors import LoginError
from data.models import AuditLog, Operator
from data.operators import MANAGE_ORDERS, authenticate, authorise_manager, by_code
from data.orders import can_manage
from data.types import utcnow

WHERE = {"terminal": "T1", "store": "BKK01"}


def audit_rows(engine, action: str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def updated_at(engine, code: str):
    with Session(engine) as s:
        return s.exec(select(Operator.updated_at).where(Operator.code == code)).one()


def test_list_shows_the_demo_operators(engine):
    rows = {r.code: r for r in admin.list_operators(engine)}
    assert rows["1"].role == "cashier" and rows["9"].role == "manager"
    assert rows["1"].status() == "active" and not rows["1"].locked


def test_create_then_log_in(engine):
    before = utcnow()
    row = admin.create_operator(engine, code="5", name="  Malee   S. ", pin="2468", role="supervisor",
                                permissions=[MANAGE_ORDERS], by="9", **WHERE)
    assert row.name == "Malee S." and row.role == "supervisor" and row.discount_limit_pct == Decimal("25")
    assert row.permissions == (MANAGE_ORDERS,) and row.updated_at >= before
    op = authenticate(engine, "5", "2468")
    assert op.code == "5" and op.permissions == (MANAGE_ORDERS,)
    [created] = audit_rows(engine, "operator.create")
    assert created.operator_code == "9" and created.subject == "5" and created.terminal == "T1"
    assert created.detail["role"] == "supervisor" and not {"pin", "pin_hash"} & set(created.detail)


@pytest.mark.parametrize("kw,message", [
    ({"code": "1"}, "taken"),
    ({"code": "a b"}, "letters or digits"),
    ({"pin": "123"}, "4 to 8 digits"),
    ({"pin": "123456789"}, "4 to 8 digits"),
    ({"pin": "12a4"}, "4 to 8 digits"),
    ({"name": "   "}, "name"),
    ({"role": "owner"}, "role"),
    ({"discount_limit_pct": Decimal("120")}, "0 to 100"),
    ({"permissions": ["everything"]}, "unknown permission"),
])
def test_create_refuses_bad_input(engine, kw, message):
    args = {"code": "6", "name": "New", "pin": "1357", "role": "cashier"} | kw
    with pytest.raises(admin.AdminError, match=message):
        admin.create_operator(engine, by="9", **args)
    assert by_code(engine, args["code"]) is None or args["code"] == "1"
    assert audit_rows(engine, "operator.create") == []


def test_only_an_active_manager_may_change_operators(engine):
    with pytest.raises(admin.AdminError, match="only an active manager"):
        admin.create_operator(engine, code="6", name="New", pin="1357", by="1")
    with pytest.raises(admin.AdminError, match="only an active manager"):
        admin.reset_pin(engine, "1", "4321", by="nobody")


def test_reset_pin_clears_the_wrong_pin_lock(engine):
    for _ in range(5):
        with pytest.raises(LoginError):
            authenticate(engine, "1", "0000")
    with pytest.raises(LoginError, match="locked"):
        authenticate(engine, "1", "1111")
    assert admin.get_operator(engine, "1").locked_out()
    assert admin.get_operator(engine, "1").status().startswith("PIN lock")
    before = updated_at(engine, "1")
    row = admin.reset_pin(engine, "1", "86420", by="9", **WHERE)
    assert row.failed_attempts == 0 and row.locked_until is None and row.updated_at > before
    assert authenticate(engine, "1", "86420").code == "1"
    with pytest.raises(LoginError):
        authenticate(engine, "1", "1111")  # the old PIN is gone
    [reset] = audit_rows(engine, "operator.pin_reset")
    assert reset.operator_code == "9" and reset.subject == "1" and reset.detail == {}


def test_lock_refuses_login_and_unlock_lets_back_in(engine):
    before = updated_at(engine, "1")
    row = admin.set_locked(engine, "1", True, by="9", **WHERE)
    assert row.locked and row.status() == "locked" and row.updated_at > before
    with pytest.raises(LoginError, match="locked by a manager"):
        authenticate(engine, "1", "1111")
    # A PIN reset does not undo a manager's lock.
    admin.reset_pin(engine, "1", "1111", by="9")
    with pytest.raises(LoginError, match="locked by a manager"):
        authenticate(engine, "1", "1111")
    with Session(engine) as s:  # a wrong-PIN count left over is cleared by unlocking too
        op = s.exec(select(Operator).where(Operator.code == "1")).one()
        op.failed_attempts, op.locked_until = 3, utcnow() + timedelta(minutes=3)
        s.add(op)
        s.commit()
    row = admin.set_locked(engine, "1", False, by="9", **WHERE)
    assert row.active and row.failed_attempts == 0 and row.locked_until is None
    assert authenticate(engine, "1", "1111").code == "1"
    assert [r.subject for r in audit_rows(engine, "operator.lock")] == ["1"]
    assert [r.operator_code for r in audit_rows(engine, "operator.unlock")] == ["9"]


def test_a_locked_manager_cannot_approve(engine):
    admin.create_operator(engine, code="8", name="Second", pin="8888", role="manager", by="9")
    admin.set_locked(engine, "8", True, by="9")
    with pytest.raises(LoginError):
        authorise_manager(engine, "8888", action="test")


def test_last_manager_guard_and_self_guards(engine):
    with pytest.raises(admin.AdminError, match="cannot lock yourself"):
        admin.set_locked(engine, "9", True, by="9")
    with pytest.raises(admin.AdminError, match="own manager role"):
        admin.update_operator(engine, "9", role="cashier", by="9")
    admin.create_operator(engine, code="8", name="Second", pin="8888", role="manager", by="9")
    # Two managers: 8 may demote 9 …
    assert admin.update_operator(engine, "9", role="supervisor", by="8").role == "supervisor"
    # … and then 8 is the last one, whom nobody can demote or lock (9 is no manager any more).
    with pytest.raises(admin.AdminError, match="only an active manager"):
        admin.set_locked(engine, "8", True, by="9")
    with pytest.raises(admin.AdminError, match="own manager role"):
        admin.update_operator(engine, "8", role="cashier", by="8")
    with Session(engine) as s:
        managers = s.exec(select(Operator).where(Operator.role == "manager", Operator.active.is_(True))).all()
        assert [m.code for m in managers] == ["8"]
    # The guard itself, whoever asks: a last active manager is never demoted.
    with Session(engine) as s:
        op = s.exec(select(Operator).where(Operator.code == "8")).one()
        with pytest.raises(admin.AdminError, match="last active manager"):
            admin._guard_last_manager(s, op, "demoted")


def test_update_changes_only_what_differs_and_audits_it(engine):
    before = updated_at(engine, "1")
    row = admin.update_operator(engine, "1", name="Somsri", discount_limit_pct="15", permissions=[MANAGE_ORDERS],
                                role="cashier", by="9", **WHERE)
    assert row.name == "Somsri" and row.discount_limit_pct == Decimal("15") and row.permissions == (MANAGE_ORDERS,)
    assert row.updated_at > before
    [change] = audit_rows(engine, "operator.change")
    assert change.subject == "1" and change.operator_code == "9"
    assert set(change.detail["changes"]) == {"name", "discount_limit_pct", "permissions"}
    assert change.detail["changes"]["discount_limit_pct"] == ["10", "15"]
    # The same again: nothing changes, nothing audited, updated_at stays.
    again = admin.update_operator(engine, "1", name="Somsri", discount_limit_pct="15.00", permissions=[MANAGE_ORDERS],
                                  by="9")
    assert again.updated_at == row.updated_at
    assert len(audit_rows(engine, "operator.change")) == 1
    with pytest.raises(admin.AdminError, match="not a number"):
        admin.update_operator(engine, "1", discount_limit_pct="abc", by="9")


def test_manage_orders_permission_grants_managing_customer_orders(engine):
    cashier = by_code(engine, "1")
    assert not can_manage(cashier.role, ("supervisor", "manager"), cashier.permissions)
    admin.update_operator(engine, "1", permissions=[MANAGE_ORDERS], by="9")
    cashier = authenticate(engine, "1", "1111")
    assert cashier.has(MANAGE_ORDERS)
    assert can_manage(cashier.role, ("supervisor", "manager"), cashier.permissions)
    assert can_manage(cashier.role, ["manager"], cashier.permissions)
    # [orders] manage_roles keeps working on its own.
    assert can_manage("supervisor") and not can_manage("cashier") and can_manage("cashier", ["cashier"])


@pytest.mark.parametrize("text,value", [("15", Decimal("15")), ("12.5%", Decimal("12.5")), (" 0 ", Decimal("0"))])
def test_parse_discount_limit(text, value):
    assert admin.parse_discount_limit(text) == value


@pytest.mark.parametrize("text,role", [("c", "cashier"), ("S", "supervisor"), ("man", "manager")])
def test_parse_role(text, role):
    assert admin.parse_role(text) == role
    with pytest.raises(admin.AdminError):
        admin.parse_role("x")
