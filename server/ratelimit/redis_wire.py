"""The rate limiter's own Redis client: one pipelined connection per event loop, replies parsed by hiredis.

Why not redis-py (issue 22): every request of a scaled-out server runs one `EVALSHA` (the rate-limit decision), and
through redis-py's asyncio client that cost about 100 µs of CPU (16 concurrent callers, local Redis): a pooled
connection checked out and back, the command packed, its stream reader awaited, retry and health-check bookkeeping.
Here it costs about 13 µs: the command is written to the one connection as it comes, and the connection's
`data_received` hands each reply to the caller waiting for it.

Redis answers a connection's commands in the order it received them, so replies are matched to callers by order (a
queue of futures). Whatever breaks that order breaks the connection: a command not answered within its timeout, or a
connection that closes, fails every command still waiting on it (`ConnectionError` or `TimeoutError`), and the next
command opens a fresh connection. The caller (`server.ratelimit.stores.RedisStore`) decides what a failure means.

Addresses as redis-py reads them: `redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS, `unix:///path`,
and `?db=N` on any of them. Other options in the query string are refused at start-up: this client would ignore them.
"""

import asyncio
import contextlib
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

DEFAULT_PORT = 6379
# A connection unused this long may have died silently (a firewall's idle timeout): if it then does not answer, the
# command is tried once more on a fresh connection before it counts as a failure (redis-py pinged such a connection).
IDLE_SECONDS = 5.0


class RedisReplyError(Exception):
    """Redis answered the command with an error (`NOSCRIPT …`, `WRONGTYPE …`, `NOAUTH …`)."""


@dataclass(frozen=True)
class Address:
    host: str | None
    port: int
    path: str | None  # a Unix socket
    tls: bool
    db: int
    username: str | None
    password: str | None


def address(url: str) -> Address:
    """Where `url` points (a `ValueError` for anything else than a Redis URL this client serves as written)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError("a Redis URL starts with redis://, rediss:// or unix://")
    query = parse_qs(parts.query)
    db_values = query.pop("db", [])
    if query:
        raise ValueError(f"Redis URL options not supported by the rate limiter: {', '.join(sorted(query))}")
    db = db_values[0] if db_values else ""
    path = None
    if parts.scheme == "unix":
        path = unquote(parts.path)
        if not path:
            raise ValueError("a unix:// Redis URL names the socket's path")
    elif not db and parts.path not in ("", "/"):
        db = parts.path.removeprefix("/")
    if db and not db.isdigit():
        raise ValueError(f"the Redis database is a number, not {db!r}")
    return Address(
        host=None if path else unquote(parts.hostname or "localhost"),
        port=parts.port or DEFAULT_PORT,  # a port that is not a number raises ValueError here
        path=path,
        tls=parts.scheme == "rediss",
        db=int(db or 0),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def command(*parts: bytes | str | int) -> bytes:
    """One command in Redis' protocol (RESP): an array of bulk strings, packed by hiredis."""
    # hiredis' stub types the argument as a one-element tuple; it takes any number of parts.
    packed: bytes = hiredis.pack_command(parts)  # type: ignore[arg-type]
    return packed


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.reader = hiredis.Reader()
        self.closed = False
        self.last_active = asyncio.get_running_loop().time()  # the last reply (or the connection's opening)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.last_active = asyncio.get_running_loop().time()
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            if not self.waiting:  # a reply nobody asked for: the order is lost
                self.fail(ConnectionError("Redis sent a reply to no command"))
                return
            waiter = self.waiting.popleft()
            if not waiter.done():
                if isinstance(reply, hiredis.ReplyError):
                    waiter.set_exception(RedisReplyError(str(reply)))
                else:
                    waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail_waiting(ConnectionError(f"connection to Redis lost: {exc!r}" if exc else "Redis closed it"))

    def send(self, payload: bytes, timeout: float) -> "asyncio.Future[Any]":
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        self.waiting.append(waiter)
        assert self.transport is not None
        self.transport.write(payload)
        timer = loop.call_later(timeout, self._expire, waiter)
        waiter.add_done_callback(lambda _: timer.cancel())
        return waiter

    def _expire(self, waiter: "asyncio.Future[Any]") -> None:
        if not waiter.done():
            self.fail(TimeoutError("Redis did not answer in time"))

    def fail(self, error: Exception) -> None:
        """Break the connection: later replies could no longer be matched to their commands."""
        self.closed = True
        self._fail_waiting(error)
        if self.transport is not None:
            self.transport.abort()

    def _fail_waiting(self, error: Exception) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(error)


class RedisWire:
    """Commands to one Redis over one pipelined connection, opened on first use (and again after a failure)."""

    def __init__(self, url: str, *, timeout: float, idle_seconds: float = IDLE_SECONDS) -> None:
        self.address = address(url)
        self.timeout = timeout
        self.idle_seconds = idle_seconds
        self._connection: _Connection | None = None
        self._opening: asyncio.Future[_Connection] | None = None

    async def call(self, *parts: bytes | str | int) -> Any:
        """The reply to one command; an error reply raises `RedisReplyError`.

        A connection that was already open and turns out dead is replaced once, transparently: one that closed (Redis
        restarted since), or one that had been idle for `idle_seconds` and does not answer (it may have died without
        a word, as redis-py's health check assumes of a connection idle that long)."""
        connection = self._connection
        fresh = connection is None or connection.closed
        if fresh:
            connection = await self._open()
        assert connection is not None
        idle = asyncio.get_running_loop().time() - connection.last_active >= self.idle_seconds
        payload = command(*parts)
        try:
            return await connection.send(payload, self.timeout)
        except ConnectionError:
            if fresh:
                raise
        except TimeoutError:
            if fresh or not idle:
                raise
        connection = await self._open()
        return await connection.send(payload, self.timeout)

    async def _open(self) -> _Connection:
        """A new connection, shared by every caller that needs one at the same time."""
        if self._connection is not None and not self._connection.closed:
            return self._connection
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._connect())
        opening = self._opening
        try:
            return await asyncio.shield(opening)
        finally:
            if self._opening is opening and opening.done():
                self._opening = None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        target = self.address
        async with asyncio.timeout(self.timeout):
            if target.path is not None:
                _transport, connection = await loop.create_unix_connection(_Connection, target.path)
            else:
                context = ssl.create_default_context() if target.tls else None
                _transport, connection = await loop.create_connection(
                    _Connection, target.host or "localhost", target.port, ssl=context
                )
            setup = []
            if target.password is not None:
                credentials = [target.username, target.password] if target.username else [target.password]
                setup.append(connection.send(command(b"AUTH", *credentials), self.timeout))
            if target.db:
                setup.append(connection.send(command(b"SELECT", target.db), self.timeout))
            try:
                for step in setup:
                    await step
            except BaseException:
                connection.fail(ConnectionError("Redis refused the connection's set-up"))
                raise
        self._connection = connection
        return connection

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.closed:
            connection.closed = True
            if connection.transport is not None:
                connection.transport.close()
        if self._opening is not None:
            self._opening.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # it was being given up either way
                await self._opening
            self._opening = None
