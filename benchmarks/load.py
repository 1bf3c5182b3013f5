# ruff: noqa: S603  (the benchmark starts our own interpreter, taskset and wrk)
"""HTTP load scenarios against the server as users run it, side by side with a bare reference; prints Markdown.

    python -m benchmarks.load [--rounds 5] [--seconds 3] [--warmup 2] [--round-warmup 1] [--spread-bound 0.2]
                              [--connections 16] [--scenarios release_get,…] [--json PATH] [--postgres URL --redis URL]

Servers: `og-server serve` (uvicorn, one worker) in production configuration — response validation off (the
default), authentication and rate limits on, limits raised for the load with OG_RATE_LIMIT_MULTIPLIER, the JSON
access log written to a file, the embedded webhook worker idle beside it, the QC thread off (OG_QC_IN_PROCESS=0, as
when a separate worker runs QC: `track_create` leaves a pending QC job per upload, and an in-process QC thread would
analyse them, the twin's too, on the measured core during the next measurements) — and the bare twins
(benchmarks/reference_app.py: each scenario's own, doing the same queries, writes and JSON) on the same uvicorn,
database and file store. All run pinned to CPU 0; wrk drives them
from CPU 1. Every scenario gets its own API key (a fresh rate-limit budget) and a warm-up before its first round; then
every scenario and its reference are measured back to back in `--rounds` short rounds, the order alternating (A B,
B A, …; benchmarks/rounds.py), each round with its own short warm-up, and the report keeps the median of the rounds'
ratios and their spread (docs/benchmarks.md). All servers run side by side for the whole run. `errors` counts
socket errors, timeouts and every status the scenario does not expect. The 429 scenario runs against a third server
with the published limits (multiplier 1), so its key stays exhausted while the others' budgets stay out of the way.
Runs on SQLite; with --postgres (and --redis) on PostgreSQL and Redis instead.
"""

import argparse
import io
import json
import math
import os
import secrets
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks import rounds, wrk
from benchmarks.priority import raise_priority
from benchmarks.scratch import postgres_database
from benchmarks.wrk import HttpRequest

ROOT = Path(__file__).resolve().parents[1]
SERVER_CPU, LOAD_CPU = 0, 1
LOAD_MULTIPLIER = "1000"  # business plan: 600/min x 1000 = 10,000 req/s sustained, far above one worker's pace
SEEDED_RELEASES = 50
REFERENCE = "bare_reference"  # release_get's twin (the name predates the twin per scenario)
SMARTLINK_REFERENCE = "bare_reference_smartlink"
SMARTLINK_PAGE_REFERENCE = "bare_reference_smartlink_page"
SMARTLINK_CLICK_REFERENCE = "bare_reference_smartlink_click"
SMARTLINK_SLUG = "bench"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
FAN = {"User-Agent": BROWSER, "Referer": "https://www.instagram.com/"}  # a counted view, not a bot's

RELEASE_BODY = {
    "title": "Northern Lights",
    "primary_artists": ["Aurora Vale"],
    "featured_artists": ["Kito Mar"],
    "label": "Nordlicht Records",
    "genre": "electronic",
    "subgenre": "Synthwave",
    "language": "en",
}

# The track upload: a small 16-bit mono WAV (0.1 s of a 440 Hz tone, 8.9 KB) in a multipart body with the track's
# metadata, the API's `createTrack` form. The same bytes every time: after the first upload the stored copy and the
# file row are reused (content addressing), by the API and its twin alike.
MULTIPART_BOUNDARY = "og-bench-5f1c0a"
TRACK_METADATA = {"title": "Northern Lights (Intro)", "primary_artists": ["Aurora Vale"]}
# A literal public address: registering a host name would time the resolver (the API checks where it points).
WEBHOOK_BODY = {"url": "https://93.184.215.14/og-bench", "enabled_events": ["payout.status_changed"]}


def small_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(44100)
        frames = (round(8000 * math.sin(2 * math.pi * 440 * n / 44100)) for n in range(4410))
        out.writeframes(b"".join(struct.pack("<h", frame) for frame in frames))
    return buffer.getvalue()


