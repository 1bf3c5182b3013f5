"""Where the per-key GCRA state lives: in this process, or in Redis so that every server process shares it.

Redis unreachable or slow: the Redis store fails open to an in-process store (each process then enforces the full
limit on its own, so the bound degrades to N times the limit instead of disappearing), logs loudly, counts the
failure and stops asking Redis for a short cool-down so requests never wait on a dead server. docs/adr/0002 says why.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.ratelimit import gcra
from server.ratelimit.policies import Policy

log = logging.getLogger("og.ratelimit")

Clock = Callable[[], int]  # microseconds since the Unix epoch


def system_clock() -> int:
    return time.time_ns() // 1000


class Store(Protocol):
    async def decide(self, key: str, policy: Policy) -> gcra.Decision: ...

    async def aclose(self) -> None: ...


class MemoryStore:
    """One dict of key → tat. No awaits inside `decide`, so it is atomic on the event loop."""

    _SWEEP_EVERY = 10_000  # decisions between sweeps of full (expired) buckets

    def __init__(self, clock: Clock = system_clock) -> None:
        self.clock = clock
        self._tats: dict[str, int] = {}
        self._since_sweep = 0

    async def decide(self, key: str, policy: Policy) -> gcra.Decision:
        return self.decide_now(key, policy)

    def decide_now(self, key: str, policy: Policy) -> gcra.Decision:
        now = self.clock()
        new_tat, decision = gcra.step(policy, self._tats.get(key), now)
        if new_tat is not None:
            self._tats[key] = new_tat
        self._since_sweep += 1
        if self._since_sweep >= self._SWEEP_EVERY:
            self._sweep(now)
        return decision

    def _sweep(self, now: int) -> None:
        # A bucket whose tat has passed is full: forgetting it changes nothing.
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        self._since_sweep = 0

    async def aclose(self) -> None:
        return None


# The whole decision in one round trip. Times are integer microseconds; the clock is Redis' own TIME unless the
# caller passes `now` (tests with a controllable clock), so processes on machines with skewed clocks still agree.
# Doubles hold integers exactly up to 2^53 (≈285 years of microseconds), and '%.0f' keeps them out of exponent form.
GCRA_SCRIPT = """
local interval = tonumber(ARGV[1])
local capacity = interval * tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local candidate = tat + interval
if candidate - now <= capacity then
  local ttl_ms = math.max(1, math.ceil((candidate - now) / 1000))
  redis.call('SET', KEYS[1], string.format('%.0f', candidate), 'PX', ttl_ms)
  return {1, string.format('%.0f', candidate), string.format('%.0f', now)}
end
return {0, string.format('%.0f', tat), string.format('%.0f', now)}
"""


class RedisStore:
    """GCRA in Redis (script `GCRA_SCRIPT`), failing open to a `MemoryStore` while Redis is unavailable."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        timeout: float = 0.25,
        cooldown: float = 5.0,
        fallback: MemoryStore | None = None,
    ) -> None:
        self.url = url
        self.clock = clock  # None: Redis' TIME
        self.timeout = timeout
        self.cooldown = cooldown
        self.fallback = fallback or MemoryStore(clock or system_clock)
        self.failures = 0  # a counter for metrics: decisions taken without Redis because it failed
        self._client: aioredis.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._script: object = None
        self._skip_until = 0.0

    def _connected(self) -> aioredis.Redis:
        # redis.asyncio connections belong to the event loop that opened them (tests run several loops).
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = aioredis.Redis.from_url(
                self.url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                # A restart leaves every pooled connection dead. One retry on a fresh connection (connection and
                # timeout errors only) hides a restart that is already over; the health check pings a connection
                # idle for over 5 s before use. Without them each stale connection failed once and opened a
                # fallback window of its own (issue 23 #3).
                retry=Retry(NoBackoff(), 1),
                retry_on_error=[RedisConnectionError, RedisTimeoutError],
                health_check_interval=5,
                decode_responses=False,
            )
            self._loop = loop
            self._script = self._client.register_script(GCRA_SCRIPT)
        return self._client

    async def decide(self, key: str, policy: Policy) -> gcra.Decision:
        if time.monotonic() < self._skip_until:
            self.failures += 1
            return await self.fallback.decide(key, policy)
        try:
            self._connected()
            now = "" if self.clock is None else str(self.clock())
            async with asyncio.timeout(self.timeout * 2):  # belt and braces: never hang a request on Redis
                allowed, tat, now_us = await self._script(  # type: ignore[operator]
                    keys=[key], args=[policy.interval_us, policy.burst, now]
                )
        except (RedisError, OSError, TimeoutError) as exc:
            self.failures += 1
            self._skip_until = time.monotonic() + self.cooldown
            await self._drop_connections()  # after the window, start afresh: one outage costs one window
            log.error(
                "rate-limit store unavailable, failing open to per-process limits for %.0f s: %r",
                self.cooldown,
                exc,
                extra={"event": "ratelimit_store_unavailable", "failures": self.failures},
            )
            return await self.fallback.decide(key, policy)
        return gcra.decision_from(policy, allowed=allowed == 1, tat=int(tat), now=int(now_us))

    async def _drop_connections(self) -> None:
        if self._client is not None:
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await self._client.connection_pool.disconnect()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
