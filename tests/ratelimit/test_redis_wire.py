"""The rate limiter's pipelined Redis client: addresses, replies matched to their callers, and every failure ending
in an error (never a hang, never another caller's reply).

A local stand-in speaks Redis' protocol (RESP) with scripted answers for the failures; the real Redis (when
OG_TEST_REDIS_URL is set) for order under concurrency and the script cache.
"""

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import hiredis
import pytest

from server.ratelimit import policies
from server.ratelimit.redis_wire import RedisReplyError, RedisWire, address, command
from server.ratelimit.stores import RedisStore

REDIS_URL = os.environ.get("OG_TEST_REDIS_URL")

# What the stand-in answers to one command (a list of bytes): the raw reply bytes, or None to stay silent, or
# "close" to drop the connection.
Answer = Callable[[list[bytes]], bytes | str | None]


class StandIn:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.commands: list[list[bytes]] = []
        self.connections = 0
        self.port = 0


@asynccontextmanager
async def stand_in(answer: Answer) -> AsyncIterator[StandIn]:
    state = StandIn(answer)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        parser = hiredis.Reader()
        try:
            while data := await reader.read(65536):
                parser.feed(data)
                while (parts := parser.gets()) is not False:
                    state.commands.append(parts)
                    reply = state.answer(parts)
                    if reply == "close":
                        writer.close()
                        return
                    if isinstance(reply, bytes):
                        writer.write(reply)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()


def echo(parts: list[bytes]) -> bytes:
    if parts[0] == b"ECHO":
        return b"$%d\r\n%s\r\n" % (len(parts[1]), parts[1])
    return b"+OK\r\n"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", ("127.0.0.1", 6379, None, False, 0, None, None)),
        ("redis://cache.internal", ("cache.internal", 6379, None, False, 0, None, None)),
        ("redis://u:p%40ss@h:7000/3", ("h", 7000, None, False, 3, "u", "p@ss")),
        ("redis://:secret@h", ("h", 6379, None, False, 0, None, "secret")),
        ("rediss://h/2", ("h", 6379, None, True, 2, None, None)),
        ("redis://h?db=5", ("h", 6379, None, False, 5, None, None)),
        ("unix:///run/redis.sock?db=4", (None, 6379, "/run/redis.sock", False, 4, None, None)),
        ("redis://[::1]:7000", ("::1", 7000, None, False, 0, None, None)),
    ],
)
def test_addresses_are_read_as_redis_py_reads_them(url: str, expected: tuple[Any, ...]) -> None:
    found = address(url)
    assert (found.host, found.port, found.path, found.tls, found.db, found.username, found.password) == expected


@pytest.mark.parametrize(
    "url",
    ["redis://h?socket_timeout=3", "http://h", "redis://h/cache", "redis://h:port", "unix://", "redis://:pw@h?x=1"],
)
def test_an_address_this_client_cannot_serve_as_written_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)redis|port") as refused:
        address(url)
    assert "pw" not in str(refused.value)


def test_a_command_is_an_array_of_bulk_strings() -> None:
    assert command(b"EVALSHA", "abc", 1, b"k") == b"*4\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$1\r\nk\r\n"


def test_concurrent_callers_share_one_connection_and_each_gets_its_own_reply() -> None:
    async def scenario() -> tuple[list[Any], int]:
        async with stand_in(echo) as server:
            wire = RedisWire(f"redis://127.0.0.1:{server.port}", timeout=2)
            try:
                replies = await asyncio.gather(*(wire.call(b"ECHO", f"caller-{n}") for n in range(200)))
            finally:
                await wire.aclose()
            return replies, server.connections

    replies, connections = asyncio.run(scenario())
    assert replies == [f"caller-{n}".encode() for n in range(200)]
    assert connections == 1


