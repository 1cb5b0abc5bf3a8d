"""Column types: exact decimals as scaled integers and timestamps that are always UTC.

Integers sum exactly in SQL on both SQLite and PostgreSQL, which a REAL column on SQLite would not.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Text
from sqlalchemy.types import TypeDecorator


class ScaledDecimal(TypeDecorator):
    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 4, places: int = 2) -> None:
        super().__init__()
        self.scale = scale
        self.places = places

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not stored as money or quantities")
        scaled = Decimal(value).scaleb(self.scale)
        integral = scaled.to_integral_value()
        if integral != scaled:
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(integral)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        exact = Decimal(int(value)).scaleb(-self.scale)
        # Read back with the fewest places that lose nothing, but at least `places` ("35.00", "3", "0.5").
        short = exact.quantize(Decimal(1).scaleb(-self.places))
        if short == exact:
            return short
        return exact.normalize()

    def of_aggregate(self, value) -> Decimal:
        """SUM() and the like over such a column: SQLAlchemy types some aggregates (a Decimal back) but
        not arithmetic on them (the scaled integer back); nothing to sum is zero."""
        if value is None:
            return Decimal(0)
        return value if isinstance(value, Decimal) else self.process_result_value(value, None)

    @property
    def python_type(self):
        return Decimal


def Money() -> ScaledDecimal:  # noqa: N802 - reads like a type in models
    return ScaledDecimal(4, places=2)


def Quantity() -> ScaledDecimal:  # noqa: N802
    return ScaledDecimal(3, places=0)


def Rate() -> ScaledDecimal:  # noqa: N802
    return ScaledDecimal(2, places=0)


class UTCDateTime(TypeDecorator):
    """Stored naive in UTC, returned aware; a naive value on the way in is refused."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware timestamps only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return as_utc(value)


def as_utc(value) -> datetime | None:
    """A stored UTC time as the database hands it back (naive, or text from an aggregate such as
    MIN() on SQLite) made aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


class EncodedJSON(str):
    """JSON already encoded once, e.g. one payload written for several export connectors."""


def encode_json(value) -> EncodedJSON:
    return EncodedJSON(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


class JSONText(TypeDecorator):
    """JSON kept as text so SQLite and PostgreSQL store the same thing."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, EncodedJSON):
            return str(value)
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return json.loads(value)


def utcnow() -> datetime:
    return datetime.now(UTC)
