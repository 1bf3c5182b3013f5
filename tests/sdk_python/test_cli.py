"""`og-records`, the developer CLI, as a developer runs it (a real process) against a live server: login, every
operation as `<resource> <method>`, `listen` forwarding events to a local receiver that verifies their signatures,
and `trigger` sending the documented request."""

import json
import os
import queue
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.conftest import ROOT
from tests.sdk_python.conftest import LiveAPI


def og_records(
    *args: str, env: dict[str, str], check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "og_records.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"og-records {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """A user without settings: no OG_* variables, a config file of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OG_")}
    env["PYTHONPATH"] = str(ROOT / "sdk-python")
    env["OG_RECORDS_CONFIG"] = str(tmp_path / "config" / "og-records.json")  # where `login` stores the key
    return env


def test_login_stores_the_key_for_the_owner_only_and_operations_use_it(
    live_api: LiveAPI, cli_env: dict[str, str]
) -> None:
    refused = og_records("persons", "list", env=cli_env, check=False)
    assert refused.returncode != 0
    assert "og-records login" in refused.stderr

    og_records("--base-url", live_api.base_url, "login", env=cli_env, stdin=live_api.api_key + "\n")
    config = Path(cli_env["OG_RECORDS_CONFIG"])
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text())["api_key"] == live_api.api_key

    created = json.loads(
        og_records(
            "persons", "create", "--name", "Mara Lindqvist", "--email", "mara@cli.example", "--roles", '["composer"]',
            env=cli_env,
        ).stdout
    )  # fmt: skip
    assert created["name"] == "Mara Lindqvist"
    assert created["roles"] == ["composer"]
    fetched = json.loads(og_records("persons", "get", "--id", created["id"], env=cli_env).stdout)
    assert fetched["id"] == created["id"]
    listed = json.loads(og_records("persons", "list", "--limit", "1", env=cli_env).stdout)
    assert listed["data"][0]["id"] == created["id"]
    balance = json.loads(og_records("balance", "get", env=cli_env).stdout)
    assert "available" in balance

    missing = og_records("persons", "get", "--id", "per_" + "0" * 26, env=cli_env, check=False)
    assert missing.returncode == 1
    assert json.loads(missing.stderr)["code"] == "not_found"

    og_records("logout", env=cli_env)
    assert "api_key" not in json.loads(config.read_text())


def test_the_environment_variable_key_needs_no_login(live_api: LiveAPI, cli_env: dict[str, str]) -> None:
    env = {**cli_env, "OG_RECORDS_API_KEY": live_api.api_key, "OG_RECORDS_BASE_URL": live_api.base_url}
    health = json.loads(og_records("system", "health", env=env).stdout)
    assert health["status"] == "ok"


def test_every_operation_of_the_surface_is_a_command() -> None:
    from og_records._generated import surface
    from og_records.cli import build_parser

    parser = build_parser()
    for operation_id, path in surface.OPERATIONS.items():
        resource, method = path.split(".")
        parsed = parser.parse_args([resource.replace("_", "-"), method.replace("_", "-"), *_required(resource, method)])
        assert (parsed.resource, parsed.operation_method) == (resource, method), operation_id


def _required(resource: str, method: str) -> list[str]:
    """Values for the path parameters a command requires (`--id x`)."""
    from og_records.cli import _option, _parameters

    return [
        arg
        for parameter in _parameters(resource, method)
        if parameter.kind is parameter.POSITIONAL_OR_KEYWORD
        for arg in (_option(parameter.name), "x")
    ]


class Receiver:
    """A local webhook endpoint (what a developer's app would be) that verifies each delivery with the secret."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.verified: queue.Queue[dict[str, Any]] = queue.Queue()
        self.rejected: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    assert receiver.secret is not None
                    event = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                except Exception as error:
                    receiver.rejected.append(repr(error))
                    self.send_response(400)
                else:
                    receiver.verified.put(event)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    made.thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()
    made.thread.join()


def test_listen_forwards_new_sandbox_events_signed_to_a_local_receiver(
    live_api: LiveAPI, cli_env: dict[str, str], receiver: Receiver
) -> None:
    env = {**cli_env, "OG_RECORDS_API_KEY": live_api.api_key, "OG_RECORDS_BASE_URL": live_api.base_url}
    og_records("persons", "create", "--name", "Before Listen", "--email", "before@cli.example", env=env)
    command = [sys.executable, "-m", "og_records.cli", "listen", "--forward-to", receiver.url]
    with subprocess.Popen(
        [*command, "--interval", "0.2", "--max-events", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as listener:
        try:
            assert listener.stdout is not None
            ready = listener.stdout.readline()
            assert "Ready! Forwarding sandbox events to " + receiver.url in ready, ready
            secret_line = listener.stdout.readline()
            receiver.secret = secret_line.split("secret is ", 1)[1].split()[0]
            assert receiver.secret.startswith("whsec_")

            made = [
                og_records("persons", "create", "--name", name, "--email", f"{name}@cli.example", env=env).stdout
                for name in ("ada", "bo")
            ]
            delivered = [receiver.verified.get(timeout=60), receiver.verified.get(timeout=60)]
            assert listener.wait(timeout=60) == 0
            output = listener.stdout.read()
        finally:
            if listener.poll() is None:
                listener.kill()
    first, second = (json.loads(person) for person in made)
    assert not receiver.rejected
    # Only what happened after `listen` started, oldest first, each the API's own event.
    assert [event["type"] for event in delivered] == ["person.created", "person.created"]
    assert [event["data"]["object"]["id"] for event in delivered] == [first["id"], second["id"]]
    assert all(event["environment"] == "sandbox" for event in delivered)
    assert output.count("--> person.created") == 2
    assert output.count("<--  [204] POST " + receiver.url) == 2

    # The secret is kept for the next `listen`, so the receiver's setting stays valid.
    again = subprocess.run(
        [*command, "--max-events", "1", "--interval", "0.2", "--replay", "--events", "person.created"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert f"secret is {receiver.secret}" in again.stdout
    assert "--> person.created" in again.stdout


def test_trigger_makes_the_event_happen_and_listen_forwards_it(
    live_api: LiveAPI, cli_env: dict[str, str], receiver: Receiver
) -> None:
    """Against the real `POST /api/v1/sandbox/triggers`: the mock ready draft is submitted, its real event is what
    `listen` forwards, signed; a named release takes its next step; production keys are refused before any request."""
    env = {**cli_env, "OG_RECORDS_API_KEY": live_api.api_key, "OG_RECORDS_BASE_URL": live_api.base_url}
    command = [sys.executable, "-m", "og_records.cli", "listen", "--forward-to", receiver.url]
    with subprocess.Popen(
        [*command, "--interval", "0.2", "--max-events", "1", "--events", "release.submitted"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as listener:
        try:
            assert listener.stdout is not None
            assert "Ready!" in listener.stdout.readline()
            receiver.secret = listener.stdout.readline().split("secret is ", 1)[1].split()[0]
            triggered = json.loads(og_records("trigger", "release.submitted", env=env).stdout)
            delivered = receiver.verified.get(timeout=60)
            assert listener.wait(timeout=60) == 0
        finally:
            if listener.poll() is None:
                listener.kill()
    assert (triggered["object"], triggered["environment"], triggered["event"]) == (
        "sandbox_trigger",
        "sandbox",
        "release.submitted",
    )
    release = triggered["resource"]
    assert (release["object"], release["status"]) == ("release", "submitted")
    assert not receiver.rejected
    assert delivered["type"] == "release.submitted"
    assert delivered["id"] in triggered["event_ids"]
    assert delivered["data"]["object"]["id"] == release["id"]

    # A named resource: that release takes the next step of its journey, now.
    stepped = json.loads(og_records("trigger", "release.status_changed", "--release-id", release["id"], env=env).stdout)
    assert stepped["resource"]["id"] == release["id"]
    assert stepped["resource"]["status"] == "in_review"
    assert json.loads(og_records("releases", "get", "--id", release["id"], env=env).stdout)["status"] == "in_review"

    # A failing payout: the `.13` magic amount is requested and its simulated transfer cancelled, both events out.
    payout = json.loads(og_records("trigger", "payout.status_changed", env=env).stdout)
    assert (payout["resource"]["object"], payout["resource"]["status"]) == ("payout", "cancelled")
    assert len(payout["event_ids"]) >= 2

    # The server's problem document for what it refuses (no such release), exit status 1.
    unknown = og_records("trigger", "release.submitted", "--release-id", "rel_" + "0" * 26, env=env, check=False)
    assert unknown.returncode == 1
    assert json.loads(unknown.stderr)["code"] == "not_found"

    # Only the events the API can trigger are offered; production keys are refused before any request.
    offered = og_records("trigger", "payout.paid", env=env, check=False)
    assert offered.returncode == 2
    assert "payout.status_changed" in offered.stderr
    live = og_records("--api-key", "og_live_" + "k" * 32, "trigger", "payout.status_changed", env=env, check=False)
    assert live.returncode == 1
    assert "sandbox only" in live.stderr
