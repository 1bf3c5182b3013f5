"""docs/operations.md's `og-server` commands, run as an operator runs them, in the page's order, on a fresh data
directory. The long-running ones (`serve`, `worker`) are started by tests/cli/test_cli.py and tests/webhooks."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import server_env
from tests.docs.markdown import ROOT, shell_commands

LONG_RUNNING = {"serve", "worker"}

# One process runs the commands one after the other through `og-server`'s own entry point (what the console script
# calls), so the page costs one interpreter start instead of one per command. Each command's exit code and output
# come back as one JSON line; ACCOUNT_ID is the account the page's `accounts create --json` made.
DRIVER = """
import contextlib, io, json, sys
from server.cli import main

account_id = None
for command in json.loads(sys.argv[1]):
    args = [account_id if arg == "ACCOUNT_ID" else arg for arg in command]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args) if None not in args else "ACCOUNT_ID used before an account was created"
        except SystemExit as exc:
            code = exc.code
    if code == 0 and args[:2] == ["accounts", "create"]:
        account_id = json.loads(out.getvalue())["account"]["id"]
    print(json.dumps({"args": args, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}), flush=True)
"""


def test_every_administrative_command_of_the_operations_page_runs(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    commands = [c[1:] for c in shell_commands(page) if c[0] == "og-server" and c[1] not in LONG_RUNNING]
    assert any(c[:2] == ["accounts", "create"] for c in commands)
    # Mock data only slows `accounts create` down; the page's commands do not depend on it.
    env = server_env(tmp_path, OG_SANDBOX_MOCK_DATA="0", PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(commands)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(results) == len(commands), run.stderr
    for result in results:
        assert result["code"] == 0, f"og-server {' '.join(map(str, result['args']))}: {result}"
        if "--json" in result["args"]:
            printed = json.loads(result["stdout"])
            if result["args"][:2] == ["keys", "create"]:
                assert printed["api_key"]["secret"].startswith("og_live_")  # production, after grant-production
