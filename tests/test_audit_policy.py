"""The dependency-audit policy (.ci/audit.py, docs/reliability.md "Dependency audits"), with pip-audit and npm
replaced by stand-ins that print canned reports: a fixable vulnerability fails, an unreachable advisory database
or a dependency that could not be looked up is a warning (never reported as clean)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_audit(tmp_path: Path, pip_report: dict, npm_report: dict) -> subprocess.CompletedProcess[str]:  # type: ignore[type-arg]
    pip_audit = tmp_path / "pip_audit.py"
    pip_audit.write_text(f"print({json.dumps(json.dumps(pip_report))})\n")
    npm = tmp_path / "bin" / "npm"
    npm.parent.mkdir()
    npm.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(npm_report)}\nEOF\n")
    npm.chmod(0o755)
    env = {**os.environ, "PATH": f"{npm.parent}:{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "audit.py"), "--pip-audit", f"{sys.executable} {pip_audit}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


CLEAN_NPM = {"vulnerabilities": {}, "metadata": {"dependencies": {"total": 58}}}


def test_a_python_vulnerability_with_a_fix_fails(tmp_path: Path) -> None:
    report = {
        "dependencies": [
            {
                "name": "jinja2",
                "version": "2.4.1",
                "vulns": [{"id": "PYSEC-2019-217", "aliases": ["CVE-2019-10906"], "fix_versions": ["2.10.1"]}],
            }
        ]
    }
    done = run_audit(tmp_path, report, CLEAN_NPM)
    assert done.returncode == 1
    assert "FAIL jinja2 2.4.1: PYSEC-2019-217" in done.stdout


def test_a_high_npm_vulnerability_with_a_fix_fails_and_a_low_one_warns(tmp_path: Path) -> None:
    npm = {
        "vulnerabilities": {
            "lodash": {"severity": "high", "fixAvailable": True, "via": [{"source": 1}]},
            "debug": {"severity": "low", "fixAvailable": True, "via": [{"source": 2}]},
        },
        "metadata": {"dependencies": {"total": 3}},
    }
    done = run_audit(tmp_path, {"dependencies": []}, npm)
    assert done.returncode == 1
    assert "FAIL codegen/ lodash: high" in done.stdout
    assert "debug: low" in done.stdout
    assert "FAIL codegen/ debug" not in done.stdout


def test_an_unreachable_advisory_database_warns_and_never_reads_as_clean(tmp_path: Path) -> None:
    skipped = {
        "dependencies": [{"name": "starlette", "version": "1.10.0", "skip_reason": "Dependency not found on PyPI"}]
    }
    npm = {"error": {"code": "E405", "summary": "405 Method Not Allowed - POST …/advisories/bulk"}}
    done = run_audit(tmp_path, skipped, npm)
    assert done.returncode == 0
    assert "1 of 1 Python dependencies could not be looked up" in done.stdout
    assert "NOT audited" in done.stdout
    assert "could not reach the advisory database" in done.stdout
