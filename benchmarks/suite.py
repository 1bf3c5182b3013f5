# ruff: noqa: S603  (the suite runs our own benchmark modules with our own interpreter)
"""The whole benchmark suite in one Markdown report (what `nox -s bench` runs).

    python -m benchmarks.suite [--json PATH] [--quick] [--postgres [URL]] [--redis URL] [--rounds 5] [--seconds 3]
                               [--warmup 2] [--round-warmup 1] [--spread-bound 0.2] [--connections 16]
                               [--scenarios a,b] [--skip-components]

1. HTTP load (benchmarks/load.py): every scenario interleaved with its bare reference in rounds, on SQLite, and on
   PostgreSQL + Redis too when --postgres is given or OG_TEST_POSTGRES_URL is set (Redis from --redis or
   OG_TEST_REDIS_URL).
2. The component micro-benchmarks of the other issues (auth, limiter, releases QC, webhook delivery, Python and
   TypeScript SDK overhead), each run as its own process; their Markdown tables are folded into the report and,
   parsed into rows, into the JSON document. Those that compare against a floor (SDK against a raw call, QC against
   decoding, webhook delivery against wrk posting to the same receiver) measure in interleaved rounds too and print a
   `BENCH_RESULT` line each (benchmarks/rounds.py), collected as the component's `comparisons`. With PostgreSQL,
   the earnings scale benchmark too (benchmarks/earnings_scale.py), whose `BENCH_METRICS` line (its times per
   operation and history size) becomes the component's `metrics`.

--quick is the harness's smoke run: two rounds of 1 s per load scenario on SQLite, no components.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import load, rounds
from benchmarks.priority import raise_priority

ROOT = Path(__file__).resolve().parents[1]


def components(redis_url: str | None, postgres_url: str | None = None) -> list[tuple[str, list[str]]]:
    """(name, module arguments) of each component micro-benchmark, in report order; those that need PostgreSQL
    only when it is given."""
    return [
        ("auth", ["benchmarks.auth"]),
        ("limiter", ["benchmarks.limiter", *(["--redis", redis_url] if redis_url else [])]),
        ("request_log", ["benchmarks.request_log"]),
        ("releases_qc", ["benchmarks.releases_qc"]),
        ("webhooks", ["benchmarks.webhooks"]),
        ("sdk_overhead", ["benchmarks.sdk_overhead"]),
        ("sdk_typescript_overhead", ["benchmarks.sdk_typescript_overhead"]),
        *([("earnings_scale", ["benchmarks.earnings_scale", "--postgres", postgres_url])] if postgres_url else []),
    ]


def markdown_tables(text: str) -> list[list[dict[str, str]]]:
    """The Markdown tables in a component's output, each as a list of rows keyed by the header cells."""
    tables: list[list[dict[str, str]]] = []
    header: list[str] | None = None
    for line in [*text.splitlines(), ""]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.strip().startswith("|") else None
        if cells is None:
            header = None
        elif header is None:
            header = cells
            tables.append([])
        elif not all(set(cell) <= set("-: ") for cell in cells):
            tables[-1].append(dict(zip(header, cells, strict=False)))
    return tables


