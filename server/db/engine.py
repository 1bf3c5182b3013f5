"""The database engine and sessions: the current app's (server/state.py), or the process's outside any app."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import psycopg
from sqlalchemy import Engine, event, make_url
from sqlalchemy import exc as sqlalchemy_exc
from sqlmodel import Session, create_engine

from server import state as app_state
from server.config import Settings
from server.db import sqlite_writes


@cache
def engine_for(
    url: str, connect_timeout: float = 5.0, statement_timeout: float = 30.0, pool_timeout: float = 10.0
) -> Engine:
    if url.startswith("sqlite"):
        # A pooled connection per worker thread of a hop (anyio's for connexion, 40 by default; the short path's own,
        # server/worker_threads.py, as many): with SQLAlchemy's default of 5, concurrent requests kept opening and
        # closing overflow connections, PRAGMAs and all (issue 10's profile). Past 50 sessions at once a request
        # waits for a connection to come back (the pool's timeout bounds the wait).
        # Writers queue in the process, fairly, before SQLite's lock (server/db/sqlite_writes.py); the busy timeout
        # stays the bound on a wait and what arbitrates between processes sharing the file.
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": 30,
                "factory": sqlite_writes.connection_factory(make_url(url).database),
            },
            pool_size=40,
            max_overflow=10,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Bounded waits (issue 23 #2): a black-holed or refusing database costs a request at most the connect timeout
    # (libpq's connect_timeout covers TCP and the startup handshake; at least 2 s), a runaway statement at most the
    # statement timeout, and a pool drained by stuck requests at most the pool timeout — then 503.
    connect_args = {
        "connect_timeout": max(2, round(connect_timeout)),
        "options": f"-c statement_timeout={round(statement_timeout * 1000)}",
    }
    engine = create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=pool_timeout, connect_args=connect_args
    )
    _, params = engine.dialect.create_connect_args(engine.url)
    _driver_connect_args[engine] = {**params, **connect_args}
    return engine


# The psycopg.connect() keyword arguments of each PostgreSQL engine (its URL's and the bounded waits above), for the
# connections the event loop opens itself (server/db/loop_reads_pg.py).
_driver_connect_args: dict[Engine, dict[str, Any]] = {}


def driver_connect_args(engine: Engine) -> dict[str, Any]:
    return dict(_driver_connect_args[engine])


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 512 KiB of page cache per connection instead of 2 MiB: the pool holds up to 50 connections, and an earnings
    # summary scanning a year of lines filled every one of them (+25 MB RSS per worker); the OS caches the file anyway.
    cursor.execute("PRAGMA cache_size=-512")
    cursor.close()


_configured: list[Settings] = []  # the process default (outside any app), set by configure()


def configure(settings: Settings) -> None:
    """Set the process default: what code outside any app (CLI commands, workers, scripts, tests) uses."""
    _configured[:] = [settings]
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)


def settings() -> Settings:
    """The settings of the app handling this request or running this work, else the process's (configure())."""
    current = app_state.current()
    if current is not None:
        return current.settings
    if not _configured:
        raise RuntimeError("server.db.engine.configure() was not called")
    return _configured[0]


def engine_of(settings: Settings) -> Engine:
    return engine_for(
        settings.database_url, settings.db_connect_timeout, settings.db_statement_timeout, settings.db_pool_timeout
    )


def engine() -> Engine:
    current = app_state.current()
    if current is not None:
        return current.engine
    if not _configured:
        raise RuntimeError("server.db.engine.configure() was not called")
    settings = _configured[0]
    return engine_for(
        settings.database_url, settings.db_connect_timeout, settings.db_statement_timeout, settings.db_pool_timeout
    )


def reads_inline() -> bool:
    """Whether short reads (the API-key lookup, the plain GETs of server/openapi/fast_reads.py) run on the event
    loop instead of a worker thread.

    True for SQLite: it is in the process, so a read never waits on the network, and in WAL mode never on the
    writer's lock; the GIL serialises its CPU with the event loop's either way. The thread hop is then pure cost
    (about 55 µs of CPU and two thread switches, twice per request: issue 10's profile). PostgreSQL reads wait on
    the network and stay in the thread pool.
    """
    return engine().dialect.name == "sqlite"


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: committed when the block ends normally, rolled back on any exception."""
    with Session(engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope() -> Iterator[Session]:
    """A unit of work that only reads (the handlers marked `read_only`): the session closes without a commit, and
    returning its connection to the pool rolls back, which ends a read the same way. The commit cost a plain read
    about 25 µs of CPU for nothing to commit (issue 22). Anything written here is rolled back: writes belong in
    `session_scope`."""
    with Session(engine(), expire_on_commit=False) as session:
        yield session


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached or did not answer in time (refused, black-holed, pool
    exhausted, statement timeout, server gone, SQLite busy) rather than that a query is wrong."""
    if isinstance(exc, sqlalchemy_exc.TimeoutError | sqlalchemy_exc.DisconnectionError):
        return True
    if isinstance(exc, sqlalchemy_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, sqlalchemy_exc.OperationalError)
    return isinstance(exc, psycopg.OperationalError)


def describe(exc: BaseException) -> str:
    """One line for a log: the exception's type and the first line of its message (no traceback: during an outage
    every request fails the same way, and a traceback each is tens of kilobytes a second of noise)."""
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [""])[0]
    return f"{type(original).__name__}: {first[:300]}"
