"""Redis unreachable or silent: the limiter fails open to per-process limits, quickly, and says so."""

import asyncio
import logging
import socket
import time
from collections.abc import Iterator

import pytest

from server.ratelimit import policies
from server.ratelimit.stores import RedisStore
from tests.ratelimit.clock import FakeClock


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers (a hung Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        listener.close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


async def _decide_many(store: RedisStore, count: int) -> list[bool]:
    try:
        return [(await store.decide("k", policies.SANDBOX)).allowed for _ in range(count)]
    finally:
        await store.aclose()


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_unreachable_redis_fails_open_to_per_process_limits(
    kind: str, silent_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = _closed_port_url() if kind == "refused" else silent_server
    store = RedisStore(url, clock=FakeClock(), timeout=0.2, cooldown=60)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="og.ratelimit"):
        allowed = asyncio.run(_decide_many(store, 61))
    # Only the first decision waits for Redis (at most its timeout); the cool-down skips it for the others.
    assert time.monotonic() - started < 2
    # Still limited: the in-process fallback enforces the plan in this process.
    assert allowed == [True] * 60 + [False]
    assert store.failures == 61
    assert [r for r in caplog.records if getattr(r, "event", None) == "ratelimit_store_unavailable"]


def test_redis_is_tried_again_after_the_cooldown() -> None:
    store = RedisStore(_closed_port_url(), clock=FakeClock(), timeout=0.2, cooldown=0.05)

    async def scenario() -> int:
        await store.decide("k", policies.SANDBOX)
        await asyncio.sleep(0.1)
        await store.decide("k", policies.SANDBOX)
        await store.aclose()
        return store.failures

    assert asyncio.run(scenario()) == 2
    assert store._skip_until > 0


def test_a_redis_restart_costs_at_most_one_fallback_window() -> None:
    """Issue 23 #3: after a restart every stale pooled connection failed once and opened another 5 s window."""
    import os
    import secrets
    from urllib.parse import urlsplit

    from tests.faults import faulty_proxy

    redis_url = os.environ.get("OG_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("needs OG_TEST_REDIS_URL")
    parts = urlsplit(redis_url)
    key = f"og:test:restart:{secrets.token_hex(4)}"

    async def run(proxy_port: int, proxy: object) -> int:
        store = RedisStore(f"redis://127.0.0.1:{proxy_port}{parts.path}", cooldown=0.2)
        try:
            # Several connections in the pool, as under concurrent load.
            await asyncio.gather(*(store.decide(key, policies.SANDBOX) for _ in range(8)))
            assert store.failures == 0
            proxy.cut()  # type: ignore[attr-defined]  # Redis restarted: every pooled connection is dead
            for _ in range(3):
                await asyncio.gather(*(store.decide(key, policies.SANDBOX) for _ in range(8)))
                await asyncio.sleep(0.3)  # past the cool-down: a stale connection would open another window
            return store.failures
        finally:
            await store.aclose()

    with faulty_proxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        failures = asyncio.run(run(proxy.port, proxy))
    assert failures == 0  # the restart was over before the next request: a fresh connection answered
