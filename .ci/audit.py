"""Dependency audit with the policy of docs/reliability.md ("Dependency audits"), run by `nox -s ci` and `nox -s audit`.

- Python: pip-audit over the environment (or `--requirements FILE`, pinned). npm: `npm audit` in every folder with
  a package-lock.json (codegen/, sdk-typescript/), development dependencies included: the SDK ships with no runtime
  dependency, and the code generators run in CI and on every developer's machine.
- Fails on a known vulnerability that has a fix: any for Python (pip-audit gives no severity), high or critical for
  npm. A vulnerability without a fix yet is printed as a warning. Ignores are listed below, each with its reason.
- An advisory database that cannot be reached (no network, a mirror that lacks the per-version API, a timeout) is a
  loud WARNING, not a failure: CI must not fail on someone else's outage, and a warning says plainly what was not
  audited. Dependencies pip-audit could not look up count as not audited, never as clean (pip-audit itself reports
  "No known vulnerabilities found" when it could look up nothing).

`python .ci/audit.py [--requirements FILE] [--pip-audit "CMD …"]`; exit 1 on a policy failure, 0 otherwise.
"""

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NPM_FOLDERS = [ROOT / "codegen", ROOT / "sdk-typescript"]
TIMEOUT = 300  # seconds per tool: the audit bounds CI's time like every other step

# Advisory id → why it is ignored (with a date to look at it again). Empty: nothing ignored.
PYTHON_IGNORES: dict[str, str] = {}
NPM_IGNORES: dict[str, str] = {}


def warn(message: str) -> None:
    print(f"::warning::dependency audit: {message}", flush=True)  # also a GitHub Actions annotation
    print(f"WARNING dependency audit: {message}", file=sys.stderr, flush=True)


def python_audit(command: list[str], requirements: str | None) -> bool:
    """True when the policy holds (or could not be checked: then a warning)."""
    args = [*command, "--format", "json", "--progress-spinner", "off"]
    args += ["--requirement", requirements, "--no-deps", "--disable-pip"] if requirements else ["--skip-editable"]
    for advisory in PYTHON_IGNORES:
        args += ["--ignore-vuln", advisory]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        warn(f"pip-audit did not finish in {TIMEOUT} s: Python dependencies NOT audited")
        return True
    except FileNotFoundError:
        warn(f"{args[0]} is not installed: Python dependencies NOT audited")
        return True
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        warn(f"pip-audit could not run ({last[:200]}): Python dependencies NOT audited")
        return True
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    if skipped:
        warn(
            f"{len(skipped)} of {len(dependencies)} Python dependencies could not be looked up in the advisory "
            f"database and are NOT audited (first: {skipped[0]['name']}: {skipped[0]['skip_reason'][:120]})"
        )
    ok = True
    for dependency in dependencies:
        for vuln in dependency.get("vulns", []):
            line = f"{dependency['name']} {dependency['version']}: {vuln['id']} ({', '.join(vuln.get('aliases', []))})"
            if vuln.get("fix_versions"):
                print(f"FAIL {line}: fixed in {', '.join(vuln['fix_versions'])}", flush=True)
                ok = False
            else:
                warn(f"{line}: no fix released yet")
    print(f"pip-audit: {audited} Python dependencies audited, {len(skipped)} not", flush=True)
    return ok


def npm_audit(folder: Path) -> bool:
    try:
        done = subprocess.run(
            ["npm", "audit", "--json"],  # noqa: S607 (npm from PATH, as every nox session runs it)
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        warn(f"npm audit in {folder.name}/ did not finish in {TIMEOUT} s: NOT audited")
        return True
    except FileNotFoundError:
        warn("npm is not installed: npm dependencies NOT audited")
        return True
    try:
        report = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        report = {}
    if "error" in report or "vulnerabilities" not in report:
        summary = (
            report.get("error", {}).get("summary")
            or report.get("message")
            or (done.stderr.strip().splitlines() or ["no output"])[-1]
        )
        warn(f"npm audit in {folder.name}/ could not reach the advisory database ({summary[:200]}): NOT audited")
        return True
    ok = True
    for name, vuln in report["vulnerabilities"].items():
        sources = [v for v in vuln.get("via", []) if isinstance(v, dict)]
        if all(str(v.get("source")) in NPM_IGNORES for v in sources) and sources:
            continue
        line = f"{folder.name}/ {name}: {vuln['severity']}"
        if vuln["severity"] in ("high", "critical") and vuln.get("fixAvailable"):
            print(f"FAIL {line}, fix available (npm audit fix)", flush=True)
            ok = False
        else:
            warn(f"{line}{'' if vuln.get('fixAvailable') else ', no fix available'}")
    total = report.get("metadata", {}).get("dependencies", {}).get("total", "?")
    print(f"npm audit {folder.name}/: {total} packages audited", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requirements", help="audit this pinned requirements file instead of the environment")
    parser.add_argument("--pip-audit", default=f"{sys.executable} -m pip_audit", help="the pip-audit command")
    args = parser.parse_args()
    ok = python_audit(shlex.split(args.pip_audit), args.requirements)
    for folder in NPM_FOLDERS:
        if (folder / "package-lock.json").exists():
            ok = npm_audit(folder) and ok
    if not ok:
        print("dependency audit FAILED: upgrade the packages above, or list them with a reason in .ci/audit.py")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
