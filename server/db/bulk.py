"""Many rows into one table as multi-row `INSERT … VALUES (…), (…), …` statements, on both backends.

Why not `connection.execute(insert(table), rows)`: SQLAlchemy runs that as the driver's `executemany`, one
statement per row. For the request log's writer thread (a batch of about a thousand rows a second under load) each
row cost about 40 µs of CPU, and sqlite3 releases the GIL around every row's step, so the writer and the event loop
traded the GIL a thousand times a second: the requests themselves became slower, by about 100 µs each in-process
(issue 22). One statement per chunk of rows hands the GIL over once per chunk and leaves the per-row work to the
database's parser.

The rows go through the same bind processors as on SQLAlchemy's path (`column.type`'s, for the engine's dialect),
so what is stored is the same, value for value (tests/server/test_bulk_insert.py compares the two paths).
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

# Bound parameters per statement: SQLite's default limit is 32,766 since 3.32 (999 before), PostgreSQL's protocol
# carries at most 65,535. Staying under 999 costs little (a statement per 80 or so rows of a dozen columns) and
# works on every SQLite build.
_MAX_PARAMETERS = 999


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys, each a column of `table`) in the caller's transaction."""
    if not rows:
        return
    names = list(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        # As SQLAlchemy's executemany: one set of columns for all rows (it refuses a missing value too).
        raise ValueError("insert_rows: every row must have the same columns")
    dialect = connection.dialect
    columns = [table.c[name] for name in names]
    processors: list[Callable[[Any], Any] | None] = [
        column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns
    ]
    quote = dialect.identifier_preparer.quote
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    # Only the table's own names, quoted by the dialect, enter the SQL; every value is a bound parameter.
    head = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "  # noqa: S608
        f"({', '.join(quote(column.name) for column in columns)}) VALUES "
    )
    one_row = "(" + ", ".join([placeholder] * len(columns)) + ")"
    per_statement = max(1, _MAX_PARAMETERS // len(columns))
    start = 0
    while start < len(rows):
        # Full statements, then the rest in powers of two: at most eight statement texts per table, as the driver
        # keeps each text it saw prepared on each pooled connection (every row count of the last statement of a batch
        # made one more, about 50 KB each on SQLite).
        left = len(rows) - start
        size = per_statement if left >= per_statement else 1 << (left.bit_length() - 1)
        chunk = rows[start : start + size]
        start += size
        parameters: list[Any] = []
        for row in chunk:
            for name, process in zip(names, processors, strict=True):
                value = row[name]
                parameters.append(value if process is None else process(value))
        connection.exec_driver_sql(head + ", ".join([one_row] * len(chunk)), tuple(parameters))
