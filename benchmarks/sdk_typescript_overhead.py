# ruff: noqa: S603, S607  (a benchmark runs npm and node from PATH, as the test suite does)
"""TypeScript SDK call overhead: `client.persons.get(id)` through @og/api-sdk against the same GET with raw `fetch`.

    python -m benchmarks.sdk_typescript_overhead [--requests 2000]

Builds the SDK (sdk-typescript/dist; first `npm ci` there when its pinned TypeScript is not installed), starts a
real server (uvicorn subprocess, SQLite in a temporary directory), creates an account and a person, then times both
clients in rounds interleaved call by call from one Node process (keep-alive connections, warmed up) and prints a
Markdown table and a `BENCH_RESULT` line (benchmarks/rounds.py): each round's ratio is the SDK's median call over raw
fetch's in that round, the result their median and spread. Target:
the SDK takes at most 1.3x the time of raw fetch.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import rounds  # noqa: E402
from tests.conftest import server_env, start_server, stop_server  # noqa: E402

TARGET = 1.3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="calls per client (split into the rounds)")
    # Many short rounds (100 calls per client each by default): enough rounds for the median to ignore hit ones.
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    sdk = ROOT / "sdk-typescript"
    if not (sdk / "node_modules" / ".bin" / "tsc").exists():
        # A fresh clone has no build tools for the SDK: install its own pinned ones, as the SDK test does (the
        # benchmark failed with "tsc: not found" on a machine where no test had run before it).
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=sdk, check=True)
    subprocess.run(["npm", "run", "--silent", "build"], cwd=sdk, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        # Rate limits would measure the limiter's patience, not the SDK: raise them far above the load.
        env = server_env(Path(tmp), OG_RATE_LIMIT_MULTIPLIER="1000")
        created = subprocess.run(
            [sys.executable, "-m", "server.cli", "accounts", "create", "--name", "Bench", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        key = json.loads(created.stdout)["api_key"]["secret"]
        server = start_server(env, ["serve", "--no-seed"])
        try:
            person = httpx.post(
                f"{server.base_url}/api/v1/persons",
                json={"name": "Bench Person", "email": "bench@example.com"},
                headers={"Authorization": f"Bearer {key}"},
            ).json()
            result = subprocess.run(
                ["node", str(Path(__file__).with_suffix(".mjs"))],
                env={
                    **os.environ,
                    "OG_BENCH_BASE_URL": server.base_url,
                    "OG_BENCH_API_KEY": key,
                    "OG_BENCH_PERSON_ID": person["id"],
                    "OG_BENCH_REQUESTS": str(args.requests),
                    "OG_BENCH_ROUNDS": str(args.rounds),
                },
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            stop_server(server)
    found = json.loads(result.stdout)
    stats = found["stats"]
    raw = stats["raw fetch"]
    print(f"TypeScript SDK overhead: GET /api/v1/persons/{{id}}, {raw['n']} calls each, Node {node_version()}\n")
    print("| client | mean (ms) | p50 (ms) | p95 (ms) | mean vs raw fetch |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, row in stats.items():
        ratio = row["mean"] / raw["mean"]
        print(f"| {name} | {row['mean']:.3f} | {row['p50']:.3f} | {row['p95']:.3f} | {ratio:.2f}x |")
    comparison = rounds.comparison(
        "sdk_typescript_overhead",
        "raw fetch",
        [round(r["sdk_ms"] / r["raw_ms"], 4) for r in found["rounds"]],
        ratio_of="SDK median call / raw fetch median call (lower is better; target ≤ 1.3)",
        rounds=[{**r, "ratio": round(r["sdk_ms"] / r["raw_ms"], 4)} for r in found["rounds"]],
        bound=float(os.environ.get("OG_BENCH_SPREAD_BOUND", rounds.SPREAD_BOUND)),
        load_average=os.getloadavg()[0],
    )
    ratio = comparison["ratio_median"]
    verdict = "unstable, not judged" if comparison["unstable"] else ("met" if ratio <= TARGET else "MISSED")
    print(
        "\nPer round (median SDK call / median raw call): "
        + ", ".join(f"{r['ratio']:.2f}x" for r in comparison["rounds"])
        + f"; median {ratio:.2f}x, spread {rounds.describe(comparison['ratio_spread'])}."
    )
    print(f"Target ≤ {TARGET}x on the rounds' median: {verdict} ({ratio:.2f}x).")
    print(rounds.result_line(comparison))
    print(rounds.metrics_line({"ratio": ratio}))
    return 0


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
