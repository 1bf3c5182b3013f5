"""Webhook delivery: deliveries per second of one worker process against its floor, and commit-to-first-attempt latency.

    python -m benchmarks.webhooks [--events 2000] [--samples 50] [--rounds 4] [--floor-seconds 2]

Throughput is measured in interleaved rounds (A B, B A, …: benchmarks/rounds.py) against its floor: `wrk` POSTing a
signed payload of the same kind to the same local receiver (16 keep-alive connections) — what the receiver can take
at all. Each round drains `--events / --rounds` events with one worker and runs wrk for `--floor-seconds`, the order
alternating; each round's ratio is deliveries/s over the floor's requests/s, the result their median and spread (a
`BENCH_RESULT` line).

Runs on a fresh SQLite database, and on PostgreSQL too when OG_TEST_POSTGRES_URL is set (a scratch database is
created and dropped). The receiver is a local HTTP server on 127.0.0.1 answering 200 at once. Prints Markdown.
"""

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.synchronize
import os
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks import rounds, scratch, wrk
from benchmarks.wrk import HttpRequest
from server import clock
from server.config import Settings
from server.db import engine as db
from server.db.engine import session_scope
from server.db.migrate import upgrade_to_head
from server.principal import Principal
from server.services import accounts, events, webhook_endpoints
from server.webhooks import signing, signing_secrets, wakeup
from server.webhooks.worker import DEFAULT_POLL_SECONDS, Worker
from tests.webhooks.receiver import running_receiver


@contextmanager
def _databases(scratch_dir: Path) -> Iterator[list[tuple[str, str]]]:
    """SQLite, and a scratch PostgreSQL database when OG_TEST_POSTGRES_URL names a server."""
    found = [("SQLite", f"sqlite:///{scratch_dir / 'bench.sqlite3'}")]
    admin_url = os.environ.get("OG_TEST_POSTGRES_URL")
    if not admin_url:
        yield found
        return
    with scratch.postgres_database(admin_url) as url:
        found.append(("PostgreSQL", scratch.psycopg_url(url)))
        try:
            yield found
        finally:
            db.engine_for(found[-1][1]).dispose()


def _tenant(url: str) -> Principal:
    with session_scope() as session:
        account, _user, _password = accounts.create_account(
            session, name="Bench", email=f"bench-{secrets.token_hex(4)}@example.com", password="x" * 12, mock_data=False
        )
        principal = Principal(account.id, "sandbox", frozenset(), "bench", "api_key")
        webhook_endpoints.create(session, principal, {"url": url, "enabled_events": ["*"]})
    return principal


def _emit(principal: Principal, count: int) -> None:
    with session_scope() as session:
        for i in range(count):
            events.emit(session, principal, "person.created", {"id": f"per_{i}", "object": "person"})


def _serve(urls: "multiprocessing.Queue[str]", stop: "multiprocessing.synchronize.Event") -> None:
    with running_receiver() as receiver:
        urls.put(receiver.url)
        stop.wait()


@contextmanager
def _receiver_process() -> Iterator[str]:
    """A receiver in its own process, so it does not compete with the measured worker for the GIL."""
    context = multiprocessing.get_context("spawn")
    urls: multiprocessing.Queue[str] = context.Queue()
    stop = context.Event()
    process = context.Process(target=_serve, args=(urls, stop))
    process.start()
    try:
        yield urls.get(timeout=30)
    finally:
        stop.set()
        process.join(timeout=10)


def floor(url: str, seconds: int, workdir: Path) -> float:
    """Requests/s that wrk reaches POSTing a signed event of the same shape to the receiver: the delivery's floor."""
    body = json.dumps(
        {
            "id": "evt_bench",
            "object": "event",
            "type": "person.created",
            "created_at": clock.now().isoformat(),
            "data": {"object": {"id": "per_bench", "object": "person"}},
        }
    ).encode()
    headers = signing.headers([signing_secrets.generate()], "msg_bench", clock.now(), body)
    parts = urlsplit(url)
    script = workdir / "webhook-floor.lua"
    request = HttpRequest("POST", parts.path, {**headers, "Content-Type": "application/json"}, body.decode())
    wrk.write_script(script, [request])
    result = wrk.run(f"{parts.scheme}://{parts.netloc}", script, seconds=seconds, connections=16, cpu=None)
    return result.requests_per_s


