"""Contract tests: schemathesis against the running server, on every implemented operation.

All phases (examples, coverage, fuzzing, stateful via the spec's `links`) and every check. Bounded by
`OG_FUZZ_EXAMPLES` (default 25) so CI stays fast; the seed is fixed for reproducible CI runs and can be changed
with `OG_FUZZ_SEED`.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.openapi.resolver import unimplemented_operations
from server.openapi.specification import raw_document, spec_path
from tests.conftest import LiveServer, server_env, start_server, stop_server
from tests.contract.not_implemented import NOT_IMPLEMENTED

pytestmark = pytest.mark.slow


def test_the_list_is_exactly_the_unimplemented_operations() -> None:
    assert set(unimplemented_operations(raw_document())) == NOT_IMPLEMENTED


def implemented_operations() -> list[str]:
    all_ids = [
        operation["operationId"]
        for item in raw_document()["paths"].values()
        for method, operation in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    ]
    return sorted(set(all_ids) - NOT_IMPLEMENTED)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    data_dir = tmp_path_factory.mktemp("contract")
    # The published limits would refuse the fuzzer after 60 requests: raise them (the limiter still runs and every
    # response still carries the headers; tests/ratelimit checks the real limits).
    env = server_env(data_dir, OG_VALIDATE_RESPONSES="1", OG_RATE_LIMIT_MULTIPLIER="1000")
    created = subprocess.run(
        [sys.executable, "-m", "server.cli", "accounts", "create", "--name", "Contract Tests", "--json"],
        env=env,
        capture_output=True,
        check=True,
        text=True,
    )
    secret = json.loads(created.stdout)["api_key"]["secret"]
    server = start_server(env, ["serve", "--no-seed"])
    try:
        yield server, secret
    finally:
        log = stop_server(server)
        if '"level": "error"' in log:
            print(log)


def test_schemathesis_finds_no_failure(live: tuple[LiveServer, str], tmp_path: Path) -> None:
    server, secret = live
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        str(spec_path()),
        "--url",
        server.base_url,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        os.environ.get("OG_FUZZ_EXAMPLES", "25"),
        "--seed",
        os.environ.get("OG_FUZZ_SEED", "20261126"),
        "--header",
        f"Authorization: Bearer {secret}",
        "--request-timeout",
        # sendTestWebhook may wait up to 15 s for the endpoint (its documented bound) before answering.
        "20",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(tmp_path / "schemathesis.xml"),
    ]
    for operation_id in implemented_operations():
        command += ["--include-operation-id", operation_id]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
