"""One command per job. The README names the two that matter: `nox -s serve` and `nox -s ci`.

Sessions share one virtualenv (`.nox/dev`) so a full CI run installs the project once.
"""

import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
CODEGEN = ROOT / "codegen"
REDOCLY = CODEGEN / "node_modules" / ".bin" / "redocly"
OPENAPI_TS = CODEGEN / "node_modules" / ".bin" / "openapi-ts"
TS_SDK_GENERATED = ROOT / "sdk-typescript" / "src" / "generated"
SPEC_SOURCE = "spec/openapi.yaml"
SPEC_BUNDLE = ROOT / "spec" / "dist" / "openapi.json"

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["ci"]

PYTHON = "3.11"

# The tests whose outcome depends on the date: split start dates, pre-save moments, release lead times, earnings
# settlement after 30 days, payouts, API-key rotation grace, OAuth token lifetimes, webhook retry schedules and
# retention, signature time windows, sandbox test clocks, invitation links' expiry, dashboard sessions and the
# request log's 7 days, smart-link pages' countdowns. `nox -s clock` runs them again under a clock moved ahead
# (Debian's faketime, libfaketime preloaded into the test process and every server it starts): a suite that passes
# today must pass next year. Rules meant to change with the date are tested with `server.clock.shifted`, not here.
DATE_SENSITIVE_TESTS = [
    "tests/test_dates.py",
    "tests/server/test_authorization_matrix.py",
    "tests/server/test_splits.py",
    "tests/server/test_earnings.py",
    "tests/server/test_payouts.py",
    "tests/server/test_smartlinks.py",
    "tests/server/test_releases.py",
    "tests/server/test_api_keys.py",
    "tests/server/test_authentication.py",
    "tests/server/test_oauth_flow.py",
    "tests/server/test_dsp_sync.py",
    "tests/server/test_idempotency.py",
    "tests/server/test_inbound_webhooks.py",
    "tests/server/test_sandbox.py",
    "tests/server/test_sandbox_clock.py",
    "tests/server/test_release_rules.py",
    "tests/server/test_release_operations.py",
    "tests/server/test_identifiers.py",
    "tests/webhooks",
    "tests/invitations",
    "tests/web",
    "tests/cli",
]
# 400 days: next year, past a year boundary and a leap day (2028-02-29); 5 years: far enough that no fixed date
# written today is still ahead.
CLOCK_SHIFTS = ["+400d", "+5y"]


def _install(session: nox.Session) -> None:
    """The project and its pinned dependencies, compiled to bytecode once here.

    Machines of this kind set PYTHONDONTWRITEBYTECODE=1, so no process ever writes a `.pyc`: every Python process
    the tests start (servers, workers, CLI runs: hundreds) compiled SQLAlchemy, connexion, numpy and scipy from
    source again, 3.9 s of CPU to import the server instead of 1.5 s. Reading `.pyc` files is still allowed, so they
    are written once, at install: uv compiles the virtualenv, compileall the project's own code."""
    session.install("-e", ".[dev]", env={"UV_COMPILE_BYTECODE": "1"})
    session.run("python", "-m", "compileall", "-q", "-j", "0", *_OWN_CODE, silent=True)


_OWN_CODE = ["server", "tests", "benchmarks", "sdk-python", "codegen"]


def _node_tools(session: nox.Session) -> None:
    """The pinned Node tools in codegen/ (Redocly, @hey-api/openapi-ts, TypeScript), as package-lock.json pins them."""
    if not (REDOCLY.exists() and OPENAPI_TS.exists()):
        with session.chdir(CODEGEN):
            session.run("npm", "ci", "--no-audit", "--no-fund", external=True)


