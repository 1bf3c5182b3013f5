"""The TypeScript SDK as an integrator gets it: `npm pack`ed, installed into a fresh project whose strict TypeScript
compiles against it, then run (node's test runner) against a real server and against stand-in servers.

The TypeScript tests live in `consumer/`; the README's snippets are compiled with them.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from server.openapi.resolver import unimplemented_operations
from server.openapi.specification import raw_document
from tests.conftest import (
    DSP_SYNC_SECRET,
    ROOT,
    LiveServer,
    free_port,
    inbound_provider_env,
    server_env,
    start_server,
    stop_server,
)

# An artefact test (npm pack, tsc, the TypeScript suite against a live server): the fast tier leaves it out.
pytestmark = pytest.mark.slow

SDK = ROOT / "sdk-typescript"
CODEGEN_MODULES = ROOT / "codegen" / "node_modules"
TSC = SDK / "node_modules" / ".bin" / "tsc"  # the SDK's own pinned TypeScript (sdk-typescript/package-lock.json)
CONSUMER = Path(__file__).with_name("consumer")
README_SNIPPET = re.compile(r"```ts\n(.*?)```", re.DOTALL)
GUIDE_SNIPPET = re.compile(r"```typescript\n(.*?)```", re.DOTALL)
# What the webhooks guide's snippet continues from: a received delivery, signed with the reader's secret.
WEBHOOK_REQUEST = """import { signWebhook } from '@og/api-sdk';
const eventId = 'evt_01jc3md0a1b2c3d4e5f6g7h8j9';
const body = JSON.stringify({
  id: eventId, object: 'event', type: 'release.status_changed', created: '2026-01-01T00:00:00Z',
  environment: 'sandbox', data: { object: { id: 'rel_01jc3md0a1b2c3d4e5f6g7h8j9', status: 'submitted' } },
});
const secret = process.env['OG_RECORDS_WEBHOOK_SECRET'] ?? '';
const headers = new Headers(await signWebhook(body, { secret, id: eventId }));
"""
# Test-only packages the consumer project borrows from codegen/ (pinned there), so the run needs no registry.
BORROWED = ["standardwebhooks", "@types/node", "@stablelib/base64", "fast-sha256", "undici-types"]


def run(command: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-8000:]}"
    return result  # type: ignore[no-any-return]


# npm pack, tsc and a live server: minutes, not seconds.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (CODEGEN_MODULES / "standardwebhooks").exists():
        pytest.fail("codegen/node_modules is missing: run `npm ci` in codegen/ (nox -s ci does)")
    # As a contributor builds it: the SDK's own lockfile, nothing borrowed from codegen/.
    run(["npm", "ci", "--no-audit", "--no-fund"], SDK)
    run(["npm", "run", "--silent", "build"], SDK)
    destination = tmp_path_factory.mktemp("pack")
    packed = run(["npm", "pack", "--json", "--pack-destination", str(destination)], SDK)
    return destination / json.loads(packed.stdout)[0]["filename"]


@pytest.fixture(scope="module")
def consumer(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("consumer")
    (project / "package.json").write_text(json.dumps({"name": "sdk-consumer", "private": True, "type": "module"}))
    run(["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", str(tarball)], project)
    for name in BORROWED:
        link = project / "node_modules" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(CODEGEN_MODULES / name, target_is_directory=True)
    for source in CONSUMER.iterdir():
        if source.suffix in {".ts", ".json"}:
            shutil.copy(source, project / source.name)
    readme = project / "readme"
    readme.mkdir()
    for number, snippet in enumerate(README_SNIPPET.findall((SDK / "README.md").read_text()), start=1):
        (readme / f"snippet_{number}.ts").write_text(snippet)
    # The guides' TypeScript snippets compile against the package too; the webhooks guide's continues from a request.
    guides = sorted((ROOT / "docs" / "guides").glob("*.md"))
    for guide in guides:
        for number, snippet in enumerate(GUIDE_SNIPPET.findall(guide.read_text()), start=1):
            prelude = WEBHOOK_REQUEST if "unwrap(" in snippet else ""
            if "client." in snippet and "new OGRecords" not in snippet:
                prelude += "import { OGRecords } from '@og/api-sdk';\nconst client = new OGRecords();\n"
            target = readme / f"guide_{guide.stem.replace('-', '_')}_{number}.ts"
            target.write_text(prelude + snippet + "\nexport {};\n")
    run([str(TSC), "-p", str(project)], project)
    return project


# The server keeps the product's rate limits scaled by this: every key gets 120 requests at once, then 2 a second. The
# dedicated rate-limit key meets the real 429 after ~120 requests and waits about a second (Retry-After is whole
# seconds) for the next one; no other key of the suite comes near its budget.
RATE_LIMIT_MULTIPLIER = "2"
OAUTH_REDIRECT_URI = "http://127.0.0.1/callback"  # loopback: the server accepts it on any port (RFC 8252)


@dataclass
class Live:
    server: LiveServer
    env: dict[str, str]  # what the TypeScript tests read: OG_TEST_API_KEY, OG_TEST_OAUTH_CLIENT_ID, …


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    port = free_port()
    env = server_env(
        tmp_path_factory.mktemp("server"),
        OG_WEBHOOKS_ALLOW_LOOPBACK="1",
        OG_BASE_URL=f"http://127.0.0.1:{port}",  # the OAuth server's issuer and redirects use the public URL
        OG_RATE_LIMIT_MULTIPLIER=RATE_LIMIT_MULTIPLIER,
        # The money tests post DSP sub-distributor events signed with this partner secret.
        OG_DSP_SYNC_SECRETS=DSP_SYNC_SECRET,
        # …and the payout tests Wise, Stripe, Mailgun and whapi.cloud events signed the senders' ways.
        **inbound_provider_env("OG_TEST_")[0],
    )
    cli = [sys.executable, "-m", "server.cli"]

    def og_server(*args: str) -> dict[str, Any]:
        return dict(json.loads(run([*cli, *args, "--json"], ROOT, env=env).stdout))

    created = og_server(
        "accounts", "create", "--name", "TypeScript SDK", "--email", "owner@ts-sdk.example.com", "--no-mock-data"
    )
    account_id = created["account"]["id"]
    second = og_server("keys", "create", "--account", account_id, "--scopes", "all")
    developer = og_server("accounts", "create", "--name", "TypeScript App Developer", "--no-mock-data")["account"]["id"]
    app = og_server(
        "oauth-clients",
        "create",
        "--account",
        developer,
        "--name",
        "TypeScript Test App",
        "--redirect-uri",
        OAUTH_REDIRECT_URI,
        "--scopes",
        "persons:read,persons:write",
    )["oauth_client"]
    # parity-live.test.ts: one account with production access, used with its sandbox key and a production key.
    parity = og_server(
        "accounts",
        "create",
        "--name",
        "TypeScript Parity",
        "--email",
        "parity@ts-sdk.example.com",
        "--production-access",
    )
    parity_production = og_server("keys", "create", "--account", parity["account"]["id"], "--env", "production")
    server = start_server(env, ["serve", "--no-seed"], port=port)
    try:
        yield Live(
            server,
            {
                "OG_TEST_BASE_URL": server.base_url,
                "OG_TEST_API_KEY": created["api_key"]["secret"],
                "OG_TEST_PARITY_SANDBOX_KEY": parity["api_key"]["secret"],
                "OG_TEST_PARITY_PRODUCTION_KEY": parity_production["api_key"]["secret"],
                "OG_TEST_RATE_LIMIT_KEY": second["api_key"]["secret"],
                # The user who signs in on the consent page owns the account the API key acts on.
                "OG_TEST_USER_EMAIL": created["user"]["email"],
                "OG_TEST_USER_PASSWORD": created["user"]["password"],
                "OG_TEST_OAUTH_CLIENT_ID": app["client_id"],
                "OG_TEST_OAUTH_CLIENT_SECRET": app["client_secret"],
                "OG_TEST_OAUTH_REDIRECT_URI": OAUTH_REDIRECT_URI,
                "OG_TEST_DSP_SYNC_SECRET": DSP_SYNC_SECRET,
                **inbound_provider_env("OG_TEST_")[1],
            },
        )
    finally:
        stop_server(server)


@dataclass
class SuiteRun:
    output: str
    returncode: int
    requests: list[dict[str, object]]


@pytest.fixture(scope="module")
def suite(consumer: Path, live: Live) -> SuiteRun:
    log = consumer / "requests.jsonl"
    env = {**os.environ, **live.env, "OG_TEST_REQUEST_LOG": str(log)}
    compiled = sorted(str(path) for path in (consumer / "dist").glob("*.test.js"))
    rate_limit = [path for path in compiled if path.endswith("ratelimit.test.js")]
    outputs, returncode = [], 0
    # The rate-limit test exhausts a key's limit; it runs after the others so it cannot slow them down.
    for files in ([path for path in compiled if path not in rate_limit], rate_limit):
        result = subprocess.run(
            ["node", "--test", "--test-reporter=spec", *files],
            cwd=consumer,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        outputs.append(result.stdout + result.stderr)
        returncode = returncode or result.returncode
    requests = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return SuiteRun("\n".join(outputs), returncode, requests)


def test_the_package_has_types_and_no_runtime_dependencies(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        manifest_file = archive.extractfile("package/package.json")
        assert manifest_file is not None
        manifest = json.load(manifest_file)
    assert {"package/dist/index.js", "package/dist/index.d.ts", "package/README.md"} <= names
    assert manifest["type"] == "module"
    assert manifest["exports"]["."] == {
        "import": {"types": "./dist/index.d.ts", "default": "./dist/index.js"},
        "require": {"types": "./dist/cjs/index.d.ts", "default": "./dist/cjs/index.js"},
    }
    assert {"package/dist/cjs/index.js", "package/dist/cjs/index.d.ts", "package/dist/cjs/package.json"} <= names
    assert manifest["engines"] == {"node": ">=20"}
    assert not manifest.get("dependencies")
    assert not manifest.get("peerDependencies")


def test_the_core_imports_no_node_modules(tarball: Path) -> None:
    """Browsers and edge runtimes have fetch and Web Crypto, not `node:*` modules or `Buffer`."""
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            # The ESM build; dist/cjs/ is the same code with `require()` for CommonJS consumers.
            if member.name.endswith(".js") and not member.name.startswith("package/dist/cjs/"):
                extracted = archive.extractfile(member)
                assert extracted is not None
                code = re.sub(r"/\*.*?\*/|//[^\n]*", "", extracted.read().decode(), flags=re.DOTALL)  # not comments
                assert not re.search(r"""from ['"]node:|require\(|\bBuffer\.|\bprocess\.""", code), member.name


def test_the_sdk_s_own_unit_tests_pass() -> None:
    """`npm test` inside sdk-typescript/ (after the build the tarball fixture ran), on this machine's Node 20."""
    version = run(["node", "--version"], SDK).stdout.strip()
    assert version.startswith("v20."), f"the engines floor is Node 20; this runs {version}"
    output = run(["npm", "test"], SDK).stdout
    assert re.search(r"# pass [1-9]", output), output
    assert "# fail 0" in output, output


def test_a_commonjs_project_can_require_the_package(tarball: Path, tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"name": "cjs-consumer", "private": True}))
    run(["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", str(tarball)], tmp_path)
    program = "const sdk = require('@og/api-sdk'); console.log(sdk.OPERATIONS.getBalance, typeof sdk.OGRecords);"
    assert run(["node", "-e", program], tmp_path).stdout.split() == ["balance.get", "function"]