def test_credentials_and_database_are_sent_when_the_connection_opens() -> None:
    async def scenario() -> list[list[bytes]]:
        async with stand_in(echo) as server:
            wire = RedisWire(f"redis://app:s%3Acret@127.0.0.1:{server.port}/3", timeout=2)
            try:
                assert await wire.call(b"ECHO", b"x") == b"x"
                assert await wire.call(b"ECHO", b"y") == b"y"
            finally:
                await wire.aclose()
            return server.commands

    assert asyncio.run(scenario()) == [
        [b"AUTH", b"app", b"s:cret"],
        [b"SELECT", b"3"],
        [b"ECHO", b"x"],
        [b"ECHO", b"y"],
    ]


def test_a_refused_password_is_an_error_not_a_connection() -> None:
    def answer(parts: list[bytes]) -> bytes:
        return b"-WRONGPASS invalid username-password pair\r\n" if parts[0] == b"AUTH" else echo(parts)

    async def scenario() -> None:
        async with stand_in(answer) as server:
            wire = RedisWire(f"redis://:nope@127.0.0.1:{server.port}", timeout=2)
            try:
                with pytest.raises(RedisReplyError, match="WRONGPASS"):
                    await wire.call(b"ECHO", b"x")
            finally:
                await wire.aclose()

    asyncio.run(scenario())


def test_an_error_reply_goes_to_its_caller_and_the_connection_stays_usable() -> None:
    def answer(parts: list[bytes]) -> bytes:
        return b"-NOSCRIPT No matching script\r\n" if parts[0] == b"EVALSHA" else echo(parts)

    async def scenario() -> tuple[list[Any], int]:
        async with stand_in(answer) as server:
            wire = RedisWire(f"redis://127.0.0.1:{server.port}", timeout=2)
            try:
                results = await asyncio.gather(
                    wire.call(b"ECHO", b"before"),
                    wire.call(b"EVALSHA", b"abc", 0),
                    wire.call(b"ECHO", b"after"),
                    return_exceptions=True,
                )
            finally:
                await wire.aclose()
            return results, server.connections

    (before, refused, after), connections = asyncio.run(scenario())
    assert (before, after) == (b"before", b"after")
    assert isinstance(refused, RedisReplyError)
    assert str(refused).startswith("NOSCRIPT")
    assert connections == 1


def test_a_silent_server_times_out_every_waiting_caller_and_the_next_call_opens_a_fresh_connection() -> None:
    silent = {"on": True}

    def answer(parts: list[bytes]) -> bytes | None:
        return None if silent["on"] else echo(parts)

    async def scenario() -> tuple[list[Any], float, bytes, int]:
        async with stand_in(answer) as server:
            wire = RedisWire(f"redis://127.0.0.1:{server.port}", timeout=0.2)
            try:
                loop = asyncio.get_running_loop()
                started = loop.time()
                failed = await asyncio.gather(*(wire.call(b"ECHO", b"x") for _ in range(5)), return_exceptions=True)
                waited = loop.time() - started
                silent["on"] = False
                # A late reply on the old connection could have been taken for this one: it must not be.
                answered = await wire.call(b"ECHO", b"fresh")
            finally:
                await wire.aclose()
            return failed, waited, answered, server.connections

    failed, waited, answered, connections = asyncio.run(scenario())
    assert all(isinstance(error, TimeoutError) for error in failed)
    assert waited < 2  # the timeout, not a hang
    assert answered == b"fresh"
    assert connections == 2


