"""`og-server`: the commands an operator and the README rely on, run as real processes."""

import json
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx

from server.cli import bound_base_url
from tests.conftest import server_env, start_server, stop_server


def og_server(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_accounts_create_prints_every_id_and_secret_as_json(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    result = og_server(
        env, "accounts", "create", "--name", "Night Owl Records", "--plan", "business", "--kind", "label", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["account"]["id"].startswith("acct_")
    assert data["account"]["plan"] == "business"
    assert data["account"]["production_access"] is False
    assert data["user"]["email"]
    assert len(data["user"]["password"]) >= 16
    assert data["api_key"]["secret"].startswith("og_test_")
    # The printed key works, and only the hash was stored.
    database = (tmp_path / "og.sqlite3").read_bytes()
    assert data["api_key"]["secret"].encode() not in database
    # Its sandbox has the mock catalogue; production is empty. `--no-mock-data` makes an empty sandbox.
    assert _releases(tmp_path, data["account"]["id"]) == {"sandbox": 11}
    empty = json.loads(og_server(env, "accounts", "create", "--name", "Empty", "--no-mock-data", "--json").stdout)
    assert _releases(tmp_path, empty["account"]["id"]) == {}


def _releases(data_dir: Path, account_id: str) -> dict[str, int]:
    with closing(sqlite3.connect(data_dir / "og.sqlite3")) as connection:
        rows = connection.execute(
            "SELECT environment, count(*) FROM releases WHERE account_id = ? GROUP BY environment", (account_id,)
        ).fetchall()
    return dict(rows)


def test_production_keys_need_production_access(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    account = json.loads(og_server(env, "accounts", "create", "--name", "A", "--no-mock-data", "--json").stdout)[
        "account"
    ]["id"]
    refused = og_server(env, "keys", "create", "--account", account, "--env", "production", "--json")
    assert refused.returncode == 1
    assert "production_access_not_enabled" in refused.stderr
    assert og_server(env, "accounts", "grant-production", account, "--json").returncode == 0
    created = og_server(
        env,
        "keys",
        "create",
        "--account",
        account,
        "--env",
        "production",
        "--scopes",
        "releases:read,releases:write",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["api_key"]
    assert key["secret"].startswith("og_live_")
    assert key["scopes"] == ["releases:read", "releases:write"]


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    for _ in range(2):
        result = og_server(env, "migrate", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["migrated"] is True


def test_serve_on_a_fresh_data_dir_seeds_a_demo_account_and_serves_the_31_document(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    # The first start seeds the demo account with its mock data (media generated and QC-analysed once): slower.
    server = start_server(env, ["serve"], ready_seconds=300)
    try:
        spec = httpx.get(server.base_url + "/openapi.json", timeout=10)
        assert spec.status_code == 200
        assert spec.json()["openapi"].startswith("3.1.")
        assert httpx.get(server.base_url + "/readyz", timeout=10).json()["status"] == "ready"
    finally:
        output = stop_server(server)
    key = re.search(r"Sandbox key:\s+(og_test_\w+)", output)
    assert key, output
    assert f"Base URL:      {server.base_url}" in output
    assert "/docs" in output
    # The seeded data is there for the printed key (a second server on the same data dir does not seed again).
    again = start_server(env, ["serve"])
    try:
        persons = httpx.get(again.base_url + "/api/v1/persons", headers={"Authorization": f"Bearer {key.group(1)}"})
        assert persons.status_code == 200
        assert len(persons.json()["data"]) >= 3
        links = httpx.get(again.base_url + "/api/v1/smartlinks", headers={"Authorization": f"Bearer {key.group(1)}"})
        # Slugs are unique across the platform: every account's mock links end in a part of its id.
        modes = {link["slug"].rsplit("-", 1)[0]: link["mode"] for link in links.json()["data"]}
        assert modes == {"night-ferry": "stream", "copper-rain": "presave"}
        stats = httpx.get(
            f"{again.base_url}/api/v1/smartlinks/{links.json()['data'][0]['id']}/stats",
            headers={"Authorization": f"Bearer {key.group(1)}"},
        ).json()
        assert stats["views"]["total"] > stats["views"]["unique"] > 0
        assert stats["presaves"]["total"] > 0  # the upcoming release's link, listed first
        live_slug = next(slug for slug in (link["slug"] for link in links.json()["data"]) if "night-ferry" in slug)
        assert httpx.get(f"{again.base_url}/api/v1/smartlinks/{live_slug}").json()["mode"] == "stream"
        listed = httpx.get(again.base_url + "/api/v1/payouts", headers={"Authorization": f"Bearer {key.group(1)}"})
        assert {p["status"] for p in listed.json()["data"]} == {"paid", "cancelled", "returned", "processing"}
    finally:
        second_output = stop_server(again)
    assert "Sandbox key:" not in second_output


def test_set_plan_moves_an_account_between_plans(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    account = json.loads(og_server(env, "accounts", "create", "--name", "A", "--no-mock-data", "--json").stdout)[
        "account"
    ]
    assert account["plan"] == "free"
    moved = og_server(env, "accounts", "set-plan", account["id"], "--plan", "business", "--json")
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["account"] == {"id": account["id"], "plan": "business"}
    unknown = og_server(env, "accounts", "set-plan", "acct_00000000000000000000000000", "--plan", "free")
    assert unknown.returncode == 1
    assert "not_found" in unknown.stderr


def test_payout_details_open_production_payouts(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    account = json.loads(og_server(env, "accounts", "create", "--name", "A", "--no-mock-data", "--json").stdout)[
        "account"
    ]
    details = og_server(
        env,
        "accounts",
        "set-payout-details",
        account["id"],
        "--holder",
        "A GmbH",
        "--iban",
        "DE89 3704 0044 0532 0130 00",
        "--json",
    )
    assert details.returncode == 0, details.stderr
    assert json.loads(details.stdout)["account"]["payouts_blocked_by"] == "verification_required"
    verified = og_server(env, "accounts", "set-payout-details", account["id"], "--verified", "--json")
    assert json.loads(verified.stdout)["account"]["payouts_blocked_by"] is None
    bad = og_server(env, "accounts", "set-payout-details", account["id"], "--iban", "not-an-iban")
    assert bad.returncode == 1
    assert "validation_failed" in bad.stderr
    retried = og_server(env, "payouts", "retry", "--json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout) == {"tried": 0, "wise_events": 0}


def test_without_og_base_url_oauth_discovery_follows_the_bound_port(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    assert "OG_BASE_URL" not in env
    server = start_server(env, ["serve", "--no-seed"])
    try:
        metadata = httpx.get(server.base_url + "/.well-known/oauth-authorization-server", timeout=10).json()
    finally:
        stop_server(server)
    assert metadata["issuer"] == server.base_url  # an ephemeral port, never the default 8000
    assert metadata["token_endpoint"] == server.base_url + "/oauth/token"
    assert metadata["authorization_endpoint"] == server.base_url + "/oauth/authorize"


def test_bound_base_url_names_a_reachable_address() -> None:
    assert bound_base_url("127.0.0.1", 18101) == "http://127.0.0.1:18101"
    assert bound_base_url("0.0.0.0", 9000) == "http://127.0.0.1:9000"
    assert bound_base_url("::", 9000) == "http://[::1]:9000"


def test_serve_answers_a_request_its_parser_refuses_with_a_problem_document(tmp_path: Path) -> None:
    from urllib.parse import urlsplit

    from tests.server.test_invalid_http import raw_request

    server = start_server(server_env(tmp_path), ["serve", "--no-seed"])
    try:
        status, headers, body = raw_request(urlsplit(server.base_url).port or 0, b"/api/v1/persons?q=caf\xc3\xa9")
    finally:
        stop_server(server)
    assert status.startswith("HTTP/1.1 400")
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "invalid_http_request"
