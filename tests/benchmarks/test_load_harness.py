"""The benchmark harness itself works (`nox -s bench -- --quick`): it cannot rot unnoticed between bench runs.

Nothing here is timed: the numbers are whatever the machine gives. The test checks that the harness starts the
servers, drives them with wrk, tells expected from unexpected statuses and writes the JSON document's shape.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# An artefact test (the load harness with wrk against a live server): the fast tier (`-m "not slow"`) leaves it out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"name", "requests_per_s", "p50_ms", "p99_ms", "errors", "server_rss_mb", "ratio"}


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
        "release_get,rate_limited,smartlink_click,smartlink_page",
    ]
    # Its own process group: if it hangs, the servers it started are stopped with it.
    process = subprocess.Popen(
        [*command, "--json", str(out)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("OG_")},
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
        "bare_reference_smartlink",
        "smartlink_click",
        "bare_reference_smartlink_page",
        "smartlink_page",
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
    expected_ratio = scenarios["release_get"]["requests_per_s"] / scenarios["bare_reference"]["requests_per_s"]
    assert scenarios["release_get"]["ratio"] == pytest.approx(expected_ratio, abs=0.001)
    # A smart-link click is a 302 (wrk does not follow it), compared with the bare smart-link route.
    click, bare_link = scenarios["smartlink_click"], scenarios["bare_reference_smartlink"]
    assert click["statuses"] == {"302": click["requests"]}
    assert click["ratio"] == pytest.approx(click["requests_per_s"] / bare_link["requests_per_s"], abs=0.001)
    # The fans' HTML page is compared with its own twin (same reads, hit INSERT and template render).
    page, bare_page = scenarios["smartlink_page"], scenarios["bare_reference_smartlink_page"]
    assert page["statuses"] == {"200": page["requests"]}
    assert page["ratio"] == pytest.approx(page["requests_per_s"] / bare_page["requests_per_s"], abs=0.001)
    # Capabilities still answering 501 would be listed, not measured; every one the harness knows has landed.
    assert document["backends"][0]["not_implemented_yet"] == {}
    assert "| release_get — authenticated GET /api/v1/releases/{id} |" in stdout
