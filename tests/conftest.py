"""Shared fixtures: a migrated database per backend, the app, tenants with API keys, a live server."""

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
import psycopg
import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.db import engine as db
from server.db.engine import session_scope
from server.db.migrate import upgrade_to_head
from server.scopes import SCOPES
from server.services import accounts, api_keys

POSTGRES_URL = os.environ.get("OG_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("OG_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[1]
# The DSP sub-distributor's Standard Webhooks secret in the test settings (tests sign inbound messages with it).
DSP_SYNC_SECRET = "whsec_" + "dGVzdC1kc3Atc3luYy1zZWNyZXQtMzItYnl0ZXMhIQ=="


@cache
def _wise_test_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def inbound_provider_env(suite_prefix: str) -> tuple[dict[str, str], dict[str, str]]:
    """Secrets of the other inbound senders (Wise, Stripe, Mailgun, whapi.cloud) for a live server, and the same
    secrets under `suite_prefix` for the SDK suite that signs as those senders: (server env, suite env)."""
    private, public = _wise_test_key()
    stripe, mailgun, whapi = "whsec_sdk_suite_stripe_0123456789", "key-sdk-suite-mailgun-0123456789", "wht_" + "s" * 40
    server = {
        "OG_WISE_WEBHOOK_PUBLIC_KEY": public,
        "OG_STRIPE_WEBHOOK_SECRETS": stripe,
        "OG_MAILGUN_WEBHOOK_SIGNING_KEY": mailgun,
        "OG_WHAPI_WEBHOOK_TOKENS": whapi,
    }
    suite = {
        f"{suite_prefix}WISE_PRIVATE_KEY": private,
        f"{suite_prefix}STRIPE_SECRET": stripe,
        f"{suite_prefix}MAILGUN_KEY": mailgun,
        f"{suite_prefix}WHAPI_TOKEN": whapi,
    }
    return server, suite


def _postgres_database(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    assert POSTGRES_URL is not None
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """Passwords hashed in this process (every `make_tenant`, every sign-up through the test client) use argon2id at
    its cheapest: the library's recommended 64 MiB x 3 passes x 4 lanes cost ~0.1 s of CPU per account, thousands of
    times per run. Verifying reads the parameters from the hash, so logins behave the same; the servers the tests
    start as processes (and production) keep the real cost."""
    real = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        yield
    finally:
        accounts._hasher = real


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'og.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need OG_TEST_POSTGRES_URL (set by .ci/run)")
    yield from _postgres_database(f"og_test_{secrets.token_hex(4)}")


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=None,
        base_url="http://testserver",
        validate_responses=True,
        max_body_bytes=64 * 1024,
        max_upload_bytes=8 * 1024 * 1024,
        log_level="WARNING",
        log_json=True,
        webhooks_allow_loopback=True,
        secret_key="test-secret-key",
        # Tests share one app and one client IP: real limits are tested on apps of their own (test_rate_limits).
        rate_limit_multiplier=1000,
        dsp_sync_secrets=(DSP_SYNC_SECRET,),
        # The simulated sub-distributor does not run by itself in the shared app (other tests drive releases by
        # hand); the sandbox tests start it or run its steps. Its journey takes 2 s instead of 60.
        sandbox_simulator_in_process=False,
        sandbox_timeline_seconds=2.0,
        # New accounts (the dashboard's sign-up too) start with an empty sandbox here: tests assert on what they made
        # and create many accounts. `make_tenant(mock_data=True)` opts in.
        sandbox_mock_data=False,
        # The in-process test client starts the app for every test: no QC thread racing the tests' own
        # `worker.run_pending()` (tests run QC when they mean to), and no full collection before a gc.freeze().
        qc_in_process=False,
        freeze_gc_at_start=False,
    )


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    db.configure(settings)
    upgrade_to_head(settings.database_url)
    return create_app(settings)


@pytest.fixture
def client(app, settings: Settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    # Re-point the process-wide engine at this backend: both backends' session fixtures may be alive at once.
    db.configure(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Tenant:
    account_id: str
    key_id: str
    secret: str
    environment: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


TenantFactory = Callable[..., Tenant]


@pytest.fixture
def make_tenant(app, settings: Settings) -> TenantFactory:  # type: ignore[no-untyped-def]
    """Creates an account with a key: `make_tenant(scopes=[...], environment="sandbox", production_access=False)`."""

    db.configure(settings)

    def factory(
        scopes: list[str] | None = None,
        environment: str = "sandbox",
        production_access: bool = False,
        account_id: str | None = None,
        mock_data: bool = False,
    ) -> Tenant:
        with session_scope() as session:
            if account_id is None:
                account, _user, _password = accounts.create_account(
                    session,
                    name="Test Label",
                    email=f"owner-{secrets.token_hex(6)}@example.com",
                    password="correct horse battery staple",
                    production_access=production_access,
                    # Opt-in: most tests want an empty sandbox to assert on, and many accounts per test stay cheap.
                    mock_data=mock_data,
                )
            else:
                account = accounts.find_account(session, account_id)
            issued = api_keys.create_key(
                session,
                account=account,
                environment=environment,
                name="test key",
                scopes=list(SCOPES) if scopes is None else scopes,
            )
            return Tenant(account.id, issued.key.id, issued.secret, environment)

    return factory


@pytest.fixture
def tenant(make_tenant: TenantFactory) -> Tenant:
    return make_tenant()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]


def start_server(
    env: dict[str, str],
    args: list[str],
    ready_path: str = "/healthz",
    port: int | None = None,
    ready_seconds: float = 60,
    *,
    prefix: Sequence[str] = (),
) -> LiveServer:
    """`og-server ARGS` on `port`, ready when `ready_path` answers 200; `prefix` runs it under another command
    (which must exec it: the process is the server's)."""
    port = port or free_port()
    process = subprocess.Popen(
        [*prefix, sys.executable, "-m", "server.cli", *args, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"server exited early:\n{output}")
        try:
            if httpx.get(base_url + ready_path, timeout=1).status_code == 200:
                return LiveServer(base_url, process, env)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not become ready in {ready_seconds:.0f} s")


def stop_server(server: LiveServer) -> str:
    server.process.terminate()
    try:
        output, _ = server.process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        output, _ = server.process.communicate()
    return output.decode(errors="replace") if output else ""


def server_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OG_")}
    env.update({"OG_DATA_DIR": str(data_dir), "OG_LOG_JSON": "1", "OG_LOG_LEVEL": "WARNING", **extra})
    if database_url:
        env["OG_DATABASE_URL"] = database_url
    return env
