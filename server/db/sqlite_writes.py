"""SQLite writers queue in the process, first come first served, instead of polling the file lock (issue 22).

SQLite has one writer. A connection that finds the write lock taken waits in SQLite's busy handler, which sleeps
and retries with a growing back-off (1, 2, 5, … up to 100 ms a try) and is unfair: whoever happens to try while the
lock is free wins it, so a writer that arrived first but is in its 100 ms sleep loses to newcomers, again and again.
With 16 concurrent writers the median write took 30-50 ms and the slowest one in a hundred 1.5-2 s; a writer waited
for seconds (docs/benchmark-results.md). Here every connection takes its database file's `WriteQueue` (one per file
in the process) before its first write statement and gives it back when its transaction ends (commit, rollback,
close): writers of this process then wait in arrival order, each handed the lock by the one before it, and reach
SQLite's lock when it is free.

Reads take nothing: in WAL mode they never wait for the writer, and the read-only handlers that run on the event
loop (`server.db.engine.reads_inline`) never block on this queue. Other processes sharing the file (a separate
worker, a CLI command) do not see the queue; between processes SQLite's busy timeout still arbitrates, and a
process that is killed releases its file locks with it. A writer waits in the queue at most the connection's busy
timeout, then fails as SQLite would ("database is locked"): a connection that writes while its own thread holds the
queue through another connection would otherwise wait forever.
"""

import os
import re
import sqlite3
import threading
from collections import deque
from functools import cache
from typing import Any

# The statements that take SQLite's write lock: the DML that pysqlite opens a transaction for, and DDL (migrations).
# SELECTs, PRAGMAs, SAVEPOINT and RELEASE do not write, and a write inside a savepoint is still one of these.
_WRITES = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


class WriteQueue:
    """A lock handed over in arrival order. Not tied to a thread: a connection may begin its transaction on one
    thread and commit it on another, so the holder is a connection and any thread may release it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # handed over by release(): the queue is ours
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        return True  # handed over between the timeout and taking the mutex

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                # Handed straight to the oldest waiter (the queue stays held): a newcomer cannot barge in between.
                self._waiters.popleft().release()
            else:
                self._held = False


class QueuedWritesConnection(sqlite3.Connection):
    """A pysqlite connection whose writes go through its database file's `WriteQueue` (`connection_factory`)."""

    queue: WriteQueue

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue_timeout = float(kwargs.get("timeout", 5.0))  # pysqlite's default busy timeout
        self._holds_queue = False

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or QueuedWritesCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:  # the shortcut's own cursor would skip the queue
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release_unless_in_transaction()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release_unless_in_transaction()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()

    def __del__(self) -> None:
        # A connection dropped without close() (its SQLite transaction rolls back as it is freed) must not keep
        # every other writer of the process waiting.
        self._release()

    def _before(self, sql: str) -> None:
        if not self._holds_queue and _WRITES.match(sql):
            if not self.queue.acquire(self._queue_timeout):
                raise sqlite3.OperationalError("database is locked")
            self._holds_queue = True

    def _release_unless_in_transaction(self) -> None:
        # A failed COMMIT leaves the transaction (and SQLite's write lock) open: the queue is kept until it ends.
        if self._holds_queue and not self.in_transaction:
            self._release()

    def _release(self) -> None:
        if getattr(self, "_holds_queue", False):
            self._holds_queue = False
            self.queue.release()


class QueuedWritesCursor(sqlite3.Cursor):
    connection: QueuedWritesConnection

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        self.connection._before(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            # A write outside a transaction (DDL: pysqlite opens none for it) is over when it returns.
            self.connection._release_unless_in_transaction()

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        self.connection._before(sql)
        try:
            return super().executemany(sql, parameters)
        finally:
            self.connection._release_unless_in_transaction()


def connection_factory(database: str | None) -> type[QueuedWritesConnection]:
    """A connection class for pysqlite's `factory` connect argument whose queue is the database file's: SQLite's
    lock is per file, so two engines on one file (other timeouts, another spelling of its path) share one queue. An
    in-memory database (each connection's own) or a URI filename (not resolved here) gets a queue per engine."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return _with_new_queue()
    return _for_file(os.path.realpath(database))


@cache
def _for_file(path: str) -> type[QueuedWritesConnection]:
    return _with_new_queue()


def _with_new_queue() -> type[QueuedWritesConnection]:
    return type("QueuedWritesConnection", (QueuedWritesConnection,), {"queue": WriteQueue()})
