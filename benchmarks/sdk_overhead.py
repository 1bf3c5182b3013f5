"""SDK call overhead: `client.persons.get(id)` through og-records against the same GET with raw httpx.

    python -m benchmarks.sdk_overhead [--requests 2000]

Starts a real server (uvicorn subprocess, SQLite in a temporary directory), creates an account and a person, then
times both clients in rounds over one keep-alive connection each, interleaved call by call (benchmarks/rounds.py), and
prints a Markdown table and a `BENCH_RESULT` line: each round's ratio is the SDK's median call over raw httpx's median
call in that round; the result is the rounds' median with its spread. Target: the SDK takes at most 1.3x the time
of raw httpx per call. Run it from the repository root (og_records is imported
from sdk-python/, which needs httpx, attrs and python-dateutil).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "sdk-python"))
sys.path.insert(0, str(ROOT))

from og_records import OGRecords  # noqa: E402
from og_records.models import PersonCreate  # noqa: E402

from benchmarks import rounds  # noqa: E402
from tests.conftest import server_env, start_server, stop_server  # noqa: E402

TARGET = 1.3


def _time_calls(call: Callable[[], object], count: int) -> list[float]:
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="calls per client (split into the rounds)")
    # Many short rounds (100 calls per client each by default): enough rounds for the median to ignore hit ones.
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    round_ratios: list[tuple[int, float, float]] = []  # (round, raw median, SDK median)
    with tempfile.TemporaryDirectory() as tmp:
        # Rate limits would measure the limiter's patience, not the SDK: raise them far above the load.
        env = server_env(Path(tmp), OG_RATE_LIMIT_MULTIPLIER="1000")
        server = start_server(env, ["serve", "--no-seed"])
        try:
            created = subprocess.run(
                [sys.executable, "-m", "server.cli", "accounts", "create", "--name", "Bench", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            key = json.loads(created.stdout)["api_key"]["secret"]
            with (
                OGRecords(api_key=key, base_url=server.base_url) as sdk,
                httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}) as raw,
            ):
                person = sdk.persons.create(body=PersonCreate(name="Bench", email="bench@example.com"))

                def raw_get() -> object:
                    response = raw.get(f"/api/v1/persons/{person.id}")
                    response.raise_for_status()
                    return response.json()

                def sdk_get() -> object:
                    return sdk.persons.get(person.id)

                for warm in (raw_get, sdk_get):
                    _time_calls(warm, 50)
                per_round = max(args.requests // args.rounds, 1)
                raw_times: list[float] = []
                sdk_times: list[float] = []
                for number in range(args.rounds):
                    # Interleaved call by call (A B A B …, the first side alternating between rounds): a single
                    # call is latency-bound, so even a round of a few hundred calls in a row saw the machine change
                    # under it; side by side, both see the same moments.
                    raw_round: list[float] = []
                    sdk_round: list[float] = []
                    for call in range(per_round):
                        pair = ((raw_get, raw_round), (sdk_get, sdk_round))
                        for function, into in pair if (call + number) % 2 == 0 else pair[::-1]:
                            into.extend(_time_calls(function, 1))
                    raw_times += raw_round
                    sdk_times += sdk_round
                    round_ratios.append((number, statistics.median(raw_round), statistics.median(sdk_round)))
        finally:
            stop_server(server)
    raw_median, sdk_median = statistics.median(raw_times), statistics.median(sdk_times)
    raw_p95 = statistics.quantiles(raw_times, n=20)[18]
    sdk_p95 = statistics.quantiles(sdk_times, n=20)[18]
    result = rounds.comparison(
        "sdk_overhead",
        "raw httpx",
        [round(sdk / raw, 4) for _n, raw, sdk in round_ratios],
        ratio_of="SDK median call / raw httpx median call (lower is better; target ≤ 1.3)",
        rounds=[
            {"round": n, "raw_ms": round(raw * 1000, 4), "sdk_ms": round(sdk * 1000, 4), "ratio": round(sdk / raw, 4)}
            for n, raw, sdk in round_ratios
        ],
        bound=float(os.environ.get("OG_BENCH_SPREAD_BOUND", rounds.SPREAD_BOUND)),
        load_average=os.getloadavg()[0],
    )
    ratio = result["ratio_median"]
    print(f"SDK overhead, GET /api/v1/persons/{{id}}, {len(raw_times)} calls each in {args.rounds} rounds\n")
    print("| client | median (ms) | p95 (ms) | ratio to raw httpx |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| raw httpx | {raw_median * 1000:.3f} | {raw_p95 * 1000:.3f} | 1.00x |")
    print(f"| og-records SDK | {sdk_median * 1000:.3f} | {sdk_p95 * 1000:.3f} | {ratio:.2f}x (rounds' median) |")
    verdict = "unstable, not judged" if result["unstable"] else ("met" if ratio <= TARGET else "NOT met")
    print(
        f"\nSDK-side cost per call: {(sdk_median - raw_median) * 1e6:.0f} µs; per round "
        + ", ".join(f"{r['ratio']:.2f}x" for r in result["rounds"])
        + f", spread {rounds.describe(result['ratio_spread'])} (target ratio ≤ {TARGET}x: {verdict})"
    )
    print(rounds.result_line(result))
    print(
        rounds.metrics_line(
            {"raw_median_ms": round(raw_median * 1000, 4), "sdk_median_ms": round(sdk_median * 1000, 4), "ratio": ratio}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