def track_upload() -> tuple[bytes, str]:
    """The multipart body of a track with its audio, and its Content-Type."""
    head = (
        f"--{MULTIPART_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="metadata"\r\n'
        "Content-Type: application/json\r\n\r\n"
        f"{json.dumps(TRACK_METADATA)}\r\n"
        f"--{MULTIPART_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="audio"; filename="intro.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    body = head + small_wav() + f"\r\n--{MULTIPART_BOUNDARY}--\r\n".encode()
    return body, f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"


# Capabilities whose operations answer 501 today; each becomes a scenario when it lands.
PENDING: dict[str, tuple[str, str, str]] = {}


@dataclass
class Fixture:
    """What the scenarios need from the seeded database."""

    release_ids: list[str]
    person_id: str
    keys: dict[str, str]  # scenario name -> API key secret (production, business plan)
    exhausted_key: str  # a sandbox key whose budget the 429 scenario keeps exhausted
    account_id: str = ""  # the account holding the year of earnings lines (benchmarks/earnings_seed.py)
    # A second account for the webhook endpoints `webhook_endpoint_create` registers by the thousand: on the first,
    # every event of `release_create` and `track_create` would read them all for its fan-out.
    hooks_account_id: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    server: str  # "reference", "app" or "limited"
    expected: frozenset[int]
    requests: Callable[[Fixture], list[HttpRequest]]
    reference: str = REFERENCE  # the bare scenario its ratio is computed against


def _bearer(secret: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **extra}


_JSON = {"Content-Type": "application/json"}


def _upload(path: str, headers: dict[str, str]) -> HttpRequest:
    body, content_type = track_upload()
    return HttpRequest("POST", path, {**headers, "Content-Type": content_type}, body)


SCENARIOS = [
    Scenario(
        REFERENCE,
        "bare Starlette: the release, its tracks and deliveries by id, the API's release document (no auth, no "
        "validation)",
        "reference",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/releases/{rid}") for rid in f.release_ids],
    ),
    Scenario(
        "release_get",
        "authenticated GET /api/v1/releases/{id}",
        "app",
        frozenset({200}),
        lambda f: [
            HttpRequest("GET", f"/api/v1/releases/{rid}", _bearer(f.keys["release_get"])) for rid in f.release_ids
        ],
    ),
    Scenario(
        "release_list",
        "GET /api/v1/releases (a page of 20)",
        "app",
        frozenset({200}),
        lambda f: [HttpRequest("GET", "/api/v1/releases?limit=20", _bearer(f.keys["release_list"]))],
        "release_list_bare",
    ),
    Scenario(
        "release_list_bare",
        "bare Starlette: the same page query (21 newest releases), tracks and deliveries of the page in one query "
        "each, the API's list document with its cursor",
        "reference",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/accounts/{f.account_id}/releases?limit=20")],
        "release_list_bare",
    ),
    Scenario(
        "release_create",
        "POST /api/v1/releases",
        "app",
        frozenset({201}),
        lambda f: [
            HttpRequest(
                "POST", "/api/v1/releases", _bearer(f.keys["release_create"], **_JSON), json.dumps(RELEASE_BODY)
            )
        ],
        "release_create_bare",
    ),
    Scenario(
        "release_create_bare",
        "bare Starlette: INSERT the release, its document, INSERT release.created + the webhook fan-out SELECT, one "
        "transaction (no validation, no idempotency)",
        "reference",
        frozenset({201}),
        lambda f: [HttpRequest("POST", f"/accounts/{f.account_id}/releases", _JSON, json.dumps(RELEASE_BODY))],
        "release_create_bare",
    ),
    Scenario(
        "persons_get",
        "authenticated GET /api/v1/persons/{id}",
        "app",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/api/v1/persons/{f.person_id}", _bearer(f.keys["persons_get"]))],
        "persons_get_bare",
    ),
    Scenario(
        "persons_get_bare",
        "bare Starlette: the person by id, the API's person document",
        "reference",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/persons/{f.person_id}")],
        "persons_get_bare",
    ),
    Scenario(
        "track_create",
        "POST /api/v1/tracks, multipart: metadata + a 9 KB WAV (no release; QC left pending)",
        "app",
        frozenset({201}),
        lambda f: [_upload("/api/v1/tracks", _bearer(f.keys["track_create"]))],
        "track_create_bare",
    ),
    Scenario(
        "track_create_bare",
        "bare Starlette: Starlette's form parser, the file staged, hashed and stored, INSERT track, file row by "
        "digest, UPDATE track, INSERT track.created + fan-out SELECT (no media sniffing check, no schema)",
        "reference",
        frozenset({201}),
        lambda f: [_upload(f"/accounts/{f.account_id}/tracks", {})],
        "track_create_bare",
    ),
    Scenario(
        "webhook_endpoint_create",
        "POST /api/v1/webhook-endpoints (an https URL on a literal public address)",
        "app",
        frozenset({201}),
        lambda f: [
            HttpRequest(
                "POST",
                "/api/v1/webhook-endpoints",
                _bearer(f.keys["webhook_endpoint_create"], **_JSON),
                json.dumps(WEBHOOK_BODY),
            )
        ],
        "webhook_endpoint_create_bare",
    ),
    Scenario(
        "webhook_endpoint_create_bare",
        "bare Starlette: the service's URL rules, a new secret encrypted under the server key, INSERT the endpoint, "
        "its document with the secret",
        "reference",
        frozenset({201}),
        lambda f: [
            HttpRequest("POST", f"/accounts/{f.hooks_account_id}/webhook-endpoints", _JSON, json.dumps(WEBHOOK_BODY))
        ],
        "webhook_endpoint_create_bare",
    ),
    # The public smart-link page: link by slug, one INSERT of the hit, JSON; its bare twin does the same read and write.
    Scenario(
        SMARTLINK_REFERENCE,
        "bare Starlette: smart link by slug + hit INSERT + the public document (no rate limit, no validation)",
        "reference",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/smartlinks/{SMARTLINK_SLUG}", FAN)],
        SMARTLINK_REFERENCE,
    ),
    Scenario(
        "smartlink_view",
        "public GET /api/v1/smartlinks/{slug} (records a view)",
        "app",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/api/v1/smartlinks/{SMARTLINK_SLUG}", FAN)],
        SMARTLINK_REFERENCE,
    ),
    Scenario(
        "smartlink_click",
        "public GET /api/v1/smartlinks/{slug}/go/spotify (records a click, 302)",
        "app",
        frozenset({302}),  # wrk never follows redirects
        lambda f: [HttpRequest("GET", f"/api/v1/smartlinks/{SMARTLINK_SLUG}/go/spotify", FAN)],
        SMARTLINK_CLICK_REFERENCE,
    ),
    Scenario(
        SMARTLINK_CLICK_REFERENCE,
        "bare Starlette: smart link by slug, its destination, click INSERT, 302 (no rate limit, no validation)",
        "reference",
        frozenset({302}),
        lambda f: [HttpRequest("GET", f"/smartlinks/{SMARTLINK_SLUG}/go/spotify", FAN)],
        SMARTLINK_CLICK_REFERENCE,
    ),
    # The fan's HTML page: link, release and tracks read, one hit INSERT, the Jinja2 template rendered; its bare
    # twin does the same reads, write and render in one plain Starlette route.
    Scenario(
        SMARTLINK_PAGE_REFERENCE,
        "bare Starlette: smart link + release + tracks, hit INSERT, the page's template rendered",
        "reference",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/smartlinks/{SMARTLINK_SLUG}/page", FAN)],
        SMARTLINK_PAGE_REFERENCE,
    ),
    Scenario(
        "smartlink_page",
        "the fan's HTML page GET /l/{slug} (records a view)",
        "app",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/l/{SMARTLINK_SLUG}", FAN)],
        SMARTLINK_PAGE_REFERENCE,
    ),
    Scenario(
        "earnings_summary",
        "GET /api/v1/earnings/summary?group_by=period over a year of lines (3,000)",
        "app",
        frozenset({200}),
        lambda f: [HttpRequest("GET", "/api/v1/earnings/summary?group_by=period", _bearer(f.keys["earnings_summary"]))],
        "earnings_summary_bare",
    ),
    Scenario(
        "earnings_summary_bare",
        "bare Starlette: the account's currency, the same GROUP BY over the same lines, the summary document",
        "reference",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/earnings/summary/{f.account_id}")],
        "earnings_summary_bare",
    ),
    Scenario(
        "earnings_list",
        "GET /api/v1/earnings (a page of 20 of the 3,000 lines)",
        "app",
        frozenset({200}),
        lambda f: [HttpRequest("GET", "/api/v1/earnings?limit=20", _bearer(f.keys["earnings_list"]))],
        "earnings_list_bare",
    ),
    Scenario(
        "earnings_list_bare",
        "bare Starlette: the same page query (21 newest lines), the API's list document with its cursor",
        "reference",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/accounts/{f.account_id}/earnings?limit=20")],
        "earnings_list_bare",
    ),
    Scenario(
        "balance",
        "GET /api/v1/balance over the year of lines",
        "app",
        frozenset({200}),
        lambda f: [HttpRequest("GET", "/api/v1/balance", _bearer(f.keys["balance"]))],
        "balance_bare",
    ),
    Scenario(
        "balance_bare",
        "bare Starlette: the balance's queries (server.services.balance.compute: the account, 3 sums) + JSON",
        "reference",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/accounts/{f.account_id}/balance")],
        "balance_bare",
    ),
    Scenario(
        "rate_limited",
        "429 for a key whose budget is exhausted (published limits)",
        "limited",
        # The sandbox budget refills at 1 request/s: those few are admitted (200), as the product promises.
        frozenset({429, 200}),
        lambda f: [HttpRequest("GET", "/api/v1/releases?limit=20", _bearer(f.exhausted_key))],
    ),
]


@dataclass
class Round:
    """One wrk run of one scenario: the raw figures of a round (the JSON's `rounds`)."""

    round: int
    pair: str  # the scenario this measurement was paired with (itself for a scenario; the scenario for a reference)
    position: int  # 0: measured first of its pair in this round, 1: second
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    requests: int
    statuses: dict[int, int]
    load_average: float  # the machine's 1-minute load average when the round started
    # The server process's own CPU time (all threads) per request, and the share of one core it got while loaded:
    # throughput moves with whatever else runs on the machine, CPU per request hardly does.
    cpu_ms_per_request: float
    cpu_share: float
    server_rss_mb: float
    ratio: float = 0.0  # this round's req/s over its reference's in the same round
    cpu_ratio: float = 0.0  # the reference's CPU per request over this one's (1.0 = as cheap as the reference)
    p99_ratio: float = 0.0  # this round's p99 over its reference's (≤ 1.0 = no worse than the reference)


@dataclass
class Measurement:
    """A scenario over all its rounds: medians, the ratio's spread, and the rounds themselves."""

    name: str
    description: str
    backend: str
    reference: str  # the bare scenario its ratios are taken against
    requests_per_s: float  # median over the rounds
    p50_ms: float  # median over the rounds
    p90_ms: float
    p99_ms: float
    max_ms: float  # the worst of every round
    errors: int  # summed over the rounds
    server_rss_mb: float  # after the last round
    ratio: float  # = ratio_median
    ratio_median: float
    ratio_spread: dict[str, float]  # min, max, q1, q3, range_relative, iqr_relative (benchmarks/rounds.py)
    unstable: bool  # the rounds' IQR is wider than spread_bound x the median
    spread_bound: float
    requests: int  # summed over the rounds
    statuses: dict[int, int]  # summed over the rounds
    load_average: float  # median of the rounds' 1-minute load averages
    load_average_range: list[float]
    seconds: int  # measured seconds per round
    connections: int
    cpu_ms_per_request: float  # median over the rounds
    cpu_share: float  # median over the rounds
    cpu_ratio: float  # median of the rounds' CPU ratios
    p99_ratio: float  # median of the rounds' p99 ratios
    rounds: list[Round]


@dataclass
class Backend:
    name: str
    database_url: str
    redis_url: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def rss_mb(self) -> float:
        return _status_kb(self.process.pid, "VmRSS") / 1024

    def peak_rss_mb(self) -> float:
        return _status_kb(self.process.pid, "VmHWM") / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far, all threads (from /proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for process {pid}")


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pinned(command: list[str]) -> list[str]:
    return ["taskset", "-c", str(SERVER_CPU), *command] if os.cpu_count() and os.cpu_count() > 1 else command  # type: ignore[operator]


def start(command: list[str], env: dict[str, str], log_path: Path, port: int) -> Server:
    with log_path.open("wb") as log:
        process = subprocess.Popen(_pinned(command), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return Server(base_url, process, log_path)
        except httpx.TransportError:
            time.sleep(0.1)
    stop(Server(base_url, process, log_path))
    # Seen when processes of higher priority kept the server's core busy (another benchmark at niceness -20).
    raise RuntimeError(
        f"server did not become ready in 60 s (load average {load_average():.1f}):\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@contextmanager
def running(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[Server]:
    port = _free_port()
    server = start([*command, "--host", "127.0.0.1", "--port", str(port)], env, log_path, port)
    try:
        yield server
    finally:
        stop(server)


def server_env(backend: Backend, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OG_")}
    env.update(
        {
            "OG_DATA_DIR": str(data_dir),
            "OG_DATABASE_URL": backend.database_url,
            "OG_SECRET_KEY": "bench-" + secrets.token_hex(8),
            **extra,
        }
    )
    if backend.redis_url:
        env["OG_REDIS_URL"] = backend.redis_url
        env.setdefault("OG_RATE_LIMIT_PREFIX", f"og:bench:{secrets.token_hex(4)}")
    return env


HOOKS_SCENARIOS = frozenset({"webhook_endpoint_create"})  # their keys belong to the second account (Fixture)


def seed_keys(env: dict[str, str]) -> tuple[str, dict[str, str], str, str]:
    """A business account with production access and one key per scenario, plus an exhaustible sandbox key; and a
    second such account for the webhook endpoints (`Fixture.hooks_account_id`), with the keys of HOOKS_SCENARIOS."""
    code = """
import json, sys
from server.config import Settings
from server.db import engine as db
from server.db.engine import session_scope
from server.db.migrate import upgrade_to_head
from server.scopes import SCOPES
from server.services import accounts, api_keys
settings = Settings.from_env()
db.configure(settings)
upgrade_to_head(settings.database_url)
with session_scope() as session:
    account, _u, _p = accounts.create_account(session, name="Bench", email="bench@example.com", password="x" * 16,
                                              plan="business", production_access=True, mock_data=False)
    hooks, _u, _p = accounts.create_account(session, name="Bench hooks", email="hooks@example.com",
                                            password="x" * 16, plan="business", production_access=True,
                                            mock_data=False)
    hooks_names = set(json.loads(sys.argv[1]))
    keys = {name: api_keys.create_key(session, account=hooks if name in hooks_names else account,
                                      environment="production", name=name, scopes=list(SCOPES)).secret
            for name in sys.argv[2:]}
    sandbox = api_keys.create_key(session, account=account, environment="sandbox", name="exhausted",
                                  scopes=list(SCOPES)).secret
print(json.dumps({"account": account.id, "hooks": hooks.id, "keys": keys, "sandbox": sandbox}))
"""
    names = [s.name for s in SCENARIOS if s.server == "app"] + ["seed"]
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(sorted(HOOKS_SCENARIOS)), *names],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["account"], data["keys"], data["sandbox"], data["hooks"]


def seed_catalogue(base_url: str, key: str) -> tuple[list[str], str]:
    with httpx.Client(base_url=base_url, headers=_bearer(key), timeout=30) as client:
        release_ids = []
        for _ in range(SEEDED_RELEASES):
            created = client.post("/api/v1/releases", json=RELEASE_BODY)
            created.raise_for_status()
            release_ids.append(created.json()["id"])
        person = client.post("/api/v1/persons", json={"name": "Mara Lindqvist", "email": "mara@example.com"})
        person.raise_for_status()
        link = {
            "release_id": release_ids[0],
            "slug": SMARTLINK_SLUG,
            "destinations": [{"service": "spotify", "url": "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"}],
        }
        client.post("/api/v1/smartlinks", json=link).raise_for_status()
        # The upload's file row and stored copy exist before the load: 16 first uploads of the same bytes at once
        # would race for the one row (a unique digest per account), which no user's uploads do.
        body, content_type = track_upload()
        client.post("/api/v1/tracks", content=body, headers={"Content-Type": content_type}).raise_for_status()
        return release_ids, person.json()["id"]


def exhaust(base_url: str, secret: str) -> None:
    with httpx.Client(base_url=base_url, headers=_bearer(secret), timeout=30) as client:
        for _ in range(1000):
            if client.get("/api/v1/releases?limit=20").status_code == 429:
                return
    raise RuntimeError("the sandbox key was never refused: are the published limits in force?")


def pending_operations(base_url: str, key: str) -> dict[str, str]:
    """Each pending capability: 'not implemented yet' while its operation answers 501."""
    found = {}
    with httpx.Client(base_url=base_url, headers=_bearer(key), timeout=30) as client:
        for name, (method, path, description) in PENDING.items():
            status = client.request(method, path).status_code
            found[name] = (
                f"{description}: not implemented yet (answers 501)"
                if status == 501
                else f"{description}: implemented (answers {status}) — add its scenario to benchmarks/load.py"
            )
    return found


def measure_once(
    scenario: Scenario,
    server: Server,
    script: Path,
    step: rounds.Step,
    position: int,
    *,
    seconds: int,
    warmup: int,
    connections: int,
) -> Round:
    """One round of one scenario: an optional short warm-up, then `seconds` of wrk with the server's CPU time read."""
    cpu = LOAD_CPU if (os.cpu_count() or 1) > 1 else None
    if warmup:
        wrk.run(server.base_url, script, seconds=warmup, connections=connections, cpu=cpu)
    started_load = load_average()
    cpu_before = server.cpu_seconds()
    result = wrk.run(server.base_url, script, seconds=seconds, connections=connections, cpu=cpu)
    cpu_used = server.cpu_seconds() - cpu_before
    unexpected = sum(n for status, n in result.statuses.items() if status not in scenario.expected)
    return Round(
        round=step.round,
        pair=step.pair,
        position=position,
        requests_per_s=round(result.requests_per_s, 1),
        p50_ms=round(result.p50_ms, 3),
        p90_ms=round(result.p90_ms, 3),
        p99_ms=round(result.p99_ms, 3),
        max_ms=round(result.max_ms, 3),
        errors=result.socket_errors + result.timeouts + unexpected,
        requests=result.requests,
        statuses=result.statuses,
        load_average=started_load,
        cpu_ms_per_request=round(cpu_used * 1000 / result.requests, 4) if result.requests else 0.0,
        cpu_share=round(cpu_used / result.duration_s, 3) if result.duration_s else 0.0,
        server_rss_mb=round(server.rss_mb(), 1),
    )


def pair_rounds(scenario: list[Round], reference: list[Round]) -> None:
    """Fill each of the scenario's rounds with its ratios to the reference measured beside it in the same round."""

    def per_round(figure: str, *, invert: bool = False) -> dict[int, float]:
        return dict(
            rounds.paired(
                [(r.round, getattr(r, figure)) for r in scenario],
                [(r.round, getattr(r, figure)) for r in reference],
                invert=invert,
            )
        )

    ratio, cpu, p99 = per_round("requests_per_s"), per_round("cpu_ms_per_request", invert=True), per_round("p99_ms")
    for r in scenario:
        r.ratio, r.cpu_ratio, r.p99_ratio = ratio.get(r.round, 0.0), cpu.get(r.round, 0.0), p99.get(r.round, 0.0)


def aggregate(
    scenario: Scenario,
    figures: list[Round],
    reference: list[Round],
    backend: str,
    *,
    seconds: int,
    connections: int,
    bound: float = rounds.SPREAD_BOUND,
) -> Measurement:
    """A scenario's rounds (already measured) summarised against its reference's rounds of the same pairs.

    A reference's own rounds all have ratio 1.0 (it is what the others are divided by). Medians, not means: one
    round that the machine's other load hit hard moves the spread, not the result.
    """
    if scenario.reference == scenario.name:
        for r in figures:
            r.ratio = r.cpu_ratio = r.p99_ratio = 1.0
    else:
        pair_rounds(figures, [r for r in reference if r.pair == scenario.name])
    ratios = [r.ratio for r in figures]
    stats = rounds.summary(ratios, bound)
    statuses: dict[int, int] = {}
    for r in figures:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    loads = [r.load_average for r in figures]

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 4)

    return Measurement(
        name=scenario.name,
        description=scenario.description,
        backend=backend,
        reference=scenario.reference,
        requests_per_s=round(statistics.median(r.requests_per_s for r in figures), 1),
        p50_ms=median([r.p50_ms for r in figures]),
        p90_ms=median([r.p90_ms for r in figures]),
        p99_ms=median([r.p99_ms for r in figures]),
        max_ms=max(r.max_ms for r in figures),
        errors=sum(r.errors for r in figures),
        server_rss_mb=figures[-1].server_rss_mb,
        ratio=stats["ratio_median"],
        ratio_median=stats["ratio_median"],
        ratio_spread=stats["ratio_spread"],
        unstable=stats["unstable"],
        spread_bound=bound,
        requests=sum(r.requests for r in figures),
        statuses=dict(sorted(statuses.items())),
        load_average=median(loads),
        load_average_range=[min(loads), max(loads)],
        seconds=seconds,
        connections=connections,
        cpu_ms_per_request=median([r.cpu_ms_per_request for r in figures]),
        cpu_share=median([r.cpu_share for r in figures]),
        cpu_ratio=median([r.cpu_ratio for r in figures]),
        p99_ratio=median([r.p99_ratio for r in figures]),
        rounds=figures,
    )


def pairs_for(selected: set[str]) -> list[tuple[str, str]]:
    """(scenario, reference) for every selected scenario, in SCENARIOS order; a bare twin selected on its own is
    measured alone (its own reference), and one that some selected scenario needs is measured beside it."""
    pairs = [(s.name, s.reference) for s in SCENARIOS if s.name in selected and s.name != s.reference]
    needed = {reference for _name, reference in pairs}
    pairs += [
        (s.name, s.name) for s in SCENARIOS if s.name in selected and s.name == s.reference and s.name not in needed
    ]
    return pairs


def _progress(backend: Backend, step: rounds.Step, total: int, figures: Round) -> None:
    """One line per measurement on stderr as it happens: what the machine was doing while the round ran."""
    print(
        f"[{backend.name}] round {step.round + 1}/{total} {step.name:<30} {figures.requests_per_s:8,.0f} req/s  "
        f"p99 {figures.p99_ms:7.1f} ms  server CPU share {figures.cpu_share:.2f}  "
        f"load average {figures.load_average:.2f}",
        file=sys.stderr,
        flush=True,
    )


def run_backend(
    backend: Backend,
    selected: set[str],
    *,
    seconds: int,
    warmup: int,
    connections: int,
    rounds_: int = 5,
    round_warmup: int = 1,
    bound: float = rounds.SPREAD_BOUND,
) -> tuple[list[Measurement], dict[str, Any]]:
    """Every selected scenario on one backend, interleaved with its reference in rounds (benchmarks/rounds.py).

    All servers run side by side for the whole run (pinned to the same core; the one not being measured idles), so
    a scenario and its reference are measured seconds apart in each round instead of minutes apart in one go.
    """
    extra: dict[str, Any] = {}
    by_name = {s.name: s for s in SCENARIOS}
    pairs = pairs_for(selected)
    steps = rounds.schedule(pairs, rounds_)
    with tempfile.TemporaryDirectory(prefix="og-bench-") as tmp, ExitStack() as servers:
        workdir = Path(tmp)
        env = server_env(backend, workdir / "data", OG_RATE_LIMIT_MULTIPLIER=LOAD_MULTIPLIER, OG_QC_IN_PROCESS="0")
        account, keys, sandbox_key, hooks_account = seed_keys(env)
        subprocess.run([sys.executable, "-m", "benchmarks.earnings_seed", account], env=env, cwd=ROOT, check=True)
        serve = [sys.executable, "-m", "server.cli", "serve", "--no-seed"]
        app = servers.enter_context(running(serve, env, workdir / "app.log"))
        release_ids, person_id = seed_catalogue(app.base_url, keys["seed"])
        fixture = Fixture(release_ids, person_id, keys, sandbox_key, account, hooks_account)
        extra["pending"] = pending_operations(app.base_url, keys["seed"])
        reference_command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "benchmarks.reference_app:from_env",
            "--no-access-log",
        ]
        running_on = {
            "app": app,
            "reference": servers.enter_context(
                running([*reference_command, "--log-level", "warning"], env, workdir / "reference.log")
            ),
        }
        names = list(dict.fromkeys(step.name for step in steps))
        if any(by_name[name].server == "limited" for name in names):
            # The 429 scenario's server keeps the published limits (multiplier 1), so its key stays exhausted while
            # the other scenarios' budgets stay out of the way.
            limited_env = {**env, "OG_RATE_LIMIT_MULTIPLIER": "1"}
            if backend.redis_url:
                limited_env["OG_RATE_LIMIT_PREFIX"] = f"og:bench:{secrets.token_hex(4)}"
            running_on["limited"] = servers.enter_context(running(serve, limited_env, workdir / "limited.log"))
            exhaust(running_on["limited"].base_url, sandbox_key)
        scripts = {}
        cpu = LOAD_CPU if (os.cpu_count() or 1) > 1 else None
        for name in names:
            scripts[name] = workdir / f"{name}.lua"
            wrk.write_script(scripts[name], by_name[name].requests(fixture))
            if warmup:  # the first time a scenario runs: pools, caches and lazy imports filled once
                wrk.run(
                    running_on[by_name[name].server].base_url,
                    scripts[name],
                    seconds=warmup,
                    connections=connections,
                    cpu=cpu,
                )
        figures: dict[str, list[Round]] = {name: [] for name in names}
        position: dict[tuple[int, str], int] = {}
        for step in steps:
            scenario = by_name[step.name]
            place = position[(step.round, step.pair)] = position.get((step.round, step.pair), -1) + 1
            measured = measure_once(
                scenario,
                running_on[scenario.server],
                scripts[step.name],
                step,
                place,
                seconds=seconds,
                warmup=round_warmup,
                connections=connections,
            )
            figures[step.name].append(measured)
            _progress(backend, step, rounds_, measured)
        extra["app_rss_mb"] = round(app.rss_mb(), 1)
        extra["app_peak_rss_mb"] = round(app.peak_rss_mb(), 1)
    results = [
        aggregate(
            by_name[name],
            figures[name],
            figures.get(by_name[name].reference, []),
            backend.name,
            seconds=seconds,
            connections=connections,
            bound=bound,
        )
        for name in names
    ]
    extra["rounds"] = rounds_
    extra["round_warmup"] = round_warmup
    extra["spread_bound"] = bound
    return results, extra


def markdown(results: list[Measurement], extra: dict[str, Any], backend: Backend) -> str:
    first = results[0]
    bound = extra.get("spread_bound", rounds.SPREAD_BOUND)
    lines = [
        f"### HTTP load — {backend.name} ({first.connections} connections; {extra.get('rounds', 1)} interleaved rounds "
        f"of {first.seconds} s per scenario and per reference, {extra.get('round_warmup', 0)} s warm-up each; server "
        "on CPU 0, wrk on CPU 1)",
        "",
        "| scenario | reference | req/s | ratio (median) | spread: min-max (IQR) | status | p50 ms | p99 ms "
        "| p99 ratio | errors | server RSS MB | CPU ms/req | CPU ratio | CPU share | load avg |",
        "| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for m in results:
        status = "reference" if m.reference == m.name else ("**unstable**" if m.unstable else "stable")
        low, high = m.load_average_range
        lines.append(
            f"| {m.name} — {m.description} | {m.reference} | {m.requests_per_s:,.0f} | {m.ratio_median:.2f} | "
            f"{rounds.describe(m.ratio_spread)} | {status} | {m.p50_ms:.2f} | {m.p99_ms:.2f} | {m.p99_ratio:.2f} | "
            f"{m.errors} | {m.server_rss_mb:.0f} | {m.cpu_ms_per_request:.3f} | {m.cpu_ratio:.2f} | "
            f"{m.cpu_share:.2f} | {low:.1f}-{high:.1f} |"
        )
    for name, note in extra.get("pending", {}).items():
        lines.append(f"| {name} — {note} |" + " |" * 14)
    lines += ["", "Rounds (ratio to the reference measured beside it; server CPU share; load average):", ""]
    for m in results:
        if m.reference == m.name:
            continue
        cells = [f"{r.ratio:.2f} (CPU {r.cpu_share:.2f}, load {r.load_average:.1f})" for r in m.rounds]
        lines.append(f"- {m.name}: " + " · ".join(cells))
    lines.append("")
    lines += [f"- {note}" for note in backend.notes]
    if "app_rss_mb" in extra:
        lines.append(
            f"- Server RSS after the run: {extra['app_rss_mb']:.0f} MB (peak {extra['app_peak_rss_mb']:.0f} MB)."
        )
    lines.append(
        "- ratio: the median over the rounds of the scenario's req/s over its reference's in the same round (the two "
        "measured back to back, the order alternating); spread: the rounds' min-max and interquartile range (± half "
        f"the IQR relative to the median); **unstable**: an IQR wider than {bound:.0%} of the median — the machine's "
        "other load moved the rounds apart, so the median is not to be read as a pass or a fail (docs/benchmarks.md)."
    )
    lines.append(
        "- CPU ms/req: the server process's CPU time (all threads) per request; CPU ratio: the reference's CPU per "
        "request over the scenario's (like `ratio`, but hardly moved by other load); CPU share: the part of its core "
        "the server got while loaded (below ≈0.9 other processes took CPU 0 and req/s understates it); p99 ratio: "
        "the scenario's p99 over its reference's."
    )
    lines += targets(results, extra.get("app_peak_rss_mb"))
    return "\n".join(lines)


def _verdict(measurement: Measurement, met: bool) -> str:
    """`met` / `NOT met`, or `unstable` when the rounds disagree too much for the median to decide."""
    if measurement.unstable:
        return f"unstable: spread {rounds.describe(measurement.ratio_spread)}, not judged"
    return "met" if met else "NOT met"


RSS_TARGET_MB = 200


def rss_target(results: list[Measurement], peak_rss_mb: float | None = None) -> str:
    """The RSS line: the largest server RSS after a round and, when known, the API server's peak (VmHWM) over its
    whole life, start-up included. Both must stay within the target: a peak over it is memory the machine must have,
    even if the process gave it back before the end of the run."""
    rss = max(m.server_rss_mb for m in results)
    met = rss <= RSS_TARGET_MB and (peak_rss_mb is None or peak_rss_mb <= RSS_TARGET_MB)
    peak = "" if peak_rss_mb is None else f", peak {peak_rss_mb:.0f} MB"
    verdict = "met" if met else "NOT met"
    return f"- Target server RSS ≤{RSS_TARGET_MB} MB per worker: {rss:.0f} MB after the run{peak} ({verdict})."


def targets(results: list[Measurement], peak_rss_mb: float | None = None) -> list[str]:
    """Issue 10's first-wave targets, checked against this run (on the median ratio; unstable ones not judged).
    `peak_rss_mb`: the API server's VmHWM, judged by the RSS line beside the RSS after the run."""
    out = []
    by_name = {m.name: m for m in results}
    get = by_name.get("release_get")
    if get is not None:
        out.append(
            f"- Target release_get ≥0.50 of bare: {get.ratio:.2f} ({_verdict(get, get.ratio >= 0.5)}; "
            f"CPU ratio {get.cpu_ratio:.2f}); "
            f"p99 ≤20 ms: {get.p99_ms:.1f} ms ({'met' if get.p99_ms <= 20 else 'NOT met'})."
        )
    view = by_name.get("smartlink_view")
    if view is not None:
        out.append(
            f"- Target smartlink_view ≥0.50 of bare_reference_smartlink: {view.ratio:.2f} "
            f"({_verdict(view, view.ratio >= 0.5)})."
        )
    page = by_name.get("smartlink_page")
    if page is not None:
        out.append(
            f"- Target smartlink_page ≥0.70 of bare_reference_smartlink_page: {page.ratio:.2f} "
            f"({_verdict(page, page.ratio >= 0.7)})."
        )
    out += wave_two(results)
    errors = sum(m.errors for m in results)
    out.append(f"- Target no errors under load: {errors} ({'met' if errors == 0 else 'NOT met'}).")
    out.append(rss_target(results, peak_rss_mb))
    unstable = [m.name for m in results if m.unstable]
    if unstable:
        out.append(f"- Unstable (spread wider than the bound): {', '.join(unstable)}.")
    return out


# Issue 22's targets, against each scenario's own twin in the same run: reads ≥ 0.8, writes ≥ 0.6, and every
# scenario's p99 no worse than its twin's (p99_ratio ≤ 1).
READS = ("release_get", "persons_get", "release_list", "earnings_list", "balance")
WRITES = ("release_create", "track_create", "webhook_endpoint_create")
READ_TARGET, WRITE_TARGET, P99_TARGET = 0.8, 0.6, 1.0


def wave_two(results: list[Measurement]) -> list[str]:
    """Issue 22's lines: each read and write against its floor, and every scenario's p99 against its twin's."""
    out = []
    for m in results:
        if m.reference == m.name:
            continue
        goal = READ_TARGET if m.name in READS else WRITE_TARGET if m.name in WRITES else None
        if goal is not None:
            out.append(
                f"- Target (issue 22) {m.name} ≥{goal:.2f} of {m.reference}: {m.ratio:.2f} "
                f"({_verdict(m, m.ratio >= goal)}; CPU ratio {m.cpu_ratio:.2f})."
            )
        out.append(
            f"- Target (issue 22) {m.name} p99 ≤ its twin's (p99 ratio ≤{P99_TARGET:.0f}): {m.p99_ratio:.2f} "
            f"({_verdict(m, m.p99_ratio <= P99_TARGET)}; p99 {m.p99_ms:.1f} ms)."
        )
    return out


DEFAULT_ROUNDS, DEFAULT_SECONDS, DEFAULT_ROUND_WARMUP, DEFAULT_WARMUP = 5, 3, 1, 2


def add_round_options(parser: argparse.ArgumentParser) -> None:
    """The load options benchmarks.load and benchmarks.suite share."""
    parser.add_argument(
        "--rounds", type=int, default=DEFAULT_ROUNDS, help="interleaved rounds per scenario and its reference"
    )
    parser.add_argument("--seconds", type=int, default=DEFAULT_SECONDS, help="measured seconds per scenario per round")
    parser.add_argument(
        "--warmup", type=int, default=DEFAULT_WARMUP, help="unmeasured seconds before a scenario's first round"
    )
    parser.add_argument(
        "--round-warmup", type=int, default=DEFAULT_ROUND_WARMUP, help="unmeasured seconds before every round"
    )
    parser.add_argument(
        "--spread-bound",
        type=float,
        default=rounds.SPREAD_BOUND,
        help="a scenario whose rounds' IQR exceeds this fraction of their median is marked unstable",
    )
    parser.add_argument("--connections", type=int, default=16)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_round_options(parser)
    parser.add_argument("--scenarios", help="comma-separated names (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--postgres", help="PostgreSQL admin URL: run there (a scratch database) instead of SQLite")
    parser.add_argument("--redis", help="Redis URL for the rate limiter (with --postgres)")
    return parser.parse_args(argv)


def run(
    *,
    seconds: int = DEFAULT_SECONDS,
    warmup: int = DEFAULT_WARMUP,
    connections: int = 16,
    rounds_: int = DEFAULT_ROUNDS,
    round_warmup: int = DEFAULT_ROUND_WARMUP,
    spread_bound: float = rounds.SPREAD_BOUND,
    scenarios: str | None = None,
    postgres: str | None = None,
    redis: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Run the selected scenarios on SQLite, or on PostgreSQL (+ Redis); the Markdown report and the JSON document."""
    known = {s.name for s in SCENARIOS}
    selected = set(scenarios.split(",")) if scenarios else known
    if selected - known:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(selected - known))} (known: {', '.join(known)})")
    wrk.require_wrk()

    def on(backend: Backend) -> tuple[list[Measurement], dict[str, Any]]:
        return run_backend(
            backend,
            selected,
            seconds=seconds,
            warmup=warmup,
            connections=connections,
            rounds_=rounds_,
            round_warmup=round_warmup,
            bound=spread_bound,
        )

    if postgres:
        with postgres_database(postgres) as url:
            backend = Backend("PostgreSQL + Redis" if redis else "PostgreSQL", url, redis)
            results, extra = on(backend)
    else:
        with tempfile.TemporaryDirectory(prefix="og-bench-db-") as tmp:
            backend = Backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            results, extra = on(backend)
    document = {
        "backend": backend.name,
        "scenarios": [asdict(m) for m in results],
        "rounds": extra["rounds"],
        "round_warmup_s": extra["round_warmup"],
        "spread_bound": extra["spread_bound"],
        "not_implemented_yet": extra.get("pending", {}),
        "server_rss_mb_after_run": extra.get("app_rss_mb"),
        "server_peak_rss_mb": extra.get("app_peak_rss_mb"),
    }
    return markdown(results, extra, backend), document


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    priority = raise_priority()  # inherited by the servers and wrk (benchmarks/priority.py)
    report, document = run(
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        rounds_=args.rounds,
        round_warmup=args.round_warmup,
        spread_bound=args.spread_bound,
        scenarios=args.scenarios,
        postgres=args.postgres,
        redis=args.redis,
    )
    print(report)
    if args.json:
        args.json.write_text(json.dumps({**document, "priority": priority}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
