"""`nox -s reliability`: replays issue 23's fault probes against a real server process and prints the figures.

PostgreSQL and Redis (OG_TEST_POSTGRES_URL, OG_TEST_REDIS_URL) sit behind local proxies that fail on demand
(tests/faults.py); the shared services themselves are never restarted. Probes, in order:

1. idempotent payouts from 4 threads, each with its own key, while the server SIGKILLs itself 3 times between a
   payout's commit and its response (the test-only OG_FAULT_KILL_AFTER_COMMIT hook); every failed request is retried
   with its key on the next server process (started beforehand, as a load balancer's other backends); then:
   payouts per key (`double_payouts`), and every `payout.requested` event delivered to a local receiver
   (`lost_webhooks`; leases of the killed process are let run out by the clock);
2. the database black-holed (accepts, answers nothing), then refusing: /readyz and API requests must answer
   (`hangs` counts requests unanswered after 15 s), then the server must recover by itself;
3. Redis restarted (every connection cut): requests keep being answered;
4. hostile bodies (deep nesting, huge integers, lone surrogates, NaN, duplicate keys, no Content-Type) on JSON
   operations and the Mailgun receiver: `hostile_5xx`;
5. disk full: the server's file store is a small tmpfs of its own (a private mount namespace, `unshare`): an upload
   larger than the space left, then the inodes run out while an upload is moved into place (a new directory) and
   while one is staged; every answer must be `503 storage_full` with Retry-After or a success, with no staged part
   left, no half-stored file and no file row without its file (`disk_full_errors`); once room is made, uploads
   succeed again. Without user namespaces it is not replayed (`disk_full` says why; the unit tests in
   tests/server/test_storage_full.py still run);
6. every line the server logged is searched for the secrets handed out and the webhook URL's query string.

`python -m tests.reliability_probe [--json PATH]`.
"""

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

from tests.conftest import LiveServer, server_env, start_server, stop_server
from tests.faults import FaultyProxy
from tests.webhooks.receiver import running_receiver

HANG_SECONDS = 15.0
PAYOUTS = 24
KILL_AT = {5, 11, 17}
# The file store's tmpfs: 1 MiB, and few inodes so that they run out after a handful of small uploads.
STORE_BYTES = 1024 * 1024
STORE_INODES = 12
# The figures that fail the run when not 0.
FAILING = ("double_payouts", "lost_webhooks", "hangs", "hostile_5xx", "secrets_in_logs", "disk_full_errors")
HOSTILE: dict[str, bytes] = {
    "nesting": b'{"name": ' + b"[" * 300 + b"]" * 300 + b"}",
    "very_deep": b"[" * 50000,
    "integer_4301_digits": b'{"name": ' + b"9" * 4301 + b"}",
    "lone_surrogate": b'{"name": "\\ud800", "email": "a@example.com"}',
    "nan": b'{"name": NaN}',
    "infinity": b'{"amount": Infinity}',
    "overflow": b'{"amount": 1e309}',
    "duplicate_key": b'{"name": "a", "name": "b", "email": "a@example.com"}',
}


class Probe:
    def __init__(self) -> None:
        self.figures: dict[str, Any] = {
            "double_payouts": 0,
            "lost_webhooks": 0,
            "hangs": 0,
            "hostile_5xx": 0,
            "secrets_in_logs": 0,
            "disk_full_errors": 0,
            "requests": 0,
            "faults": 0,
        }
        self.logs: list[str] = []
        self._lock = threading.Lock()
        self.server: LiveServer | None = None
        self.server_prefix: list[str] = []
        self._restart_lock = threading.Lock()
        self._spares: list[tuple[threading.Thread, list[LiveServer | BaseException]]] = []

    def start(self, env: dict[str, str]) -> LiveServer:
        return start_server(env, ["serve", "--no-seed", "--no-worker"], prefix=self.server_prefix)

    def warm_spares(self, env: dict[str, str], count: int) -> None:
        """Start `count` more server processes in the background (same database, each its own port): each SIGKILL
        then costs a switch to a process already up instead of a start-up (about 12 s at load 10), as behind a
        load balancer. The killed request's retry goes to the next process."""

        def start(into: list[LiveServer | BaseException]) -> None:
            try:
                into.append(self.start(env))
            except BaseException as exc:  # raised again by the thread that takes this server
                into.append(exc)

        for _ in range(count):
            into: list[LiveServer | BaseException] = []
            thread = threading.Thread(target=start, args=(into,), daemon=True)
            thread.start()
            self._spares.append((thread, into))

    def take_spare(self, env: dict[str, str]) -> LiveServer:
        if not self._spares:
            return self.start(env)
        thread, into = self._spares.pop(0)
        thread.join()
        if isinstance(into[0], BaseException):
            raise into[0]
        return into[0]

    def stop_spares(self) -> None:
        while self._spares:
            thread, into = self._spares.pop(0)
            thread.join()
            if into and isinstance(into[0], LiveServer):
                self.logs.append(stop_server(into[0]))

    def count(self, name: str, by: int = 1) -> None:
        with self._lock:
            self.figures[name] = self.figures.get(name, 0) + by

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        self.count("requests")
        try:
            return httpx.request(method, url, timeout=HANG_SECONDS, **kwargs)
        except httpx.TimeoutException:
            self.count("hangs")
            return None
        except httpx.TransportError:
            return None


