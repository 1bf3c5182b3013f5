"""Two real server processes sharing one Redis enforce one budget per credential."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import server_env, start_server, stop_server

REDIS_URL = os.environ.get("OG_TEST_REDIS_URL")

pytestmark = pytest.mark.redis


def test_two_processes_share_one_budget(tmp_path: Path) -> None:
    if not REDIS_URL:
        pytest.skip("Redis tests need OG_TEST_REDIS_URL (set by .ci/run)")
    # The multiplier 0.1 makes the sandbox budget 6 requests that refill one per 10 s, so the count is exact however
    # slowly this machine answers (at the published 60/min a token refills every second).
    env = server_env(
        tmp_path,
        OG_REDIS_URL=REDIS_URL,
        OG_RATE_LIMIT_PREFIX=f"test:{secrets.token_hex(6)}",
        OG_RATE_LIMIT_MULTIPLIER="0.1",
    )
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "accounts",
            "create",
            "--name",
            "Shared Limits",
            "--no-mock-data",
            "--json",
        ],
        env=env,
        capture_output=True,
        check=True,
        text=True,
    )
    headers = {"Authorization": f"Bearer {json.loads(created.stdout)['api_key']['secret']}"}
    servers = [start_server(env, ["serve", "--no-seed"]) for _ in range(2)]
    try:
        responses = [
            httpx.get(servers[i % 2].base_url + "/api/v1/persons", headers=headers, timeout=10) for i in range(20)
        ]
    finally:
        for server in servers:
            stop_server(server)
    limit = int(responses[0].headers["X-RateLimit-Limit"])
    assert limit == 6
    statuses = [response.status_code for response in responses]
    assert statuses == [200] * limit + [429] * (20 - limit)
    # One budget: the remaining count goes down across both processes, not once per process.
    assert [int(r.headers["X-RateLimit-Remaining"]) for r in responses[:limit]] == list(range(limit - 1, -1, -1))
    assert all(0 < int(r.headers["Retry-After"]) <= 10 for r in responses[limit:])
