"""One-row lookups on PostgreSQL made by the event loop itself, through a few asyncio connections it keeps (the
API-key lookup of every authenticated request: `server.security.resolve_credential`, issue 22).

Why: through the thread pool the lookup cost a thread hop there and back, a pooled connection's checkout with its
pre-ping (a round trip), BEGIN, the SELECT and COMMIT (two more round trips) and Core's execution machinery — on
every authenticated request, before the request's own transaction paid its own checkout again. Here it is the one
SELECT in autocommit on a connection the loop keeps: one round trip, no thread, no checkout.

Same answers: the statement is compiled by SQLAlchemy for the engine's dialect and its rows go through the same
result processors (`server.db.loop_reads.plan`), so callers get, field for field, what Core returns. Nothing is cached
but the connections: each lookup is its own statement in autocommit, so it reads the latest committed data (a revoked
key is refused on the very next request) and holds no snapshot or lock once it has answered. The connections are
opened with the engine's own bounded waits (connect and statement timeouts), at most `SIZE` per engine beside the
engine's pool, and closed with the app (`close_all`). Anything unusual — any error, a connection the server dropped
(a restart) included, or a lookup taking longer than the connect timeout — closes the connection and answers
`FAILED`, and so does every lookup for `COOL_DOWN_SECONDS` after: the caller then runs the lookup the ordinary way,
whose pool pre-pings and whose failures (database down: 503) are what they always were.
"""

import asyncio
import contextlib
import time
from typing import Any

import psycopg
from sqlalchemy import Engine, Select

from server.db import loop_reads
from server.db.engine import driver_connect_args

SIZE = 4  # lookups in flight at once per engine: one round trip each, so a few serve many requests
FAILED = object()  # `first`'s answer when the caller must take the ordinary path
# After a failure the lookups take the ordinary path for a while: during an outage a request would otherwise wait
# for the connect timeout twice (here, then in the pool), not once.
COOL_DOWN_SECONDS = 5.0


class _Connections:
    """The connections of one engine on one event loop (asyncio connections belong to the loop that opened them)."""

    def __init__(self, engine: Engine, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.kwargs = driver_connect_args(engine)
        self.bound = float(self.kwargs.get("connect_timeout") or 5)  # seconds for a whole lookup (see `first`)
        self.slots = asyncio.Semaphore(SIZE)
        self.idle: list[psycopg.AsyncConnection[Any]] = []
        self.skip_until = 0.0

    def close(self) -> None:
        while self.idle:
            _close(self.idle.pop())


_by_engine: dict[Engine, _Connections] = {}


def _close(connection: psycopg.AsyncConnection[Any]) -> None:
    # What `AsyncConnection.close()` does, without an await: usable from any thread, loop or none.
    with contextlib.suppress(Exception):
        connection.pgconn.finish()


def _connections(engine: Engine) -> _Connections:
    loop = asyncio.get_running_loop()
    found = _by_engine.get(engine)
    if found is None or found.loop is not loop:
        if found is not None:  # another loop's (tests run several): never usable here
            found.close()
        found = _by_engine[engine] = _Connections(engine, loop)
    return found


async def first(engine: Engine, statement: Select[Any], parameters: dict[str, Any]) -> Any:
    """The statement's first row (its columns by name, as Core returns them), None, or `FAILED`.

    `statement` is a module-level constant (plans are kept per statement object) whose parameters are plain values
    that need no bind processing (strings, numbers). The whole lookup — a free connection, opening one, the
    statement — is bounded by the engine's connect timeout: an indexed read that takes longer (a database that stopped
    answering on an open connection) is handed to the ordinary path and its bounds, and never holds the few
    connections here for the other requests."""
    plan = loop_reads.plan(engine, statement)
    pool = _connections(engine)
    if time.monotonic() < pool.skip_until:
        return FAILED
    try:
        async with asyncio.timeout(pool.bound):
            raw = await _first_raw(engine, pool, plan.sql, parameters)
    except TimeoutError:
        pool.skip_until = time.monotonic() + COOL_DOWN_SECONDS
        return FAILED
    if raw is FAILED or raw is None:
        return raw
    return loop_reads.as_row(plan, raw)


async def _first_raw(engine: Engine, pool: _Connections, sql: str, parameters: dict[str, Any]) -> Any:
    async with pool.slots:
        if time.monotonic() < pool.skip_until:  # failed while this lookup waited for a connection
            return FAILED
        connection = pool.idle.pop() if pool.idle else None
        try:
            if connection is None:
                connection = await psycopg.AsyncConnection.connect(**pool.kwargs, autocommit=True)
            cursor = connection.cursor()
            await cursor.execute(sql, parameters)
            raw = await cursor.fetchone()
            await cursor.close()
        except BaseException as exc:  # cancelled mid-statement included: the connection's state is unknown
            if connection is not None:
                _close(connection)
            if isinstance(exc, Exception):
                pool.skip_until = time.monotonic() + COOL_DOWN_SECONDS
                return FAILED
            raise
        if _by_engine.get(engine) is pool:
            pool.idle.append(connection)
        else:  # its pool was closed meanwhile (the app stopped, or another event loop took over)
            _close(connection)
    return raw


def close_all() -> None:
    """Close every idle connection (the app's shutdown); lookups still running close theirs when they fail."""
    for pool in _by_engine.values():
        pool.close()
