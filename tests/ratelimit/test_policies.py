"""Exact boundaries of every plan, on the in-process store and on Redis, with a controllable clock."""

import asyncio
import os
import secrets
from collections.abc import Iterator

import pytest

from server.principal import Principal
from server.ratelimit import policies
from server.ratelimit.gcra import Decision
from server.ratelimit.limiter import RateLimiter
from server.ratelimit.policies import Policy
from server.ratelimit.stores import MemoryStore, RedisStore, Store
from tests.ratelimit.clock import START_US, FakeClock

REDIS_URL = os.environ.get("OG_TEST_REDIS_URL")


def _principal(environment: str = "production", credential_id: str = "key_1", kind: str = "api_key") -> Principal:
    return Principal("acct_1", environment, frozenset(), credential_id, kind)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore(clock)
        return
    if not REDIS_URL:
        pytest.skip("Redis tests need OG_TEST_REDIS_URL (set by .ci/run)")
    yield RedisStore(REDIS_URL, clock=clock)


def _limiter(store: Store) -> RateLimiter:
    # A fresh key namespace per test: other engineers' tests share the Redis.
    return RateLimiter(store, prefix=f"test:{secrets.token_hex(6)}")


class Caller:
    """Sends requests against one key on one event loop (redis.asyncio connections are bound to a loop)."""

    def __init__(
        self,
        limiter: RateLimiter,
        policy: Policy,
        key: str = "cred:key_1",
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.limiter, self.policy, self.key = limiter, policy, key
        self.owns_loop = loop is None
        self.loop = loop or asyncio.new_event_loop()

    def hit(self) -> Decision:
        return self.loop.run_until_complete(self.limiter.check(self.key, self.policy))

    def burst(self, count: int) -> list[Decision]:
        return [self.hit() for _ in range(count)]

    def close(self) -> None:
        if self.owns_loop:
            self.loop.run_until_complete(self.limiter.aclose())
            self.loop.close()


@pytest.fixture
def caller_for(store: Store) -> Iterator[type[Caller]]:
    limiter = _limiter(store)
    loop = asyncio.new_event_loop()

    class Bound(Caller):
        def __init__(self, policy: Policy, key: str = "cred:key_1") -> None:
            super().__init__(limiter, policy, key, loop)

    yield Bound
    loop.run_until_complete(limiter.aclose())
    loop.close()


def _admitted_over(caller: Caller, clock: FakeClock, seconds: float, step: float) -> int:
    """Requests admitted when trying every `step` seconds for `seconds` (a client retrying as fast as allowed)."""
    admitted = 0
    for _ in range(round(seconds / step)):
        clock.advance(step)
        admitted += caller.hit().allowed
    return admitted


def test_the_61st_sandbox_request_is_refused_with_retry_after_1(caller_for: type[Caller], clock: FakeClock) -> None:
    caller = caller_for(policies.for_credential(_principal("sandbox"), ""))
    decisions = caller.burst(60)
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == list(range(59, -1, -1))
    refused = caller.hit()
    assert not refused.allowed
    assert refused.remaining == 0
    assert refused.retry_after_us == 1_000_000
    assert refused.headers()["Retry-After"] == "1"
    assert refused.headers()["X-RateLimit-Reset"] == str(START_US // 1_000_000 + 60)
    clock.advance(0.999)
    assert not caller.hit().allowed
    clock.advance(0.001)
    assert caller.hit().allowed
    assert not caller.hit().allowed


def test_sandbox_settles_to_60_per_minute(caller_for: type[Caller], clock: FakeClock) -> None:
    caller = caller_for(policies.SANDBOX)
    caller.burst(61)
    assert _admitted_over(caller, clock, 60, 0.25) == 60
    assert _admitted_over(caller, clock, 120, 0.25) == 120


def test_free_absorbs_a_240_burst_then_settles_to_120_per_minute(caller_for: type[Caller], clock: FakeClock) -> None:
    caller = caller_for(policies.for_credential(_principal(), "free"))
    burst = caller.burst(241)
    assert [d.allowed for d in burst] == [True] * 240 + [False]
    assert burst[0].headers()["X-RateLimit-Limit"] == "120"
    assert burst[0].remaining == 239
    # Soft throttling: past the burst a client is never locked out for long, it is paced to one request per 0.5 s.
    assert burst[-1].retry_after_us == 500_000
    assert burst[-1].headers()["Retry-After"] == "1"
    assert _admitted_over(caller, clock, 60, 0.1) == 120
    assert _admitted_over(caller, clock, 60, 0.1) == 120


def test_free_budget_refills_fully_in_two_minutes(caller_for: type[Caller], clock: FakeClock) -> None:
    caller = caller_for(policies.PLANS["free"])
    drained = caller.burst(240)[-1]
    assert drained.reset_after_seconds == 120  # 240 requests at 2 per second
    clock.advance(120)
    again = caller.burst(241)
    assert sum(d.allowed for d in again) == 240


def test_business_allows_600_per_minute(caller_for: type[Caller], clock: FakeClock) -> None:
    caller = caller_for(policies.for_credential(_principal(), "business"))
    burst = caller.burst(601)
    assert [d.allowed for d in burst] == [True] * 600 + [False]
    assert burst[-1].retry_after_us == 100_000
    assert _admitted_over(caller, clock, 60, 0.05) == 600


def test_keys_have_separate_budgets(caller_for: type[Caller]) -> None:
    first = caller_for(policies.SANDBOX, key="cred:key_1")
    second = caller_for(policies.SANDBOX, key="cred:key_2")
    first.burst(60)
    assert not first.hit().allowed
    assert second.hit().allowed


@pytest.mark.redis
def test_two_redis_clients_share_one_budget(clock: FakeClock) -> None:
    if not REDIS_URL:
        pytest.skip("Redis tests need OG_TEST_REDIS_URL (set by .ci/run)")
    prefix = f"test:{secrets.token_hex(6)}"
    callers = [Caller(RateLimiter(RedisStore(REDIS_URL, clock=clock), prefix=prefix), policies.SANDBOX) for _ in "ab"]
    try:
        admitted = sum(callers[i % 2].hit().allowed for i in range(100))
        assert admitted == 60
    finally:
        for caller in callers:
            caller.close()


def test_policy_choice_per_environment_and_plan() -> None:
    assert policies.for_credential(_principal("sandbox"), "business") is policies.SANDBOX
    assert policies.for_credential(_principal(), "free").limit == 120
    assert policies.for_credential(_principal(), "business").limit == 600
    assert policies.for_credential(_principal(), "unknown-plan").name == "free"


def test_oauth_grants_are_limited_per_grant_like_api_keys() -> None:
    grant = _principal(credential_id="oag_01", kind="oauth")
    other = _principal(credential_id="oag_02", kind="oauth")
    assert policies.credential_key(grant, "10.0.0.1") == "cred:oag_01"
    assert policies.credential_key(other, "10.0.0.1") != policies.credential_key(grant, "10.0.0.1")


def test_sandbox_budgets_are_bound_to_the_client_ip() -> None:
    key = _principal("sandbox")
    assert policies.credential_key(key, "10.0.0.1") != policies.credential_key(key, "10.0.0.2")
    assert policies.credential_key(_principal(), "10.0.0.1") == policies.credential_key(_principal(), "10.0.0.2")


def test_the_multiplier_scales_rate_and_burst(clock: FakeClock) -> None:
    caller = Caller(RateLimiter(MemoryStore(clock), multiplier=0.5), policies.PLANS["free"])
    try:
        decisions = caller.burst(121)
        assert [d.allowed for d in decisions] == [True] * 120 + [False]
        assert decisions[0].headers()["X-RateLimit-Limit"] == "60"
    finally:
        caller.close()


def test_headers_follow_the_ietf_draft_and_the_legacy_trio(clock: FakeClock) -> None:
    caller = Caller(RateLimiter(MemoryStore(clock)), policies.SANDBOX)
    try:
        first = caller.hit()
        assert first.headers() == {
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": "59",
            "X-RateLimit-Reset": str(START_US // 1_000_000 + 1),
            "RateLimit-Policy": '"sandbox";q=60;w=60',
            "RateLimit": '"sandbox";r=59;t=1',
        }
    finally:
        caller.close()


def test_a_huge_multiplier_keeps_a_positive_interval(clock: FakeClock) -> None:
    caller = Caller(RateLimiter(MemoryStore(clock), multiplier=10**7), policies.PLANS["business"])
    try:
        assert caller.hit().allowed
    finally:
        caller.close()
