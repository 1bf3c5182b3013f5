"""Median added cost per request of the rate limiter, in-process and with Redis; prints a Markdown table.

    .venv/bin/python -m benchmarks.limiter [--redis redis://127.0.0.1:6379/0] [--requests 20000]

"Added cost" is measured through the middleware on a trivial ASGI app: the median time of a request with the
limiter minus the median without it (same app, same loop). The credential is resolved by a stub, so the number is
the limiter's own cost (policy choice, store decision, headers), not authentication. Targets (issue 4): ≤0.1 ms
in-process, ≤0.5 ms with Redis on loopback.
"""

import argparse
import asyncio
import os
import secrets
import statistics
import time
from typing import Any

from benchmarks import rounds
from server.principal import Principal
from server.ratelimit.limiter import RateLimiter
from server.ratelimit.middleware import RateLimitMiddleware
from server.ratelimit.stores import MemoryStore, RedisStore, Store

PRINCIPAL = Principal("acct_bench", "production", frozenset(), "key_bench", "api_key", plan="business")
DOCUMENT: dict[str, Any] = {"security": [{"apiKey": []}], "paths": {"/api/v1/things": {"get": {}}}}
SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "GET",
    "path": "/api/v1/things",
    "headers": [(b"authorization", b"Bearer og_live_bench")],
    "client": ("127.0.0.1", 1234),
}


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _resolve(scope: Any, token: str) -> Principal:
    return PRINCIPAL


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _send(message: Any) -> None:
    return None


async def _median_us(app: Any, requests: int) -> float:
    samples = []
    for _ in range(requests):
        started = time.perf_counter_ns()
        await app(dict(SCOPE), _receive, _send)
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


async def _added_cost_us(store: Store, requests: int) -> float:
    # A huge multiplier: the benchmark measures admitted requests, never 429s.
    limiter = RateLimiter(store, multiplier=1000, prefix=f"bench:{secrets.token_hex(4)}")
    limited = RateLimitMiddleware(_app, limiter=limiter, document=DOCUMENT, resolve_credential=_resolve)
    await _median_us(limited, min(requests, 1000))  # warm up (connections, script load)
    bare = await _median_us(_app, requests)
    with_limiter = await _median_us(limited, requests)
    await limiter.aclose()
    return with_limiter - bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default=os.environ.get("OG_TEST_REDIS_URL"), help="Redis URL (default: none)")
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    rows = [("in-process", asyncio.run(_added_cost_us(MemoryStore(), args.requests)), 100.0)]
    if args.redis:
        rows.append(("Redis (loopback)", asyncio.run(_added_cost_us(RedisStore(args.redis), args.requests)), 500.0))
    print("| store | median added cost per request | target | met |")
    print("| --- | --- | --- | --- |")
    for name, cost, target in rows:
        print(f"| {name} | {cost:.1f} µs | ≤{target:.0f} µs | {'yes' if cost <= target else 'no'} |")
    if not args.redis:
        print("\n(Redis not measured: pass --redis URL or set OG_TEST_REDIS_URL.)")
    keys = {"in-process": "in_process_added_us", "Redis (loopback)": "redis_added_us"}
    print(rounds.metrics_line({keys[name]: round(cost, 2) for name, cost, _target in rows}))


if __name__ == "__main__":
    main()
