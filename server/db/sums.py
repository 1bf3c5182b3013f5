"""Exact sums of `Money` columns in SQL, on both backends.

PostgreSQL sums NUMERIC exactly. SQLite stores `Money` as its canonical decimal string with exactly 10 places
(see `server.db.types.Money`), and its SUM would go through floats; dropping the decimal point turns each value
into an integer count of 1e-10 units, which SQLite sums exactly in 64 bits (and raises on overflow instead of
rounding). Either way the database does the aggregation, so summing a year of lines never loads them.
"""

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, cast, func
from sqlmodel import Session

_SCALE = 10


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def exact_sum(dialect: str, column: Any) -> ColumnElement[Any]:
    """SUM(column) that `read_sum` turns into an exact Decimal (0 when no rows match)."""
    if dialect == "sqlite":
        return func.coalesce(func.sum(cast(func.replace(column, ".", ""), BigInteger)), 0)
    return func.coalesce(func.sum(column), 0)


def read_sum(dialect: str, value: Any) -> Decimal:
    quantum = Decimal(1).scaleb(-_SCALE)
    if value is None:
        return Decimal(0).quantize(quantum)
    if dialect == "sqlite":
        return Decimal(int(value)).scaleb(-_SCALE).quantize(quantum)
    return Decimal(str(value)).quantize(quantum)
