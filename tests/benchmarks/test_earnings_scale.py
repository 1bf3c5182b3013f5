"""The scale benchmark runs end to end at tiny sizes on PostgreSQL: its report has the shape the suite collects, and
the totals it measures answer exactly what the lines answer. Nothing is timed against a target here (issue 22)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import earnings_scale, rounds

POSTGRES_URL = os.environ.get("OG_TEST_POSTGRES_URL")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not POSTGRES_URL, reason="the scale benchmark needs OG_TEST_POSTGRES_URL")
def test_scale_benchmark_reports_every_operation_at_every_size(tmp_path: Path) -> None:
    assert POSTGRES_URL is not None
    report = tmp_path / "scale.json"
    arguments = ["--postgres", POSTGRES_URL, "--sizes", "1000,100", "--repeat", "1", "--json", str(report)]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.earnings_scale", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(report.read_text())
    assert document["name"] == "earnings_scale"
    metrics = document["metrics"]
    assert metrics["sizes"] == [100, 1000]
    assert metrics["exact"] == {"100": True, "1000": True}  # the totals equal the scan at both sizes
    operations = [*earnings_scale.MAINTAINED, *earnings_scale.SCANS]
    for timings in (metrics["ms"], metrics["analyzed"]["ms"]):
        assert set(timings) == set(operations)
        assert all(set(by_size) == {"100", "1000"} for by_size in timings.values())
    assert set(metrics["growth"]) == set(operations)
    assert set(metrics["within_goal"]) == set(earnings_scale.MAINTAINED)
    # The list's first page walks its index backwards, statistics or not.
    assert "ix_earnings_lines_tenant_id" in "\n".join(metrics["plans_without_statistics"]["list_page"])
    # What the suite folds into the component's `metrics`, and the Markdown table it shows.
    _comparisons, printed, output = rounds.parse_output(done.stdout)
    assert printed == metrics
    assert "| balance |" in output
    assert "BENCH_METRICS" not in output
