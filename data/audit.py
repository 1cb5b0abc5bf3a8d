"""Audit rows for logins, overrides, voids and refunds. Written in the caller's transaction, so an
action and its audit row stand or fall together."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from data.db import read_session, write_session
from data.models import AuditLog


def record(session: Session, action: str, *, operator: str | None = None, subject: str = "",
           store: str | None = None, terminal: str | None = None, **detail: Any) -> None:
    session.add(AuditLog(action=action, operator_code=operator, subject=subject, store_id=store,
                         terminal=terminal, detail=detail))


def record_now(engine: Engine, action: str, **kw: Any) -> None:
    with write_session(engine) as s:
        record(s, action, **kw)


def recent(engine: Engine, *, action: str | None = None, limit: int = 100) -> list[AuditLog]:
    with read_session(engine) as s:
        q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        if action:
            q = q.where(AuditLog.action == action)
        return list(s.exec(q))
