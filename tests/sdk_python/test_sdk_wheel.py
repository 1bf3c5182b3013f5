"""The og-records SDK as integrators get it: the built wheel, installed into a fresh virtualenv, run against a real
server (uvicorn subprocess). The SDK's own suite lives in suite/ and runs inside that virtualenv."""

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.openapi.resolver import snake_case, unimplemented_operations
from server.openapi.specification import raw_document
from tests.conftest import DSP_SYNC_SECRET, ROOT, free_port, inbound_provider_env, server_env, start_server, stop_server

# An artefact test (the wheel in a fresh virtualenv, its suite against a live server): the fast tier leaves it out.
pytestmark = pytest.mark.slow

SDK = ROOT / "sdk-python"
# A wheel build, a fresh virtualenv and a live server: minutes, not seconds.
pytestmark = pytest.mark.slow
SUITE = Path(__file__).parent / "suite"
UV = str(Path(sys.executable).parent / "uv")
# The suite's own tools, pinned like the repository's (pyproject.toml); numpy, soundfile and Pillow write the real
# audio and cover files the release wizard tests upload.
SUITE_REQUIREMENTS = [
    "pytest==9.2.0",
    "pytest-timeout==2.4.0",
    "standardwebhooks==1.1.0",
    "cryptography==50.0.2",  # signs as Wise does (RSA-SHA256) in test_payouts_live.py
    "numpy==2.4.6",
    "soundfile==0.14.0",
    "pillow==13.0.0",
]


@dataclass
class SuiteRun:
    returncode: int
    output: str
    called: set[str]