def test_a_connection_found_dead_is_replaced_once_and_a_dead_new_one_is_an_error() -> None:
    """A restart: the open connection was closed by the server; the command is sent again on a fresh connection.
    A server that closes every connection (stopped, not restarted) is a `ConnectionError`, not a loop."""
    closing = {"after_first": True}
    served: list[int] = []

    def answer(parts: list[bytes]) -> bytes | str:
        served.append(1)
        if closing["after_first"] and len(served) > 1:
            closing["after_first"] = False
            return "close"
        return echo(parts)

    async def scenario() -> tuple[bytes, bytes, int]:
        async with stand_in(answer) as server:
            wire = RedisWire(f"redis://127.0.0.1:{server.port}", timeout=2)
            try:
                first = await wire.call(b"ECHO", b"one")
                second = await wire.call(b"ECHO", b"two")  # the server drops the connection on this one
            finally:
                await wire.aclose()
            return first, second, server.connections

    assert asyncio.run(scenario()) == (b"one", b"two", 2)

    async def stopped() -> None:
        async with stand_in(lambda _parts: "close") as server:
            wire = RedisWire(f"redis://127.0.0.1:{server.port}", timeout=2)
            try:
                with pytest.raises(ConnectionError):
                    await wire.call(b"ECHO", b"x")
            finally:
                await wire.aclose()

    asyncio.run(stopped())


def test_an_idle_connection_that_no_longer_answers_is_replaced_once_a_busy_one_is_not() -> None:
    """A connection unused for `idle_seconds` may have died without a word: its silence sends the command again on
    a fresh connection. A connection in use that goes silent is a hung Redis: a `TimeoutError`, not a retry."""
    box: dict[str, Any] = {}

    def answer(parts: list[bytes]) -> bytes | None:
        silent_first = box["server"].connections == 1 and len(box["server"].commands) > 1
        return None if silent_first else echo(parts)

    async def scenario(pause: float, idle_seconds: float) -> tuple[Any, int]:
        async with stand_in(answer) as server:
            box["server"] = server
            wire = RedisWire(f"redis://127.0.0.1:{server.port}", timeout=0.2, idle_seconds=idle_seconds)
            try:
                assert await wire.call(b"ECHO", b"first") == b"first"
                await asyncio.sleep(pause)
                try:
                    second: Any = await wire.call(b"ECHO", b"second")
                except TimeoutError as error:
                    second = error
            finally:
                await wire.aclose()
            return second, server.connections

    assert asyncio.run(scenario(pause=0.15, idle_seconds=0.1)) == (b"second", 2)
    # In use: the second command follows the first at once, well within `idle_seconds` even on a busy machine.
    second, connections = asyncio.run(scenario(pause=0, idle_seconds=30))
    assert isinstance(second, TimeoutError)
    assert connections == 1


@pytest.mark.redis
def test_against_redis_replies_keep_their_order_under_concurrency() -> None:
    if not REDIS_URL:
        pytest.skip("needs OG_TEST_REDIS_URL")

    async def scenario() -> list[Any]:
        wire = RedisWire(REDIS_URL, timeout=2)
        try:
            return await asyncio.gather(*(wire.call(b"ECHO", f"n{n}") for n in range(500)))
        finally:
            await wire.aclose()

    assert asyncio.run(scenario()) == [f"n{n}".encode() for n in range(500)]


@pytest.mark.redis
def test_a_redis_that_forgot_the_script_is_sent_it_again_without_failing_open() -> None:
    """A restarted Redis (or SCRIPT FLUSH) no longer knows the script's SHA-1: the store sends the script itself."""
    if not REDIS_URL:
        pytest.skip("needs OG_TEST_REDIS_URL")
    key = f"og:test:wire:{secrets.token_hex(4)}"

    async def scenario() -> tuple[list[bool], int]:
        store = RedisStore(REDIS_URL)
        admin = RedisWire(REDIS_URL, timeout=2)
        try:
            allowed = [(await store.decide(key, policies.SANDBOX)).allowed]
            assert await admin.call(b"SCRIPT", b"FLUSH") == b"OK"
            allowed += [(await store.decide(key, policies.SANDBOX)).allowed for _ in range(60)]
            return allowed, store.failures
        finally:
            await store.aclose()
            await admin.aclose()

    allowed, failures = asyncio.run(scenario())
    assert failures == 0
    assert allowed == [True] * 60 + [False]  # one budget in Redis: the 61st request of the minute is refused