def _restart_if_dead(probe: Probe, env: dict[str, str]) -> None:
    """The server was killed: its log is kept, and requests go to the next process from now on."""
    with probe._restart_lock:
        server = probe.server
        if server is None or server.process.poll() is None:
            return
        output = server.process.stdout.read().decode(errors="replace") if server.process.stdout else ""
        probe.logs.append(output)
        probe.count("faults")
        probe.server = probe.take_spare(env)


def _own_file_store(files: Path) -> tuple[list[str], str | None]:
    """The command prefix that runs the server with `files` on a small tmpfs only it sees, or why there is none."""
    mount = f'mount -t tmpfs -o size={STORE_BYTES},nr_inodes={STORE_INODES} og-files "$0" && exec "$@"'
    prefix = ["unshare", "--user", "--map-root-user", "--mount", "--", "sh", "-c", mount, str(files)]
    try:
        tried = subprocess.run([*prefix, "true"], check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"not replayed: {exc}"
    if tried.returncode != 0:
        return [], f"not replayed: no private tmpfs ({tried.stderr.strip()[:200]})"
    return prefix, None


def _audio(prefix_of: set[str], *, new: bool) -> tuple[bytes, str]:
    """4 KiB a track accepts as WAV, whose digest starts with a new two-hex prefix (a new directory in the store) or
    with one already there (no new directory)."""
    while True:
        data = b"RIFF\0\0\0\0WAVEfmt " + secrets.token_bytes(4080)
        digest = hashlib.sha256(data).hexdigest()
        if (digest[:2] in prefix_of) != new:
            return data, digest


def _disk_full(probe: Probe, headers: dict[str, str], files: Path, direct: str, account_id: str) -> None:
    """Uploads into a full file store (see the module's docstring); counts what is not as documented."""
    assert probe.server is not None
    base, pid = probe.server.base_url, probe.server.process.pid
    seen = Path(f"/proc/{pid}/root") / files.relative_to("/")  # the server's tmpfs, seen from here
    errors, steps, statuses = 0, [], Counter[str]()
    created = probe.request(
        "POST", base + "/api/v1/tracks", json={"title": "Full Disk", "primary_artists": ["Probe"]}, headers=headers
    )
    assert created is not None
    assert created.status_code == 201, created.text
    track = created.json()["id"]

    def upload(data: bytes, *, full: bool) -> None:
        nonlocal errors
        files_part = {"audio": ("probe.wav", data, "audio/wav")}
        response = probe.request("PUT", f"{base}/api/v1/tracks/{track}/audio", files=files_part, headers=headers)
        status = "none" if response is None else f"{response.status_code}"
        if response is not None and response.status_code >= 400:
            status += f" {response.json().get('code')}"
        statuses[status] += 1
        if full:
            good = (
                response is not None
                and response.status_code == 503
                and response.json().get("code") == "storage_full"
                and int(response.headers.get("retry-after", "0")) > 0
            )
        else:
            good = response is not None and response.status_code == 200
        errors += not good

    probe.count("faults")
    # An upload larger than the space left: the write fails while the body streams in.
    upload(b"RIFF\0\0\0\0WAVEfmt " + secrets.token_bytes(STORE_BYTES + 65536), full=True)
    steps.append("streaming")
    # Then the inodes run out: each new two-hex prefix takes two (the file and its directory).
    prefixes: set[str] = set()
    for _ in range(4 * STORE_INODES):
        free = os.statvfs(seen).f_ffree
        if free == 0:
            upload(_audio(prefixes, new=True)[0], full=True)  # no inode for the staged part
            steps.append("staging")
            break
        if free == 1 and "commit" not in steps:
            upload(_audio(prefixes, new=True)[0], full=True)  # staged, but no inode for its directory
            steps.append("commit")
            continue
        new = not prefixes or (free % 2 == 1 and free > 1)  # keep the count odd so that one is left, then none
        data, digest = _audio(prefixes, new=new)
        upload(data, full=False)
        prefixes.add(digest[:2])
    # Nothing half-stored or left behind, no row without its file.
    errors += len(list((seen / "tmp").glob("upload-*")))
    for stored in (seen / "sha256").glob("*/*"):
        errors += hashlib.sha256(stored.read_bytes()).hexdigest() != stored.name
    with psycopg.connect(direct) as connection:
        keys = [r[0] for r in connection.execute("SELECT storage_key FROM files WHERE account_id = %s", (account_id,))]
    errors += sum(1 for key in keys if not (seen / key).is_file())
    # Room made (the operator grows the volume): uploads succeed again.
    grown = f"size={4 * STORE_BYTES},nr_inodes={8 * STORE_INODES}"
    subprocess.run(
        ["nsenter", "-t", str(pid), "--user", "--mount", "--", "mount", "-o", f"remount,{grown}", str(files)],
        check=True,
        capture_output=True,
    )
    upload(_audio(prefixes, new=True)[0], full=False)
    probe.figures["disk_full_errors"] = errors
    probe.figures["disk_full"] = {"steps": steps, "statuses": dict(statuses), "files_stored": len(keys)}


_STARTED = time.monotonic()


def _say(message: str) -> None:
    print(f"[reliability {time.monotonic() - _STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


def _pay(probe: Probe, env: dict[str, str], headers: dict[str, str], key: str) -> str:
    body = {"amount": "10.00", "currency": "EUR", "metadata": {"key": key}}
    for _ in range(60):
        assert probe.server is not None
        response = probe.request(
            "POST",
            probe.server.base_url + "/api/v1/payouts/request",
            json=body,
            headers={**headers, "Idempotency-Key": key},
        )
        if response is None:
            time.sleep(0.3)
            _restart_if_dead(probe, env)
            continue
        if response.status_code == 201:
            return "paid"
        if response.status_code == 409 and response.json().get("code") == "idempotency_key_in_use":
            # Only a request cut by a SIGKILL leaves its key in use (each key is sent by one thread, one request
            # at a time): the killed request's own key (committed: never run again, its payout exists), or
            # another in flight at that moment (refused for two minutes, as documented). Waiting them out would
            # add two minutes: `double_payouts` and `payouts_without_answer` count from the database.
            return "in_use"
        return f"{response.status_code} {response.json().get('code')}"
    return "gave up"


def run(json_path: str | None) -> dict[str, Any]:
    postgres, redis = os.environ.get("OG_TEST_POSTGRES_URL"), os.environ.get("OG_TEST_REDIS_URL")
    if not (postgres and redis):
        raise SystemExit("the reliability probe needs OG_TEST_POSTGRES_URL and OG_TEST_REDIS_URL")
    started = time.monotonic()
    probe = Probe()
    worker: subprocess.Popen[bytes] | None = None
    name = f"og_reliability_{secrets.token_hex(4)}"
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    pg, rd = urlsplit(postgres), urlsplit(redis)
    db_proxy = FaultyProxy(pg.hostname or "127.0.0.1", pg.port or 5432)
    redis_proxy = FaultyProxy(rd.hostname or "127.0.0.1", rd.port or 6379)
    data_dir = Path(tempfile.mkdtemp(prefix="og-reliability-"))
    files = data_dir / "files"
    files.mkdir()
    probe.server_prefix, not_replayed = _own_file_store(files)
    direct = f"postgresql://{pg.username}@{pg.hostname}:{pg.port or 5432}/{name}"
    proxied = f"postgresql://{pg.username}@127.0.0.1:{db_proxy.port}/{name}"
    secret_key = secrets.token_urlsafe(32)
    env = server_env(
        data_dir,
        proxied,
        OG_SECRET_KEY=secret_key,
        OG_REDIS_URL=f"redis://127.0.0.1:{redis_proxy.port}{rd.path or '/0'}",
        OG_RATE_LIMIT_PREFIX=f"og:rl:{name}",
        OG_RATE_LIMIT_MULTIPLIER="1000",
        OG_DB_CONNECT_TIMEOUT="2",
        OG_DB_POOL_TIMEOUT="3",
        OG_QC_IN_PROCESS="0",
        OG_WEBHOOKS_ALLOW_LOOPBACK="1",
        OG_LOG_LEVEL="INFO",
        OG_FAULT_KILL_AFTER_COMMIT="kill-",
    )
    try:
        os.environ.update(OG_DATABASE_URL=direct, OG_DATA_DIR=str(data_dir), OG_SECRET_KEY=secret_key)
        os.environ["OG_WEBHOOKS_ALLOW_LOOPBACK"] = "1"
        from server import cli
        from server.config import Settings, activate
        from server.db import engine as db

        # In this process (no Python start-up to wait for): migrates, then creates the account without sandbox
        # mock data (its payouts are not the probe's).
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            cli.main(["accounts", "create", "--name", "Probe Records", "--json", "--no-mock-data"])
        account = json.loads(printed.getvalue())
        api_key = account["api_key"]["secret"]
        account_id = account["account"]["id"]
        headers = {"Authorization": f"Bearer {api_key}"}
        settings = Settings.from_env()
        activate(settings)
        db.configure(settings)
        from tests.server.payouts_helpers import fund

        fund(account_id, "sandbox", "100000.00")
        _say("account funded; starting the server")

        with running_receiver() as receiver:
            probe.server = probe.start(env)
            probe.warm_spares(env, len(KILL_AT))
            hook = receiver.url + "?token=QueryT0ken-" + secrets.token_hex(4)
            endpoint = probe.request(
                "POST",
                probe.server.base_url + "/api/v1/webhook-endpoints",
                json={"url": hook, "enabled_events": ["payout.requested"]},
                headers=headers,
            )
            assert endpoint is not None
            assert endpoint.status_code == 201, endpoint.text
            signing_secret = endpoint.json()["secret"]
            worker = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "worker"],
                env={**env, "OG_DATABASE_URL": direct},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )

            _say("payouts under SIGKILL")
            # 1. payouts with SIGKILLs between commit and response
            keys = [f"kill-{i}" if i in KILL_AT else f"pay-{i}" for i in range(PAYOUTS)]
            outcomes: dict[str, str] = {}

            def work(mine: list[str]) -> None:
                for key in mine:
                    outcomes[key] = _pay(probe, env, headers, key)

            threads = [threading.Thread(target=work, args=(keys[i::4],)) for i in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            _restart_if_dead(probe, env)
            with psycopg.connect(direct) as connection:
                rows = connection.execute(
                    "SELECT metadata FROM payouts WHERE account_id = %s", (account_id,)
                ).fetchall()
            metadata = [json.loads(r[0]) if isinstance(r[0], str) else (r[0] or {}) for r in rows]
            per_key = Counter(m["key"] for m in metadata if "key" in m)  # the probe's payouts only
            probe.figures["double_payouts"] = sum(n - 1 for n in per_key.values() if n > 1)
            probe.figures["payouts_without_answer"] = sum(1 for k in keys if per_key[k] == 0)
            probe.figures["payout_outcomes"] = dict(Counter(outcomes.values()))

            _say("database black-holed, then refusing")
            # 2. database black-holed, then refusing; then recovery
            base = probe.server.base_url
            for mode in ("blackhole", "refuse"):
                db_proxy.set_mode(mode)
                probe.count("faults")
                answers: list[int] = []

                def ask(url: str, into: list[int]) -> None:
                    response = probe.request("GET", url, headers=headers)
                    if response is not None:
                        into.append(response.status_code)

                askers = [
                    threading.Thread(target=ask, args=(base + p, answers)) for p in ["/readyz", "/api/v1/persons"] * 5
                ]
                for asker in askers:
                    asker.start()
                for asker in askers:
                    asker.join()
                probe.figures[f"database_{mode}_statuses"] = dict(Counter(answers))
                db_proxy.set_mode("forward")
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    try:
                        if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.25)
                else:
                    # Not recovered by itself: counted, and the process restarted so that the later probes run.
                    probe.figures[f"database_{mode}_no_recovery"] = 1
                    probe.count("hangs")
                    assert probe.server is not None
                    probe.server.process.kill()
                    probe.server.process.wait()
                    _restart_if_dead(probe, env)
                    base = probe.server.base_url

            _say("Redis restarted")
            # 3. Redis restarted
            redis_proxy.cut()
            probe.count("faults")
            statuses = [
                r.status_code
                for r in (probe.request("GET", base + "/api/v1/persons", headers=headers) for _ in range(30))
                if r
            ]
            probe.figures["redis_restart_statuses"] = dict(Counter(statuses))

            _say("hostile bodies")
            # 4. hostile bodies
            for content in HOSTILE.values():
                for path in ("/api/v1/persons", "/api/v1/releases", "/webhooks/mailgun"):
                    response = probe.request(
                        "POST", base + path, content=content, headers={**headers, "content-type": "application/json"}
                    )
                    if response is None or response.status_code >= 500:
                        probe.count("hostile_5xx")
            untyped = probe.request("POST", base + "/api/v1/persons", content=b'{"name": "x"}', headers=headers)
            if untyped is None or untyped.status_code >= 500:
                probe.count("hostile_5xx")

            _say("disk full")
            # 5. disk full
            if not_replayed:
                probe.figures["disk_full"] = not_replayed
                _say(f"disk full {not_replayed}")
            else:
                _disk_full(probe, headers, files, direct, account_id)

            _say("webhooks: draining")
            # webhooks: let the killed server's leases run out by the worker's clock, then count
            from server.webhooks.clock import ManualClock
            from server.webhooks.worker import Worker

            async def drain_late() -> None:
                late = Worker.from_settings(settings, clock=ManualClock(settings_now() + timedelta(minutes=5)))
                try:
                    await late.run_until_idle()
                finally:
                    await late.aclose()

            def settings_now() -> Any:
                from server.db.types import utcnow

                return utcnow()

            time.sleep(2)
            asyncio.run(drain_late())
            with psycopg.connect(direct) as connection:
                events = {
                    r[0]
                    for r in connection.execute(
                        "SELECT id FROM events WHERE account_id = %s AND type = 'payout.requested'", (account_id,)
                    ).fetchall()
                }
            delivered = {r.headers.get("webhook-id") for r in receiver.requests}
            probe.figures["lost_webhooks"] = len(events - delivered)
            probe.figures["webhook_events"] = len(events)
            worker.terminate()
            probe.logs.append(worker.communicate(timeout=15)[0].decode(errors="replace"))
        probe.logs.append(stop_server(probe.server))
        probe.stop_spares()
        text = "\n".join(probe.logs)
        leaked = [s for s in (api_key, signing_secret, hook.split("?", 1)[1], secret_key) if s in text]
        probe.figures["secrets_in_logs"] = len(leaked)
        probe.figures["redis_fallback_windows"] = text.count("rate-limit store unavailable")
    finally:
        if probe.server is not None and probe.server.process.poll() is None:
            stop_server(probe.server)
        probe.stop_spares()
        if worker is not None and worker.poll() is None:  # a probe that failed midway leaves no worker behind
            worker.kill()
            worker.wait()
        db_proxy.close()
        redis_proxy.close()
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    probe.figures["seconds"] = round(time.monotonic() - started, 1)
    return probe.figures


def _stop_on_sigterm(signum: int, _frame: Any) -> None:
    # `timeout` (nox) ends the probe with SIGTERM: unwind, so that its servers are stopped and its database dropped.
    raise SystemExit(f"reliability probe stopped by signal {signum}")


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    figures = run(args.json_path)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({"figures": figures}, indent=2) + "\n")
    bad = {k: figures[k] for k in FAILING}
    if any(bad.values()):
        raise SystemExit(f"reliability probe failed: {bad}")


if __name__ == "__main__":
    main()