def _bundle(session: nox.Session, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    session.run(
        str(REDOCLY),
        "bundle",
        SPEC_SOURCE,
        "--config",
        "spec/redocly.yaml",
        "--ext",
        "json",
        "-o",
        str(output),
        external=True,
        silent=True,
    )


def _generate_ts_sdk(session: nox.Session, output: Path) -> None:
    """The TypeScript SDK's generated half (types and request functions), from the bundled spec."""
    session.run(
        str(OPENAPI_TS),
        "-f",
        str(CODEGEN / "openapi-ts.config.mjs"),
        "--no-log-file",
        "--silent",
        external=True,
        env={"OG_TS_SDK_OUTPUT": str(output)},
    )


def _check_ts_sdk_is_generated(session: nox.Session) -> None:
    fresh = Path(session.create_tmp()) / "ts-sdk-generated"
    _generate_ts_sdk(session, fresh)
    committed = {p.relative_to(TS_SDK_GENERATED): p.read_bytes() for p in TS_SDK_GENERATED.rglob("*") if p.is_file()}
    generated = {p.relative_to(fresh): p.read_bytes() for p in fresh.rglob("*") if p.is_file()}
    if committed != generated:
        session.error("sdk-typescript/src/generated is out of date with the spec: run `nox -s codegen` and commit it")


@nox.session(python=PYTHON, name="serve", venv_params=["--seed"])
def serve(session: nox.Session) -> None:
    """Run the API server: sandbox, seeded demo account, SQLite under ./var (pass args to `og-server serve`)."""
    _install(session)
    session.run("og-server", "serve", *session.posargs)


@nox.session(python=PYTHON, name="codegen", venv_params=["--seed"])
def codegen(session: nox.Session) -> None:
    """Regenerate every artefact derived from the spec: the bundle, the Python and TypeScript SDKs, the docs site."""
    _node_tools(session)
    _bundle(session, SPEC_BUNDLE)
    session.log(f"wrote {SPEC_BUNDLE.relative_to(ROOT)}")
    _generate_ts_sdk(session, TS_SDK_GENERATED)
    session.log(f"wrote {TS_SDK_GENERATED.relative_to(ROOT)}")
    _install(session)  # the pinned openapi-python-client and ruff
    session.run("python", "codegen/surface.py")  # both SDKs' names (codegen/surface.yaml): the TypeScript half
    session.run("python", "codegen/python/generate.py")  # the Python SDK's generated layer
    session.run("python", "-m", "server.docs_site.build")  # API reference + guides into server/docs_site/site/


@nox.session(python=PYTHON, name="sdk", venv_params=["--seed"])
def sdk(session: nox.Session) -> None:
    """Build both SDKs as integrators install them, into dist/: the Python wheel and sdist (`og_records-*.whl`,
    with the `og-records` CLI) and the npm tarball (`og-api-sdk-*.tgz`), until they are published."""
    _install(session)  # uv builds the wheel
    dist = ROOT / "dist"
    dist.mkdir(exist_ok=True)
    session.run("uv", "build", str(ROOT / "sdk-python"), "--wheel", "--sdist", "--out-dir", str(dist))
    with session.chdir(ROOT / "sdk-typescript"):
        session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
        session.run("npm", "run", "build", external=True)
        session.run("npm", "test", external=True)
        session.run("npm", "pack", "--pack-destination", str(dist), external=True)
    for artefact in sorted(dist.iterdir()):
        session.log(f"built {artefact.relative_to(ROOT)}")


@nox.session(python=PYTHON, name="lint", venv_params=["--seed"])
def lint(session: nox.Session) -> None:
    """ruff lint and format check, and the layer contracts (import-linter, docs/adr/0004-layers.md)."""
    _install(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    _lint_imports(session)


def _lint_imports(session: nox.Session) -> None:
    # og_records (sdk-python/) is a root package of the contracts ("SDKs never import the server").
    session.run("lint-imports", "--no-logo", env={"PYTHONPATH": str(ROOT / "sdk-python")})


@nox.session(python=PYTHON, name="typecheck", venv_params=["--seed"])
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the handwritten code."""
    _install(session)
    session.run("mypy")


@nox.session(python=PYTHON, name="spec", venv_params=["--seed"])
def spec(session: nox.Session) -> None:
    """Lint the OpenAPI source with Redocly, check the committed bundle is in sync, validate it as 3.1."""
    _install(session)
    _node_tools(session)
    session.run(str(REDOCLY), "lint", SPEC_SOURCE, "--config", "spec/redocly.yaml", external=True)
    fresh = Path(session.create_tmp()) / "openapi.json"
    _bundle(session, fresh)
    if fresh.read_bytes() != SPEC_BUNDLE.read_bytes():
        session.error("spec/dist/openapi.json is out of date with spec/: run `nox -s codegen` and commit it")
    session.run("python", "-m", "openapi_spec_validator", "--schema", "3.1.0", str(SPEC_BUNDLE))


@nox.session(python=PYTHON, name="tests", venv_params=["--seed"])
def tests(session: nox.Session) -> None:
    """pytest: unit, integration, end-to-end and contract tests (PostgreSQL/Redis ones when their URLs are set)."""
    _install(session)
    session.run("pytest", *session.posargs)


def _run_under_shifted_clocks(session: nox.Session, *args: str) -> None:
    """One shift after the other, each on two pytest-xdist workers (a test file stays on one worker)."""
    if not shutil.which("faketime"):
        session.run(str(ROOT / ".ci" / "install-faketime"), external=True)  # Debian's faketime, as root
    env = {
        # Only the wall clock moves: timeouts and durations on the monotonic clock stay real.
        "DONT_FAKE_MONOTONIC": "1",
        # libfaketime 0.9.10 turns on a "monotonic fix" by itself on this glibc; it makes pthread_cond_timedwait,
        # which every wake-up of a waiting Python thread goes through, return late under CPU contention: the test
        # client's hand-offs to its event loop thread then took 4x as long on a busy machine, and two processes
        # side by side 10x (test_releases.py: 46.7 s with it, 14.6 s without, 14.8 s with no faketime at all).
        # That is what had made the moved clocks take 20 minutes of CI.
        "FAKETIME_FORCE_MONOTONIC_FIX": "0",
        # File times stay real too: moved ones would make every .pyc look stale (recompiled on each import).
        "NO_FAKE_STAT": "1",
        # time.sleep through select() in every Python process (tests/shifted_clock/sitecustomize.py says why).
        "PYTHONPATH": str(ROOT / "tests" / "shifted_clock"),
        # SQLite only: faketime cannot move the PostgreSQL server's clock (another process), and the rules
        # compare the server's own dates; both backends already ran these tests today. Halves the run.
        "OG_TEST_POSTGRES_URL": "",
    }
    tmp = Path(session.create_tmp())
    for shift in CLOCK_SHIFTS:
        session.log(f"the date-sensitive tests with the clock moved {shift}")
        command = ["faketime", "-f", shift, "pytest", *DATE_SENSITIVE_TESTS, "-m", "not slow", "-p", "no:cacheprovider"]
        command += ["-n", "2", "--dist", "loadfile", "--basetemp", str(tmp / f"clock{shift}")]
        session.run(*command, *args, env=env, external=True)


@nox.session(python=PYTHON, name="clock", venv_params=["--seed"])
def clock(session: nox.Session) -> None:
    """The date-sensitive tests under a clock moved 400 days and 5 years ahead (faketime; pass pytest args)."""
    _install(session)
    _run_under_shifted_clocks(session, *session.posargs)


@nox.session(python=PYTHON, name="bench", venv_params=["--seed"])
def bench(session: nox.Session) -> None:
    """The benchmark suite in one Markdown report: HTTP load with wrk against the server and a bare reference,
    then the component micro-benchmarks (`-- --json PATH`, `-- --quick`, `-- --postgres`: see docs/benchmarks.md)."""
    _install(session)
    _node_tools(session)
    session.run(str(ROOT / ".ci" / "install-wrk"), external=True)  # Debian's wrk, only when missing
    session.run("python", "-m", "benchmarks.suite", *session.posargs)


# The reliability probe's bound: it takes about a minute and a half on a loaded 2-core machine. On expiry it is
# sent SIGTERM (it stops its servers and drops its database), then SIGKILL 20 s later.
RELIABILITY_SECONDS = 180


def _reliability_probe(session: nox.Session, *args: str) -> None:
    """tests/reliability_probe.py under `timeout`, its figures as JSON under the session's tmp (unless `args` name
    a `--json PATH`). The probe exits nonzero, failing the session, when a figure that must be 0 is not (double
    payouts, lost webhooks, hangs, 5xx for hostile bodies, secrets in logs, disk-full errors) or when it fails."""
    if "--json" not in args:
        args = (*args, "--json", str(Path(session.create_tmp()) / "reliability.json"))
    bound = ["timeout", "--kill-after", "20", str(RELIABILITY_SECONDS)]
    session.run(*bound, "python", "-m", "tests.reliability_probe", *args, external=True)
    session.log(f"reliability figures: {args[args.index('--json') + 1]}")


@nox.session(python=PYTHON, name="reliability", venv_params=["--seed"])
def reliability(session: nox.Session) -> None:
    """Issue 23's fault probes against a real server (SIGKILLs under idempotent payouts, database black-holed and
    refusing, Redis restarted, hostile bodies, disk full, secrets in logs) behind local proxies; prints the figures
    and fails on any double payout, lost webhook, hang, 5xx for a hostile body, disk-full error or secret in a log
    (`-- --json PATH`; by default the session's tmp). Needs OG_TEST_POSTGRES_URL and OG_TEST_REDIS_URL; `nox -s ci`
    runs it too. About a minute and a half, bounded at 3."""
    _install(session)
    _reliability_probe(session, *session.posargs)


def _audit_dependencies(session: nox.Session) -> None:
    """pip-audit and npm audit under the policy of docs/reliability.md ("Dependency audits"), in .ci/audit.py: fails
    on a known vulnerability with a fix; an unreachable advisory database is a loud warning, not a failure."""
    session.install("pip-audit==2.10.1")
    session.run("timeout", "900", "python", str(ROOT / ".ci" / "audit.py"), external=True)


@nox.session(python=PYTHON, name="audit", venv_params=["--seed"])
def audit(session: nox.Session) -> None:
    """Known vulnerabilities in the dependencies (pip-audit, npm audit); `nox -s ci` runs it too."""
    _install(session)
    _audit_dependencies(session)


@nox.session(python=PYTHON, name="ci", venv_params=["--seed"])
def ci(session: nox.Session) -> None:
    """Everything CI runs, in one virtualenv: lint, types, spec checks, the whole test suite, the reliability probe
    (with PostgreSQL and Redis), the date-sensitive tests under moved clocks, the dependency audit."""
    _install(session)
    _node_tools(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    _lint_imports(session)
    session.run("mypy")
    session.run(str(REDOCLY), "lint", SPEC_SOURCE, "--config", "spec/redocly.yaml", external=True)
    fresh = Path(session.create_tmp()) / "openapi.json"
    _bundle(session, fresh)
    if fresh.read_bytes() != SPEC_BUNDLE.read_bytes():
        session.error("spec/dist/openapi.json is out of date with spec/: run `nox -s codegen` and commit it")
    session.run("python", "-m", "openapi_spec_validator", "--schema", "3.1.0", str(SPEC_BUNDLE))
    _check_ts_sdk_is_generated(session)
    if os.environ.get("CI") and not (os.environ.get("OG_TEST_POSTGRES_URL") and os.environ.get("OG_TEST_REDIS_URL")):
        session.error("CI must run the PostgreSQL and Redis tests: set OG_TEST_POSTGRES_URL and OG_TEST_REDIS_URL")
    # Two workers, one per core; a test file stays on one worker (its module fixtures: a built package, a live
    # server, a browser are made once), and each worker has its own databases (tests/conftest.py).
    session.run("pytest", "-n", "2", "--dist", "loadfile", *session.posargs)
    if os.environ.get("OG_TEST_POSTGRES_URL") and os.environ.get("OG_TEST_REDIS_URL"):
        _reliability_probe(session)  # docs/reliability.md
    else:
        session.warn("the reliability probe needs OG_TEST_POSTGRES_URL and OG_TEST_REDIS_URL: not run")
    _run_under_shifted_clocks(session, "-q")
    _audit_dependencies(session)