def test_the_typescript_suite_passes_against_the_server(suite: SuiteRun) -> None:
    assert suite.returncode == 0, suite.output[-30000:]
    assert re.search(r"\bpass [1-9]", suite.output), suite.output[-30000:]


class TokenStandIn(BaseHTTPRequestHandler):
    """An authorization server's token endpoint for the README's OAuth snippet, whose code and refresh token are
    placeholders the real server would refuse (the live OAuth flow is tested in oauth-live.test.ts)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = json.dumps(
            {"access_token": "og_oat_readme", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "ort_x"}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


def test_every_readme_and_guide_snippet_runs_against_the_server(consumer: Path, live: Live) -> None:
    compiled = sorted((consumer / "dist" / "readme").glob("*.js"))
    assert len(compiled) >= 10
    stand_in = ThreadingHTTPServer(("127.0.0.1", 0), TokenStandIn)
    thread = threading.Thread(target=stand_in.serve_forever, daemon=True)
    thread.start()
    failures = []
    try:
        for snippet in compiled:
            source = snippet.read_text()
            base_url = (
                f"http://127.0.0.1:{stand_in.server_address[1]}" if "exchangeCode" in source else live.server.base_url
            )
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("OG_")},
                "OG_RECORDS_API_KEY": live.env["OG_TEST_API_KEY"],
                "OG_RECORDS_BASE_URL": base_url,
                "OG_RECORDS_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"readme-webhook-secret-32-bytes!!").decode(),
            }
            result = subprocess.run(
                ["node", str(snippet)], cwd=consumer, env=env, capture_output=True, text=True, timeout=120, check=False
            )
            if result.returncode != 0:
                failures.append(f"{snippet.name}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    finally:
        stand_in.shutdown()
        stand_in.server_close()
        thread.join()
    assert not failures, "\n\n".join(failures)


def test_every_implemented_operation_runs_through_the_sdk(suite: SuiteRun) -> None:
    document = raw_document()
    routes = [
        (method.upper(), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), operation["operationId"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    ]
    # Literal paths before templated ones, so `/smartlinks/{slug}` does not swallow a literal sibling.
    routes.sort(key=lambda route: route[1].pattern.count("[^/]+"))
    exercised = set()
    for request in suite.requests:
        path = str(request["url"]).split("?", 1)[0].split("://", 1)[1].split("/", 1)[1]
        for method, pattern, operation_id in routes:
            if request["method"] == method and pattern.match("/" + path) and request["status"] != 501:
                exercised.add(operation_id)
                break
    implemented = {operation_id for _, _, operation_id in routes} - set(unimplemented_operations(document))
    missing = sorted(implemented - exercised)
    assert not missing, f"operations the server implements but no TypeScript SDK test exercises: {missing}"
