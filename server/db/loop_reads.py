"""One-row lookups on SQLite through a DBAPI connection the calling thread keeps, for the event loop's per-request
reads (`server.db.engine.reads_inline`: the API-key lookup).

Why: through SQLAlchemy the lookup cost about 50 µs of CPU, of which the statement itself (sqlite3 executing an
indexed SELECT) was 6: the pool's checkout and return (with its rollback) about 20, Core's execution context and
result machinery the rest — on every authenticated request (issue 22). Here the statement is compiled once per engine
by SQLAlchemy (same SQL) and its rows go through the same column types' result processors, so callers get what
`Connection.execute(statement).first()` gives, field for field.

Nothing is cached but the connection: each lookup is its own statement outside any transaction, so in WAL mode it
reads the latest committed data (a revoked key is refused on the very next request) and holds no lock once its
cursor is closed. The connection is taken from the engine's pool once per thread and detached from it (the pool's
capacity is unchanged); it closes with its thread. Anything unusual — an error of any kind — drops it and runs the
lookup the ordinary way, so failures (a locked or missing database) raise what they always raised.
"""

import contextlib
import threading
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select

_local = threading.local()


@dataclass(frozen=True)
class _Plan:
    sql: str
    positions: tuple[str, ...]  # the bound parameters' names in the order of the SQL's placeholders
    processors: tuple[Callable[[Any], Any] | None, ...]
    row: Any  # a named tuple class with the selected columns' names


_plans: dict[tuple[Engine, Select[Any]], _Plan] = {}
_plans_lock = threading.Lock()


def plan(engine: Engine, statement: Select[Any]) -> _Plan:
    """The statement compiled for the engine's dialect, with its result processors (also used by
    `server.db.loop_reads_pg` for PostgreSQL, whose placeholders are named: `positions` is then empty)."""
    key = (engine, statement)
    found = _plans.get(key)
    if found is None:
        dialect = engine.dialect
        if dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"loop_reads is for SQLite and PostgreSQL, not {dialect.name}")
        compiled = statement.compile(dialect=dialect)
        columns = list(statement.selected_columns)
        found = _Plan(
            sql=str(compiled),
            positions=tuple(compiled.positiontup or ()),
            processors=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns),
            row=namedtuple("Row", [column.key for column in columns]),  # type: ignore[misc]
        )
        with _plans_lock:
            _plans.setdefault(key, found)
    return found


def as_row(plan: _Plan, raw: Any) -> Any:
    """A driver's row as Core returns it: the columns' result processors applied, the fields named."""
    return plan.row(
        *(value if process is None else process(value) for process, value in zip(plan.processors, raw, strict=True))
    )


def first(engine: Engine, statement: Select[Any], parameters: dict[str, Any]) -> Any | None:
    """The statement's first row (its columns by name, as Core returns them), or None.

    `statement` is a module-level constant (plans are kept per statement object) whose parameters are plain values
    that need no bind processing (strings, numbers)."""
    if engine.dialect.name != "sqlite":  # positional parameters and an in-process database: SQLite's case only
        raise ValueError(f"loop_reads.first is for SQLite, not {engine.dialect.name}")
    compiled = plan(engine, statement)
    connections: dict[Engine, Any] = _local.__dict__.setdefault("connections", {})
    connection = connections.get(engine)
    try:
        if connection is None:
            connection = engine.raw_connection()
            connection.detach()  # ours for the thread's life; the pool may open another in its place
            connections[engine] = connection
        cursor = connection.cursor()
        try:
            cursor.execute(compiled.sql, [parameters[name] for name in compiled.positions])
            raw = cursor.fetchone()
        finally:
            cursor.close()  # ends the statement: no snapshot or lock is kept
    except Exception:
        dropped = connections.pop(engine, None)
        if dropped is not None:
            with contextlib.suppress(Exception):  # already broken; the ordinary path below reports what is wrong
                dropped.close()
        with engine.connect() as fallback:
            return fallback.execute(statement, parameters).first()
    return None if raw is None else as_row(compiled, raw)