def throughput_rounds(
    settings: Settings, count: int, count_rounds: int, floor_seconds: int, workdir: Path
) -> list[dict[str, Any]]:
    """Deliveries/s and the floor in interleaved rounds, each round on a fresh receiver process of its own."""
    measured = []
    per_round = max(count // count_rounds, 1)
    for number in range(count_rounds):
        with _receiver_process() as url:
            found: dict[str, float] = {}
            for side in ("floor", "worker") if number % 2 == 0 else ("worker", "floor"):
                if side == "floor":
                    found["floor_per_s"] = floor(url, floor_seconds, workdir)
                else:
                    found["deliveries_per_s"] = _drain(settings, url, per_round)
        measured.append(
            {
                "round": number,
                "deliveries_per_s": round(found["deliveries_per_s"], 1),
                "floor_per_s": round(found["floor_per_s"], 1),
                "ratio": round(found["deliveries_per_s"] / found["floor_per_s"], 4) if found["floor_per_s"] else 0.0,
                "load_average": os.getloadavg()[0],
            }
        )
    return measured


def throughput(settings: Settings, count: int) -> float:
    with _receiver_process() as url:
        return _drain(settings, url, count)


def _drain(settings: Settings, url: str, count: int) -> float:
    """Deliveries/s of one worker draining `count` fresh events to `url`."""
    principal = _tenant(url)
    _emit(principal, count)

    async def drain() -> float:
        worker = Worker.from_settings(settings)
        began = time.perf_counter()
        delivered = await worker.run_until_idle()
        elapsed = time.perf_counter() - began
        await worker.aclose()
        assert delivered == count, (delivered, count)
        return elapsed

    elapsed = asyncio.run(drain())
    return count / elapsed


def latency(settings: Settings, samples: int, *, nudged: bool) -> tuple[float, float]:
    """p50 and p95 in ms from the commit of an event to its request arriving, with an idle queue."""
    with running_receiver() as receiver:
        principal = _tenant(receiver.url)
        loop_ready = threading.Event()
        holder: dict[str, object] = {}

        def run_worker() -> None:
            async def main() -> None:
                stop = asyncio.Event()
                holder["stop"], holder["loop"] = stop, asyncio.get_running_loop()
                loop_ready.set()
                worker = Worker.from_settings(settings)
                try:
                    await worker.run_forever(stop)
                finally:
                    await worker.aclose()

            asyncio.run(main())

        thread = threading.Thread(target=run_worker)
        thread.start()
        loop_ready.wait()
        original_notify = wakeup.notify
        if not nudged:  # as a worker in another process: polling (SQLite) or PostgreSQL's NOTIFY finds the row
            wakeup.notify = lambda: None
        try:
            results = []
            for i in range(samples):
                time.sleep(0.3 + (i % 5) * 0.037)  # idle queue, and commits at varied points of the poll cycle
                _emit(principal, 1)
                committed = time.monotonic()
                receiver.wait_for(i + 1, timeout=10)
                results.append((receiver.requests[i].at - committed) * 1000)
        finally:
            wakeup.notify = original_notify
            loop = holder["loop"]
            stop = holder["stop"]
            assert isinstance(loop, asyncio.AbstractEventLoop)
            assert isinstance(stop, asyncio.Event)
            loop.call_soon_threadsafe(stop.set)
            thread.join()
    quantiles = statistics.quantiles(results, n=20)
    return statistics.median(results), quantiles[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="events drained, split over the rounds")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds of delivery and its floor")
    parser.add_argument("--floor-seconds", type=int, default=2, help="seconds of wrk per round for the floor")
    args = parser.parse_args()
    rows = []
    comparisons = []
    bound = float(os.environ.get("OG_BENCH_SPREAD_BOUND", rounds.SPREAD_BOUND))
    with tempfile.TemporaryDirectory() as scratch_dir, _databases(Path(scratch_dir)) as databases:
        for label, url in databases:
            settings = scratch.settings(url, Path(scratch_dir), webhooks_allow_loopback=True)
            db.configure(settings)
            upgrade_to_head(url)
            measured = throughput_rounds(settings, args.events, args.rounds, args.floor_seconds, Path(scratch_dir))
            comparison = rounds.comparison(
                "webhooks" if label == "SQLite" else f"webhooks ({label})",
                "wrk POSTing to the same receiver",
                [r["ratio"] for r in measured],
                ratio_of="deliveries/s of one worker / requests/s of wrk to the same receiver (higher is better)",
                rounds=measured,
                bound=bound,
                deliveries_per_s=statistics.median(r["deliveries_per_s"] for r in measured),
                floor_per_s=statistics.median(r["floor_per_s"] for r in measured),
            )
            comparisons.append(comparison)
            p50, p95 = latency(settings, args.samples, nudged=True)
            poll_p50, poll_p95 = latency(settings, args.samples, nudged=False)
            rows.append((label, comparison, p50, p95, poll_p50, poll_p95))
    print(
        f"### Webhook delivery ({args.events} events in {args.rounds} rounds against wrk's floor, {args.samples} "
        "latency samples, local receiver)\n"
    )
    print(
        "| database | deliveries/s (1 worker process; rounds' median) | floor: wrk to the receiver, req/s "
        "| ratio to the floor (median; spread) | commit→first attempt p50 / p95, embedded worker "
        "| same, worker in another process (PostgreSQL: woken by NOTIFY; SQLite: polling) |"
    )
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for label, found, p50, p95, poll_p50, poll_p95 in rows:
        status = " — **unstable**" if found["unstable"] else ""
        print(
            f"| {label} | {found['deliveries_per_s']:.0f} | {found['floor_per_s']:.0f} | {found['ratio_median']:.2f}; "
            f"{rounds.describe(found['ratio_spread'])}{status} | {p50:.0f} ms / {p95:.0f} ms "
            f"| {poll_p50:.0f} ms / {poll_p95:.0f} ms |"
        )
    print(
        "\nTargets: at least 200 deliveries/s per worker; p50 at most 200 ms with an idle queue. "
        f"Workers poll every {DEFAULT_POLL_SECONDS} s; the embedded one is also woken by the commit, and on PostgreSQL "
        "every worker by the database's NOTIFY at commit."
    )
    for found in comparisons:
        print(rounds.result_line(found))
    by_database = {
        label: {
            "deliveries_per_s": round(found["deliveries_per_s"], 1),
            "floor_per_s": round(found["floor_per_s"], 1),
            "ratio": found["ratio_median"],
            "first_attempt_p50_ms": round(p50, 1),
            "first_attempt_p95_ms": round(p95, 1),
            "other_process_first_attempt_p50_ms": round(poll_p50, 1),
            "other_process_first_attempt_p95_ms": round(poll_p95, 1),
        }
        for label, found, p50, p95, poll_p50, poll_p95 in rows
    }
    # The first database's (SQLite's) figures at the top, as the example reads them; every database's below.
    print(rounds.metrics_line({**next(iter(by_database.values()), {}), "by_database": by_database}))


if __name__ == "__main__":
    main()
