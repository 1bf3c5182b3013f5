"""Exact sums of `Money` columns in SQL, on both backends.

PostgreSQL sums NUMERIC exactly. SQLite stores `Money` as its canonical decimal string with exactly 10 places
(see `server.db.types.Money`), and its SUM would go through floats; dropping the decimal point turns each value
into an integer count of 1e-10 units, which SQLite sums exactly in 64 bits (and raises on overflow instead of
rounding). Either way the database does the aggregation, so summing a year of lines never loads them.

`add_to_totals` keeps maintained totals (`server.db.models.earnings`) exact under concurrent writers.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Table, cast, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


def add_to_totals(session: Session, table: Table, rows: Sequence[dict[str, Any]], sums: Sequence[str]) -> None:
    """Add each row's `sums` columns to the stored row with the same primary key (inserted when missing), in the
    caller's transaction. `rows` must have distinct keys.

    PostgreSQL: one `INSERT … ON CONFLICT DO UPDATE SET c = table.c + excluded.c`; the addition happens under the
    row's lock, so concurrent transactions adding to the same row each see the other's committed sum (no lost
    update), and NUMERIC adds exactly. Rows go in key order, so two writers lock shared rows in the same order and
    cannot deadlock on them. SQLite would add the stored decimal strings as floats, so the sum is made in Python:
    the INSERT attempt takes the database's write lock (SQLite has one writer at a time), so nothing can change the
    row between reading it and updating it.
    """
    keys = [column.name for column in table.primary_key.columns]
    ordered = sorted(rows, key=lambda row: tuple(str(row[k]) for k in keys))
    if not ordered:
        return
    if dialect_of(session) == "postgresql":
        statement = pg_insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: table.c[c] + statement.excluded[c] for c in sums}
        )
        session.execute(statement, ordered)
        return
    for row in ordered:
        if session.execute(sqlite_insert(table).on_conflict_do_nothing(), row).rowcount == 1:  # type: ignore[attr-defined]
            continue
        same_key = [table.c[k] == row[k] for k in keys]
        stored = session.execute(select(*(table.c[c] for c in sums)).where(*same_key)).one()
        session.execute(
            table.update().where(*same_key).values({c: value + row[c] for c, value in zip(sums, stored, strict=True)})
        )
