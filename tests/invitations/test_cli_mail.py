"""`og-server mail list` / `show`: without a mail provider, production messages wait in the local outbox and the
operator reads them there."""

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port, server_env, start_server, stop_server


def og_server(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def test_the_operator_reads_unsent_production_mail_with_og_server_mail(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(tmp_path, OG_BASE_URL=f"http://127.0.0.1:{port}")
    account = json.loads(og_server(env, "accounts", "create", "--name", "Night Owl", "--json").stdout)["account"]["id"]
    assert og_server(env, "accounts", "grant-production", account).returncode == 0
    key = json.loads(og_server(env, "keys", "create", "--account", account, "--env", "production", "--json").stdout)
    live = start_server(env, ["serve", "--no-seed"], port=port)
    try:
        created = httpx.post(
            f"{live.base_url}/api/v1/persons",
            json={"name": "Mara", "email": "mara@example.com", "invite": True},
            headers={"Authorization": f"Bearer {key['api_key']['secret']}"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
    finally:
        stop_server(live)

    # The account's sandbox has mock payees whose invitations wait in the sandbox outbox; the operator reads the
    # production mail that no provider sent.
    listed = og_server(env, "mail", "list", "--status", "local", "--json")
    assert listed.returncode == 0, listed.stderr
    [message] = json.loads(listed.stdout)["messages"]
    assert (message["status"], message["channel"], message["to"]) == ("local", "email", "mara@example.com")
    assert "mara@example.com" in og_server(env, "mail", "list").stdout

    shown = og_server(env, "mail", "show", message["id"])
    assert shown.returncode == 0, shown.stderr
    assert "Subject: Night Owl invites you to receive royalty shares" in shown.stdout
    assert f"http://127.0.0.1:{port}/invitations/" in shown.stdout
    assert og_server(env, "mail", "show", "msg_01jc3m8a4s6t3v0q7k2x9bz5hd").returncode == 1
