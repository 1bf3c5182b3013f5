"""A benchmark run raises its priority so that the other load on the machine does not decide its ratios; what it
starts afterwards (the servers, wrk) must inherit that priority, and the report must say what it got."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, os, subprocess, sys
from benchmarks.priority import raise_priority
got = raise_priority(int(sys.argv[1]))
child = subprocess.run([sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"],
                       capture_output=True, text=True, check=True)
print(json.dumps({"got": got, "own": os.getpriority(os.PRIO_PROCESS, 0), "child": int(child.stdout)}))
"""


def _probe(niceness: int, **env: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(niceness)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_raised_priority_is_what_the_report_says_and_what_started_processes_inherit() -> None:
    before = os.getpriority(os.PRIO_PROCESS, 0)
    result = _probe(before - 1)
    got = result["got"]
    assert isinstance(got, dict)
    assert got["niceness"] == result["own"] == result["child"]  # the servers and wrk run at what is reported
    if got["raised"]:
        assert result["own"] == before - 1
    else:  # without root or CAP_SYS_NICE the run goes on, and the report says why
        assert result["own"] == before
        assert "not permitted" in str(got["why"])


def test_the_environment_can_keep_the_normal_priority() -> None:
    before = os.getpriority(os.PRIO_PROCESS, 0)
    result = _probe(-20, OG_BENCH_NICENESS=str(before))
    assert result["own"] == result["child"] == before
    assert result["got"] == {"niceness": before, "raised": False, "why": "already at or above the requested priority"}
