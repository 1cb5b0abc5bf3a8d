"""Members (loyalty customers), found by phone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import select

from data.db import read_session, write_session
from data.models import Member
from data.phones import normalise_phone


@dataclass(frozen=True)
class MemberInfo:
    id: int
    phone: str
    name: str


def find_member(engine: Engine, raw_phone: str, region: str) -> tuple[str, MemberInfo | None]:
    """Returns the normalised phone (raises PhoneError if it is none) and the member, if any."""
    phone = normalise_phone(raw_phone, region)
    with read_session(engine) as s:
        m = s.exec(select(Member).where(Member.phone == phone)).first()
        return phone, (MemberInfo(m.id, m.phone, m.name) if m else None)


def create_member(engine: Engine, phone: str, name: str = "") -> MemberInfo:
    with write_session(engine) as s:
        existing = s.exec(select(Member).where(Member.phone == phone)).first()
        if existing:
            return MemberInfo(existing.id, existing.phone, existing.name)
        m = Member(phone=phone, name=name)
        s.add(m)
        s.flush()
        return MemberInfo(m.id, m.phone, m.name)
