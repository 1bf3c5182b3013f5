"""The benchmark harness itself works (`nox -s bench -- --quick`): it cannot rot unnoticed between bench runs.

Nothing here is timed: the numbers are whatever the machine gives. The test checks that the harness starts the
servers, drives them with wrk, tells expected from unexpected statuses and writes the JSON document's shape.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# An artefact test (the load harness with wrk against a live server): the fast tier (`-m "not slow"`) leaves it out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"name", "requests_per_s", "p50_ms", "p99_ms", "errors", "server_rss_mb", "ratio", "reference"}
ROUND_FIELDS = {
    "round",
    "requests_per_s",
    "p50_ms",
    "p99_ms",
    "cpu_ms_per_request",
    "cpu_share",
    "load_average",
    "ratio",
}


@pytest.fixture(autouse=True)
def _wrk() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is missing in CI: .ci/run installs it with .ci/install-wrk")
        pytest.skip("wrk is not installed (run .ci/install-wrk)")


def test_quick_run_writes_every_scenario_with_its_ratio_to_the_bare_reference(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [
        sys.executable,
        "-m",
        "benchmarks.suite",
        "--quick",
        "--scenarios",
        "release_get,rate_limited,smartlink_click,smartlink_page,track_create",
    ]
    # Its own process group: if it hangs, the servers it started are stopped with it.
    process = subprocess.Popen(
        [*command, "--json", str(out)],
        cwd=ROOT,
        # The smoke run stays at the test suite's priority (a real run raises its own: benchmarks/priority.py).
        env={**{k: v for k, v in os.environ.items() if not k.startswith("OG_")}, "OG_BENCH_NICENESS": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"the quick benchmark run hung:\n{stdout}\n{stderr}")
    assert process.returncode == 0, stdout + stderr
    document = json.loads(out.read_text())
    scenarios = {s["name"]: s for s in document["scenarios"]}
    assert set(scenarios) == {
        "bare_reference",
        "release_get",
        "rate_limited",
        "bare_reference_smartlink_click",
        "smartlink_click",
        "bare_reference_smartlink_page",
        "smartlink_page",
        "track_create_bare",
        "track_create",
    }
    for scenario in scenarios.values():
        assert set(scenario) >= FIELDS
        assert scenario["requests_per_s"] > 0
        assert 0 < scenario["p50_ms"] <= scenario["p99_ms"]
        assert scenario["server_rss_mb"] > 0
        assert scenario["errors"] == 0, scenario  # every answer had the status its scenario expects
    assert scenarios["bare_reference"]["ratio"] == 1.0
    assert scenarios["release_get"]["statuses"] == {"200": scenarios["release_get"]["requests"]}
    assert scenarios["rate_limited"]["statuses"].get("429", 0) > 0.9 * scenarios["rate_limited"]["requests"]
    # Interleaved rounds (issue 24): --quick runs two, each scenario beside its reference in both.
    assert document["rounds"] == 2
    for name in ("release_get", "rate_limited", "smartlink_click", "smartlink_page", "track_create"):
        _assert_rounds(scenarios[name], scenarios[scenarios[name]["reference"]])
    assert scenarios["release_get"]["reference"] == "bare_reference"
    # A smart-link click is a 302 (wrk does not follow it), compared with its own twin (which redirects too).
    click = scenarios["smartlink_click"]
    assert click["statuses"] == {"302": click["requests"]}
    assert click["reference"] == "bare_reference_smartlink_click"
    # The upload's multipart body (binary, in the Lua script) reaches both servers whole: every answer is a 201.
    for name in ("track_create", "track_create_bare"):
        assert scenarios[name]["statuses"] == {"201": scenarios[name]["requests"]}, name
    assert scenarios["track_create"]["reference"] == "track_create_bare"
    assert "p99_ratio" in scenarios["track_create"]
    # The fans' HTML page is compared with its own twin (same reads, hit INSERT and template render).
    page = scenarios["smartlink_page"]
    assert page["statuses"] == {"200": page["requests"]}
    assert page["reference"] == "bare_reference_smartlink_page"
    # Capabilities still answering 501 would be listed, not measured; every one the harness knows has landed.
    assert document["backends"][0]["not_implemented_yet"] == {}
    assert "| release_get — authenticated GET /api/v1/releases/{id} | bare_reference |" in stdout
    assert "[SQLite] round 2/2 release_get" in stderr  # each round printed as it ran, with load and CPU share
    assert "load average" in stderr


def _assert_rounds(scenario: dict[str, Any], reference: dict[str, Any]) -> None:
    """Each round's ratio is to the reference measured beside it in that round; `ratio` is their median."""
    assert [r["round"] for r in scenario["rounds"]] == [0, 1]
    for measured in scenario["rounds"]:
        assert set(measured) >= ROUND_FIELDS
        beside = [r for r in reference["rounds"] if r["round"] == measured["round"] and r["pair"] == scenario["name"]]
        assert len(beside) == 1
        # Round 0 measures the reference first, round 1 the scenario first.
        assert beside[0]["position"] == (0 if measured["round"] == 0 else 1)
        expected = measured["requests_per_s"] / beside[0]["requests_per_s"]
        assert measured["ratio"] == pytest.approx(expected, abs=0.001)
    ratios = [r["ratio"] for r in scenario["rounds"]]
    assert scenario["ratio"] == scenario["ratio_median"] == pytest.approx(statistics.median(ratios), abs=0.001)
    assert scenario["ratio_spread"]["min"] == min(ratios)
    assert scenario["ratio_spread"]["max"] == max(ratios)
    assert scenario["unstable"] == (scenario["ratio_spread"]["iqr_relative"] > scenario["spread_bound"])
