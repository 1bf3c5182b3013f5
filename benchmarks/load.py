# ruff: noqa: S603  (the benchmark starts our own interpreter, taskset and wrk)
"""HTTP load scenarios against the server as users run it, side by side with a bare reference; prints Markdown.

    python -m benchmarks.load [--seconds 10] [--connections 16] [--scenarios release_get,…] [--json PATH]
                              [--postgres URL --redis URL]

Servers: `og-server serve` (uvicorn, one worker) in production configuration — response validation off (the
default), authentication and rate limits on, limits raised for the load with OG_RATE_LIMIT_MULTIPLIER, the JSON
access log written to a file, the embedded webhook and QC workers idle beside it — and the bare reference
(benchmarks/reference_app.py) on the same uvicorn and database. Both run pinned to CPU 0; wrk drives them from
CPU 1. Every scenario gets a warm-up, its own API key (a fresh rate-limit budget) and then `--seconds` of load;
`errors` counts socket errors, timeouts and every status the scenario does not expect. The 429 scenario runs
against a second server with the published limits (multiplier 1), so its key stays exhausted while the others'
budgets stay out of the way. Runs on SQLite; with --postgres (and --redis) on PostgreSQL and Redis instead.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from benchmarks import wrk
from benchmarks.wrk import HttpRequest

ROOT = Path(__file__).resolve().parents[1]
SERVER_CPU, LOAD_CPU = 0, 1
LOAD_MULTIPLIER = "1000"  # business plan: 600/min x 1000 = 10,000 req/s sustained, far above one worker's pace
SEEDED_RELEASES = 50
REFERENCE = "bare_reference"
SMARTLINK_REFERENCE = "bare_reference_smartlink"
SMARTLINK_PAGE_REFERENCE = "bare_reference_smartlink_page"
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


SCENARIOS = [
    Scenario(
        REFERENCE,
        "bare Starlette: the release, its tracks and deliveries by id + JSON (no auth, no validation)",
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
    ),
    Scenario(
        "release_create",
        "POST /api/v1/releases",
        "app",
        frozenset({201}),
        lambda f: [
            HttpRequest(
                "POST",
                "/api/v1/releases",
                _bearer(f.keys["release_create"], **{"Content-Type": "application/json"}),
                json.dumps(RELEASE_BODY),
            )
        ],
    ),
    Scenario(
        "persons_get",
        "authenticated GET /api/v1/persons/{id}",
        "app",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/api/v1/persons/{f.person_id}", _bearer(f.keys["persons_get"]))],
    ),
    # The public smart-link page: link by slug, one INSERT of the hit, JSON; its bare twin does the same read and write.
    Scenario(
        SMARTLINK_REFERENCE,
        "bare Starlette: smart link by slug + hit INSERT + JSON (no rate limit, no validation)",
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
        SMARTLINK_REFERENCE,
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
        "bare Starlette: the same GROUP BY over the same lines + JSON",
        "reference",
        frozenset({200}),
        lambda f: [HttpRequest("GET", f"/earnings/summary/{f.account_id}")],
        "earnings_summary_bare",
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
class Measurement:
    name: str
    description: str
    backend: str
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    server_rss_mb: float
    ratio: float
    requests: int
    statuses: dict[int, int]
    load_average: float  # the machine's 1-minute load average when the scenario started
    seconds: int
    connections: int
    # The server process's own CPU time (all threads) per request, and the share of one core it got while loaded:
    # throughput moves with whatever else runs on the machine, CPU per request hardly does.
    cpu_ms_per_request: float = 0.0
    cpu_share: float = 0.0
    cpu_ratio: float = 0.0  # the reference's CPU per request / this scenario's (1.0 = as cheap as the reference)


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
    raise RuntimeError("server did not become ready in 60 s")


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


def seed_keys(env: dict[str, str]) -> tuple[str, dict[str, str], str]:
    """A business account with production access and one key per scenario, plus an exhaustible sandbox key."""
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
    keys = {name: api_keys.create_key(session, account=account, environment="production", name=name,
                                      scopes=list(SCOPES)).secret for name in sys.argv[1:]}
    sandbox = api_keys.create_key(session, account=account, environment="sandbox", name="exhausted",
                                  scopes=list(SCOPES)).secret
print(json.dumps({"account": account.id, "keys": keys, "sandbox": sandbox}))
"""
    names = [s.name for s in SCENARIOS if s.server == "app"] + ["seed"]
    done = subprocess.run(
        [sys.executable, "-c", code, *names], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["account"], data["keys"], data["sandbox"]


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


def measure(
    scenario: Scenario,
    server: Server,
    fixture: Fixture,
    backend: Backend,
    workdir: Path,
    *,
    seconds: int,
    warmup: int,
    connections: int,
) -> Measurement:
    script = workdir / f"{scenario.name}.lua"
    wrk.write_script(script, scenario.requests(fixture))
    cpu = LOAD_CPU if (os.cpu_count() or 1) > 1 else None
    if warmup:
        wrk.run(server.base_url, script, seconds=warmup, connections=connections, cpu=cpu)
    started_load = load_average()
    cpu_before = server.cpu_seconds()
    result = wrk.run(server.base_url, script, seconds=seconds, connections=connections, cpu=cpu)
    cpu_used = server.cpu_seconds() - cpu_before
    unexpected = sum(n for status, n in result.statuses.items() if status not in scenario.expected)
    return Measurement(
        name=scenario.name,
        description=scenario.description,
        backend=backend.name,
        requests_per_s=round(result.requests_per_s, 1),
        p50_ms=round(result.p50_ms, 3),
        p90_ms=round(result.p90_ms, 3),
        p99_ms=round(result.p99_ms, 3),
        max_ms=round(result.max_ms, 3),
        errors=result.socket_errors + result.timeouts + unexpected,
        server_rss_mb=round(server.rss_mb(), 1),
        ratio=0.0,
        requests=result.requests,
        statuses=result.statuses,
        load_average=started_load,
        seconds=seconds,
        connections=connections,
        cpu_ms_per_request=round(cpu_used * 1000 / result.requests, 4) if result.requests else 0.0,
        cpu_share=round(cpu_used / seconds, 3),
    )


def run_backend(
    backend: Backend, selected: set[str], *, seconds: int, warmup: int, connections: int
) -> tuple[list[Measurement], dict[str, Any]]:
    """Every selected scenario on one backend; the bare reference always runs (the ratios need it)."""
    results: list[Measurement] = []
    extra: dict[str, Any] = {}
    options = {"seconds": seconds, "warmup": warmup, "connections": connections}
    with tempfile.TemporaryDirectory(prefix="og-bench-") as tmp:
        workdir = Path(tmp)
        env = server_env(backend, workdir / "data", OG_RATE_LIMIT_MULTIPLIER=LOAD_MULTIPLIER)
        account, keys, sandbox_key = seed_keys(env)
        subprocess.run([sys.executable, "-m", "benchmarks.earnings_seed", account], env=env, cwd=ROOT, check=True)
        serve = [sys.executable, "-m", "server.cli", "serve", "--no-seed"]
        with running(serve, env, workdir / "app.log") as app:
            release_ids, person_id = seed_catalogue(app.base_url, keys["seed"])
            fixture = Fixture(release_ids, person_id, keys, sandbox_key, account)
            extra["pending"] = pending_operations(app.base_url, keys["seed"])
            reference_command = [sys.executable, "-m", "uvicorn", "benchmarks.reference_app:app", "--no-access-log"]
            with running([*reference_command, "--log-level", "warning"], env, workdir / "reference.log") as ref:
                wanted = {REFERENCE} | {s.reference for s in SCENARIOS if s.name in selected}
                for reference in SCENARIOS:
                    if reference.server == "reference" and reference.name in wanted:
                        results.append(measure(reference, ref, fixture, backend, workdir, **options))
            for scenario in SCENARIOS:
                if scenario.server == "app" and scenario.name in selected:
                    results.append(measure(scenario, app, fixture, backend, workdir, **options))
            extra["app_rss_mb"] = round(app.rss_mb(), 1)
            extra["app_peak_rss_mb"] = round(app.peak_rss_mb(), 1)
        if "rate_limited" in selected:
            limited_env = {**env, "OG_RATE_LIMIT_MULTIPLIER": "1"}
            if backend.redis_url:
                limited_env["OG_RATE_LIMIT_PREFIX"] = f"og:bench:{secrets.token_hex(4)}"
            with running(serve, limited_env, workdir / "limited.log") as limited:
                exhaust(limited.base_url, sandbox_key)
                scenario = next(s for s in SCENARIOS if s.name == "rate_limited")
                results.append(measure(scenario, limited, fixture, backend, workdir, **options))
    by_name = {m.name: m for m in results}
    reference_of = {s.name: s.reference for s in SCENARIOS}
    for measurement in results:
        base = by_name.get(reference_of[measurement.name])
        if base is None:
            continue
        measurement.ratio = round(measurement.requests_per_s / base.requests_per_s, 3) if base.requests_per_s else 0.0
        if measurement.cpu_ms_per_request:
            measurement.cpu_ratio = round(base.cpu_ms_per_request / measurement.cpu_ms_per_request, 3)
    return results, extra


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A scratch database on the given server, dropped afterwards."""
    name = f"og_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def markdown(results: list[Measurement], extra: dict[str, Any], backend: Backend) -> str:
    lines = [
        f"### HTTP load — {backend.name} ({results[0].connections} connections, {results[0].seconds} s per "
        "scenario, server on CPU 0, wrk on CPU 1)",
        "",
        "| scenario | req/s | ratio to bare | p50 ms | p99 ms | errors | server RSS MB | CPU ms/req | CPU ratio "
        "| CPU share | load avg |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in results:
        lines.append(
            f"| {m.name} — {m.description} | {m.requests_per_s:,.0f} | {m.ratio:.2f} | {m.p50_ms:.2f} | "
            f"{m.p99_ms:.2f} | {m.errors} | {m.server_rss_mb:.0f} | {m.cpu_ms_per_request:.3f} | {m.cpu_ratio:.2f} | "
            f"{m.cpu_share:.2f} | {m.load_average:.2f} |"
        )
    for name, note in extra.get("pending", {}).items():
        lines.append(f"| {name} — {note} | | | | | | | | | | |")
    lines.append("")
    lines += [f"- {note}" for note in backend.notes]
    if "app_rss_mb" in extra:
        lines.append(
            f"- Server RSS after the run: {extra['app_rss_mb']:.0f} MB (peak {extra['app_peak_rss_mb']:.0f} MB)."
        )
    lines.append(
        "- CPU ms/req: the server process's CPU time (all threads) per request; CPU ratio: the bare reference's CPU "
        "per request over the scenario's (like `ratio`, but hardly moved by other load); CPU share: the part of its "
        "core the server got while loaded (below ≈0.9 other processes took CPU 0 and req/s understates it)."
    )
    lines += targets(results)
    return "\n".join(lines)


def targets(results: list[Measurement]) -> list[str]:
    """Issue 10's first-wave targets, checked against this run."""
    out = []
    by_name = {m.name: m for m in results}
    get = by_name.get("release_get")
    if get is not None:
        out.append(
            f"- Target release_get ≥0.50 of bare: {get.ratio:.2f} ({'met' if get.ratio >= 0.5 else 'NOT met'}; "
            f"CPU ratio {get.cpu_ratio:.2f}); "
            f"p99 ≤20 ms: {get.p99_ms:.1f} ms ({'met' if get.p99_ms <= 20 else 'NOT met'})."
        )
    view = by_name.get("smartlink_view")
    if view is not None:
        met = "met" if view.ratio >= 0.5 else "NOT met"
        out.append(f"- Target smartlink_view ≥0.50 of bare_reference_smartlink: {view.ratio:.2f} ({met}).")
    page = by_name.get("smartlink_page")
    if page is not None:
        met = "met" if page.ratio >= 0.7 else "NOT met"
        out.append(f"- Target smartlink_page ≥0.70 of bare_reference_smartlink_page: {page.ratio:.2f} ({met}).")
    errors = sum(m.errors for m in results)
    out.append(f"- Target no errors under load: {errors} ({'met' if errors == 0 else 'NOT met'}).")
    rss = max(m.server_rss_mb for m in results)
    out.append(f"- Target server RSS ≤200 MB per worker: {rss:.0f} MB ({'met' if rss <= 200 else 'NOT met'}).")
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before each scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scenarios", help="comma-separated names (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--postgres", help="PostgreSQL admin URL: run there (a scratch database) instead of SQLite")
    parser.add_argument("--redis", help="Redis URL for the rate limiter (with --postgres)")
    return parser.parse_args(argv)


def run(
    *,
    seconds: int = 10,
    warmup: int = 2,
    connections: int = 16,
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
    options = {"seconds": seconds, "warmup": warmup, "connections": connections}
    if postgres:
        with postgres_database(postgres) as url:
            backend = Backend("PostgreSQL + Redis" if redis else "PostgreSQL", url, redis)
            results, extra = run_backend(backend, selected, **options)
    else:
        with tempfile.TemporaryDirectory(prefix="og-bench-db-") as tmp:
            backend = Backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            results, extra = run_backend(backend, selected, **options)
    document = {
        "backend": backend.name,
        "scenarios": [asdict(m) for m in results],
        "not_implemented_yet": extra.get("pending", {}),
        "server_rss_mb_after_run": extra.get("app_rss_mb"),
        "server_peak_rss_mb": extra.get("app_peak_rss_mb"),
    }
    return markdown(results, extra, backend), document


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report, document = run(
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        scenarios=args.scenarios,
        postgres=args.postgres,
        redis=args.redis,
    )
    print(report)
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
