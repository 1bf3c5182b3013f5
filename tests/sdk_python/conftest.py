"""Fixtures of the in-place SDK tests: a live server with an API key."""

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import ROOT, free_port, server_env, start_server, stop_server

# suite/ runs inside a fresh virtualenv holding only the built og-records wheel (test_sdk_wheel.py), never here.
collect_ignore = ["suite"]

# The handwritten SDK and the CLI are imported in place (as mypy and the benchmarks do); test_sdk_wheel.py tests the
# built wheel in a fresh virtualenv.
if str(ROOT / "sdk-python") not in sys.path:
    sys.path.insert(0, str(ROOT / "sdk-python"))


@dataclass
class LiveAPI:
    base_url: str
    api_key: str
    env: dict[str, str]


def og_server(env: dict[str, str], *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", *args, "--json"], env=env, capture_output=True, text=True, check=True
    )
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAPI]:
    """A real server (uvicorn subprocess, sandbox, SQLite) and an API key with every scope."""
    port = free_port()
    env = server_env(
        tmp_path_factory.mktemp("sdk-live"),
        OG_BASE_URL=f"http://127.0.0.1:{port}",
        OG_WEBHOOKS_ALLOW_LOOPBACK="1",
        OG_RATE_LIMIT_MULTIPLIER="20",
    )
    server = start_server(env, ["serve", "--no-seed"], port=port)
    try:
        created = og_server(env, "accounts", "create", "--name", "SDK tests", "--email", "owner@surface.example")
        key = str(created["api_key"]["secret"])  # type: ignore[index]
        yield LiveAPI(server.base_url, key, env)
    finally:
        stop_server(server)