def run_component(name: str, module_args: list[str], spread_bound: float = rounds.SPREAD_BOUND) -> dict[str, Any]:
    started = time.monotonic()
    load_before = load.load_average()
    done = subprocess.run(
        [sys.executable, "-m", *module_args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
        env={**os.environ, "OG_BENCH_SPREAD_BOUND": str(spread_bound)},
    )
    comparisons, metrics, output = rounds.parse_output(done.stdout)
    return {
        "name": name,
        "command": "python -m " + " ".join(module_args),
        "ok": done.returncode == 0,
        "seconds": round(time.monotonic() - started, 1),
        "load_average": load_before,
        "output": output if done.returncode == 0 else (output + "\n" + done.stderr).strip()[-3000:],
        "tables": markdown_tables(output) if done.returncode == 0 else [],
        # Each comparison against a floor: name, reference, ratio_of, ratio (= ratio_median), ratio_spread,
        # unstable, rounds (benchmarks/rounds.py).
        "comparisons": comparisons,
        # The component's key figures by name (each component's `BENCH_METRICS` line): what a program compares
        # between runs, e.g. webhooks' deliveries_per_s, floor_per_s and first_attempt_p50_ms, earnings_scale's ms
        # per operation and history size.
        "metrics": metrics,
    }


def comparison_line(found: dict[str, Any]) -> str:
    """The one-line summary of a component's comparison against its floor, as the load scenarios get."""
    status = "**unstable**" if found["unstable"] else "stable"
    return (
        f"\n- {found['name']} against {found['reference']} ({found['ratio_of']}): median "
        f"{found['ratio_median']:.2f} over {len(found['rounds'])} rounds, "
        f"spread {rounds.describe(found['ratio_spread'])}"
        f" — {status}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 s per scenario, SQLite, no components")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=os.environ.get("OG_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test",
        default=os.environ.get("OG_TEST_POSTGRES_URL"),
        help="also run the load on PostgreSQL (admin URL; default OG_TEST_POSTGRES_URL)",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("OG_TEST_REDIS_URL") or os.environ.get("OG_REDIS_URL"),
        help="Redis URL: the rate limiter's store with PostgreSQL, and the limiter micro-benchmark",
    )
    load.add_round_options(parser)
    parser.add_argument("--scenarios", help="comma-separated load scenarios (default: all)")
    parser.add_argument("--skip-components", action="store_true", help="only the HTTP load scenarios")
    args = parser.parse_args(argv)
    if args.quick:  # two rounds, so the interleaving and its aggregation run too
        args.rounds, args.seconds, args.warmup, args.round_warmup = 2, 1, 0, 0
        args.postgres, args.skip_components = None, True
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    priority = raise_priority()  # inherited by the servers, wrk and the component benchmarks started below
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    backends: list[dict[str, str | None]] = [{}]  # SQLite
    if args.postgres:
        backends.append({"postgres": args.postgres, "redis": args.redis})
    sections = [
        f"# OG Records benchmarks ({started}, {os.cpu_count()} CPUs, load average at start {load.load_average():.2f})",
        "",
        "Throughput ratios are to each scenario's bare reference, measured beside it in interleaved rounds; the "
        "ratio is the rounds' median, with their spread, and a spread wider than the bound marks the scenario "
        "unstable (docs/benchmarks.md). Absolute numbers drift with the machine and its other load (the load average "
        "is noted for every round).",
        "",
        f"Priority: niceness {priority['niceness']} for the harness and everything it starts"
        + ("" if priority["raised"] else f" (not raised: {priority['why']})")
        + " (benchmarks/priority.py).",
    ]
    document: dict[str, Any] = {
        "generated_at": started,
        "cpus": os.cpu_count(),
        "priority": priority,
        "rounds": args.rounds,
        "spread_bound": args.spread_bound,
        "scenarios": [],
        "backends": [],
    }
    for backend in backends:
        report, result = load.run(
            seconds=args.seconds,
            warmup=args.warmup,
            connections=args.connections,
            rounds_=args.rounds,
            round_warmup=args.round_warmup,
            spread_bound=args.spread_bound,
            scenarios=args.scenarios,
            **backend,
        )
        sections += ["", report]
        document["scenarios"] += result["scenarios"]
        document["backends"].append({k: v for k, v in result.items() if k != "scenarios"})
    if not args.skip_components:
        document["components"] = []
        sections += ["", "## Component micro-benchmarks"]
        for name, module_args in components(args.redis, args.postgres):
            component = run_component(name, module_args, args.spread_bound)
            document["components"].append(component)
            status = "" if component["ok"] else " — FAILED"
            sections += [
                "",
                f"### {name}{status} (`{component['command']}`, load average {component['load_average']:.2f})",
                "",
                component["output"],
            ]
            sections += [comparison_line(c) for c in component["comparisons"]]
    print("\n".join(sections))
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    failed = [c["name"] for c in document.get("components", []) if not c["ok"]]
    if failed:
        print(f"\nFailed components: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
