"""The cheap component micro-benchmarks run and hand the suite their figures (`components[].metrics`), so a bench run
cannot find one of them broken (the API-key benchmark was, unnoticed, after issue 21 moved its error type).

Nothing here is timed: each runs with a few hundred requests, and the test checks what a program comparing runs
reads — the figures' names and that they are numbers — and the behaviour each one reports (a revoked key refused)."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import rounds, suite

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("module", "arguments", "figures"),
    [
        ("benchmarks.auth", ["--requests", "200"], {"auth_median_ms", "auth_p99_ms", "auth_cpu_median_ms"}),
        ("benchmarks.limiter", ["--requests", "500"], {"in_process_added_us"}),
        (
            "benchmarks.request_log",
            ["--requests", "500", "--entries", "500"],
            {"record_added_us", "record_added_cpu_us", "writer_entries_per_s"},
        ),
    ],
)
def test_a_component_prints_its_figures_for_the_suite(module: str, arguments: list[str], figures: set[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    _comparisons, metrics, markdown = rounds.parse_output(done.stdout)
    assert figures <= metrics.keys()
    # Numbers, not their size: an added cost is a difference of two timings and may come out at or below zero.
    assert all(isinstance(metrics[name], int | float) and math.isfinite(metrics[name]) for name in figures)
    assert "BENCH_" not in markdown
    assert markdown.startswith("|")
    if module == "benchmarks.auth":
        assert metrics["revoked_refused_at_once"] is True


def test_every_listed_component_is_a_module_of_the_harness() -> None:
    for _name, (module, *_arguments) in suite.components(None, "postgresql://postgres@127.0.0.1/test"):
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), module
