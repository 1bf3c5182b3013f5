"""Where the per-key GCRA state lives: in this process, or in Redis so that every server process shares it.

Redis unreachable or slow: the Redis store fails open to an in-process store (each process then enforces the full
limit on its own, so the bound degrades to N times the limit instead of disappearing), logs loudly, counts the
failure and stops asking Redis for a short cool-down so requests never wait on a dead server. docs/adr/0002 says why.
"""

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from server.ratelimit import gcra
from server.ratelimit.policies import Policy
from server.ratelimit.redis_wire import RedisReplyError, RedisWire

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
GCRA_SHA = hashlib.sha1(GCRA_SCRIPT.encode()).hexdigest()  # noqa: S324  (Redis names scripts by their SHA-1)


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
        self._wire = RedisWire(url, timeout=timeout)  # checks the URL now: a bad one fails at start-up
        self._loop: asyncio.AbstractEventLoop | None = None
        self._skip_until = 0.0

    def _connected(self) -> RedisWire:
        # A connection belongs to the event loop that opened it (tests run several loops).
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._wire = RedisWire(self.url, timeout=self.timeout)
            self._loop = loop
        return self._wire

    async def decide(self, key: str, policy: Policy) -> gcra.Decision:
        if time.monotonic() < self._skip_until:
            self.failures += 1
            return await self.fallback.decide(key, policy)
        try:
            wire = self._connected()
            now = "" if self.clock is None else str(self.clock())
            # Each step (connecting, a command) is bounded by the timeout, and a dead open connection is replaced
            # once (a restart already over: issue 23 #3); the whole decision, by twice the timeout.
            async with asyncio.timeout(self.timeout * 2):
                allowed, tat, now_us = await _run_script(wire, key, policy.interval_us, policy.burst, now)
        except (RedisReplyError, OSError, TimeoutError, ValueError) as exc:
            self.failures += 1
            self._skip_until = time.monotonic() + self.cooldown
            await self._wire.aclose()  # after the window, start afresh: one outage costs one window
            log.error(
                "rate-limit store unavailable, failing open to per-process limits for %.0f s: %r",
                self.cooldown,
                exc,
                extra={"event": "ratelimit_store_unavailable", "failures": self.failures},
            )
            return await self.fallback.decide(key, policy)
        return gcra.decision_from(policy, allowed=allowed == 1, tat=int(tat), now=int(now_us))

    async def aclose(self) -> None:
        await self._wire.aclose()


async def _run_script(wire: RedisWire, key: str, *args: str | int) -> list[bytes | int]:
    """The GCRA script by its SHA-1; sent whole once when this Redis does not know it yet (`NOSCRIPT`: a new or
    restarted server, or `SCRIPT FLUSH`), which also makes Redis keep it for the `EVALSHA`s after."""
    try:
        reply = await wire.call(b"EVALSHA", GCRA_SHA, 1, key, *args)
    except RedisReplyError as error:
        if not str(error).startswith("NOSCRIPT"):
            raise
        reply = await wire.call(b"EVAL", GCRA_SCRIPT, 1, key, *args)
    if not isinstance(reply, list) or len(reply) != 3:
        raise ValueError(f"unexpected reply to the rate-limit script: {reply!r}")
    return reply