def _run(*command: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(UV, "build", str(SDK), "--wheel", "--sdist", "--out-dir", str(out), "--quiet")
    return out


@pytest.fixture(scope="module")
def sdk_python(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "sdk"
    _run(UV, "venv", str(venv), "--python", sys.executable, "--quiet")
    python = venv / "bin" / "python"
    wheel = next(dist.glob("og_records-*.whl"))
    _run(UV, "pip", "install", "--python", str(python), "--quiet", str(wheel), *SUITE_REQUIREMENTS)
    return python


def _og_server(env: dict[str, str], *args: str) -> dict[str, object]:
    output = _run(sys.executable, "-m", "server.cli", *args, "--json", env=env)
    data: dict[str, object] = json.loads(output)
    return data


# The suite's server keeps the product's rate limits scaled by this: every key gets 120 requests at once and then 2 a
# second, so the dedicated rate-limit key meets the real 429 after ~120 requests (under a second here) and waits about a
# second for it to pass (Retry-After is whole seconds), while no other key of the suite comes near its budget.
RATE_LIMIT_MULTIPLIER = "2"
OAUTH_REDIRECT_URI = "http://127.0.0.1/callback"  # loopback: the server accepts it on any port (RFC 8252)


@pytest.fixture(scope="module")
def suite_run(sdk_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteRun]:
    data_dir = tmp_path_factory.mktemp("sdk-server")
    port = free_port()
    # OG_BASE_URL: the OAuth server builds its metadata and redirects on the public URL.
    # OG_WEBHOOKS_ALLOW_LOOPBACK: the webhook tests register endpoints on a receiver of their own on 127.0.0.1; the
    # server's embedded delivery worker (on by default) delivers to it.
    env = server_env(
        data_dir,
        OG_BASE_URL=f"http://127.0.0.1:{port}",
        OG_RATE_LIMIT_MULTIPLIER=RATE_LIMIT_MULTIPLIER,
        OG_WEBHOOKS_ALLOW_LOOPBACK="1",
        # The suite posts DSP sub-distributor events signed with this partner secret.
        OG_DSP_SYNC_SECRETS=DSP_SYNC_SECRET,
        # …and Wise, Stripe, Mailgun and whapi.cloud events signed the senders' ways.
        **inbound_provider_env("OG_SDK_TEST_")[0],
    )
    server = start_server(env, ["serve", "--no-seed"], port=port)
    try:
        created = _og_server(
            env, "accounts", "create", "--name", "SDK Test Label", "--email", "owner@sdk.example.com", "--no-mock-data"
        )
        account_id = created["account"]["id"]  # type: ignore[index]
        developer = _og_server(env, "accounts", "create", "--name", "SDK App Developer", "--no-mock-data")["account"][
            "id"
        ]  # type: ignore[index]
        oauth_client = _og_server(
            env,
            "oauth-clients",
            "create",
            "--account",
            str(developer),
            "--name",
            "SDK Test App",
            "--redirect-uri",
            OAUTH_REDIRECT_URI,
            "--scopes",
            "persons:read,persons:write",
        )["oauth_client"]
        # Parity (suite/test_parity_live.py): one account with production access and its mock sandbox, used with its
        # sandbox key and with a production key, so the same scenario runs in both environments of one account.
        parity = _og_server(
            env,
            "accounts",
            "create",
            "--name",
            "SDK Parity Label",
            "--email",
            "parity@sdk.example.com",
            "--production-access",
        )
        parity_account = str(parity["account"]["id"])  # type: ignore[index]
        parity_production_key = _og_server(env, "keys", "create", "--account", parity_account, "--env", "production")[
            "api_key"
        ]["secret"]  # type: ignore[index]
        keys = {
            "OG_SDK_TEST_PARITY_SANDBOX_KEY": parity["api_key"]["secret"],  # type: ignore[index]
            "OG_SDK_TEST_PARITY_PRODUCTION_KEY": parity_production_key,
            "OG_SDK_TEST_API_KEY": created["api_key"]["secret"],  # type: ignore[index]
            "OG_SDK_TEST_RATE_LIMIT_KEY": _og_server(env, "keys", "create", "--account", account_id)["api_key"][  # type: ignore[index]
                "secret"
            ],
            "OG_SDK_TEST_READONLY_KEY": _og_server(
                env, "keys", "create", "--account", account_id, "--scopes", "persons:read"
            )["api_key"]["secret"],  # type: ignore[index]
            # The user who signs in on the consent page: the owner of the account the API keys act on.
            "OG_SDK_TEST_USER_EMAIL": created["user"]["email"],  # type: ignore[index]
            "OG_SDK_TEST_USER_PASSWORD": created["user"]["password"],  # type: ignore[index]
            "OG_SDK_TEST_OAUTH_CLIENT_ID": oauth_client["client_id"],  # type: ignore[index]
            "OG_SDK_TEST_OAUTH_CLIENT_SECRET": oauth_client["client_secret"],  # type: ignore[index]
            "OG_SDK_TEST_OAUTH_REDIRECT_URI": OAUTH_REDIRECT_URI,
            "OG_SDK_TEST_DSP_SYNC_SECRET": DSP_SYNC_SECRET,
            **inbound_provider_env("OG_SDK_TEST_")[1],
        }
        coverage = data_dir / "called.json"
        suite_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OG_", "PYTHON"))},
            **keys,
            "OG_SDK_TEST_BASE_URL": server.base_url,
            "OG_SDK_TEST_COVERAGE_FILE": str(coverage),
            "OG_SDK_TEST_README": str(SDK / "README.md"),
            "OG_SDK_TEST_GUIDES": str(ROOT / "docs" / "guides"),
        }
        result = subprocess.run(
            [str(sdk_python), "-m", "pytest", "-c", str(SUITE / "pytest.ini"), str(SUITE), "-q"],
            capture_output=True,
            text=True,
            check=False,
            env=suite_env,
            cwd=SUITE,
            timeout=900,
        )
        called = set(json.loads(coverage.read_text())) if coverage.exists() else set()
        yield SuiteRun(result.returncode, result.stdout + result.stderr, called)
    finally:
        stop_server(server)


def test_wheel_and_sdist_hold_the_typed_package(dist: Path) -> None:
    wheel = zipfile.ZipFile(next(dist.glob("og_records-*.whl")))
    names = set(wheel.namelist())
    assert "og_records/py.typed" in names
    assert "og_records/_generated/api/persons/__init__.py" in names
    assert not any(name.startswith(("tests/", "server/")) for name in names)
    metadata = wheel.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Name: og-records" in metadata
    entry_points = wheel.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "og-records = og_records.cli:main" in entry_points
    with tarfile.open(next(dist.glob("og_records-*.tar.gz"))) as sdist:
        assert any(name.endswith("og_records/webhooks.py") for name in sdist.getnames())


def test_the_installed_console_script_runs(sdk_python: Path) -> None:
    """`pip install og-records` puts `og-records` on PATH, beside the interpreter."""
    result = subprocess.run(
        [str(sdk_python.parent / "og-records"), "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "listen" in result.stdout
    assert "trigger" in result.stdout


def test_the_sdk_suite_passes_against_a_live_server(suite_run: SuiteRun) -> None:
    assert suite_run.returncode == 0, suite_run.output
    assert " passed" in suite_run.output


def test_every_implemented_operation_is_called_through_the_sdk(suite_run: SuiteRun) -> None:
    """Grows with the server: an operation that gains a handler needs an SDK test calling it."""
    document = raw_document()
    every = {
        operation["operationId"]
        for path_item in document["paths"].values()
        for method, operation in path_item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    }
    implemented = every - set(unimplemented_operations(document))
    assert implemented, "the server implements some operations"
    missing = sorted(op for op in implemented if snake_case(op) not in suite_run.called)
    assert not missing, f"implemented but never called through the SDK by tests/sdk_python/suite: {missing}"
