"""Every load scenario has a bare twin of its own, and the twin answers what the scenario answers (issue 22).

A ratio is only worth something if the twin does the same work. These tests run the benchmark's own requests
(`Scenario.requests`, the ones wrk sends) in-process: each app scenario's against the API (the shared test app) and
its twin's against the reference app (`benchmarks.reference_app.create`) on the same database and file store, and
compare the answers: the status, the JSON keys at every level, and for reads the same rows. Nothing is timed.
"""

from typing import Any

import pytest
from starlette.testclient import TestClient

from benchmarks import earnings_seed, load, reference_app, wrk
from benchmarks.load import Fixture, Scenario
from benchmarks.wrk import HttpRequest
from server.config import Settings
from tests.conftest import TenantFactory

BY_NAME = {s.name: s for s in load.SCENARIOS}
APP_SCENARIOS = [s for s in load.SCENARIOS if s.server == "app"]


def test_every_app_scenario_has_a_bare_twin_of_its_own() -> None:
    twins = [s.reference for s in APP_SCENARIOS]
    for scenario in APP_SCENARIOS:
        twin = BY_NAME[scenario.reference]
        assert twin.server == "reference", scenario.name
        assert twin.reference == twin.name, twin.name  # a twin is measured against nothing else
        assert twin.expected == scenario.expected, scenario.name  # it answers with the same status
    assert len(set(twins)) == len(twins), "two scenarios share a twin"
    # Every twin is somebody's: no reference measured for nothing.
    assert {s.name for s in load.SCENARIOS if s.server == "reference"} == set(twins)
    # The users' operations issue 22 names are all measured.
    assert {"release_list", "release_create", "track_create", "webhook_endpoint_create", "earnings_list"} <= set(
        BY_NAME
    )
    assert "balance" in BY_NAME


def test_a_binary_body_is_written_to_the_wrk_script_byte_for_byte(tmp_path: Any) -> None:
    body, content_type = load.track_upload()
    script = tmp_path / "upload.lua"
    wrk.write_script(script, [HttpRequest("POST", "/t", {"Content-Type": content_type}, body)])
    row = next(line for line in script.read_text().splitlines() if line.startswith("  {"))
    literal = row[row.index('}, "') + 3 : row.rindex("}")]  # the body: quotes inside it are escaped
    assert literal.startswith('"')
    assert literal.endswith('"')
    # Lua's decimal escapes (\ddd) decoded back give the same bytes.
    decoded, i = bytearray(), 1
    while i < len(literal) - 1:
        if literal[i] == "\\":
            decoded.append(int(literal[i + 1 : i + 4]))
            i += 4
        else:
            decoded.append(ord(literal[i]))
            i += 1
    assert bytes(decoded) == body


@pytest.fixture
def fixture(client: TestClient, make_tenant: TenantFactory) -> Fixture:
    """What the benchmark seeds, on a small scale: an account with releases, a person, a smart link, a track upload
    and a few months of earnings; a second account for the webhook endpoints. (Once per database: the smart link's
    slug is the benchmark's, and slugs are unique across accounts.)"""
    tenant = make_tenant(environment="production", production_access=True)
    hooks = make_tenant(environment="production", production_access=True)
    keys = {s.name: tenant.secret for s in APP_SCENARIOS}
    keys["webhook_endpoint_create"] = hooks.secret
    headers = tenant.headers
    release_ids = []
    for _ in range(22):  # more than a page
        created = client.post("/api/v1/releases", json=load.RELEASE_BODY, headers=headers)
        assert created.status_code == 201, created.text
        release_ids.append(created.json()["id"])
    person = client.post(
        "/api/v1/persons", json={"name": "Mara Lindqvist", "email": "mara@example.com"}, headers=headers
    )
    assert person.status_code == 201, person.text
    link = {
        "release_id": release_ids[0],
        "slug": load.SMARTLINK_SLUG,
        "destinations": [{"service": "spotify", "url": "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"}],
    }
    assert client.post("/api/v1/smartlinks", json=link, headers=headers).status_code == 201
    body, content_type = load.track_upload()
    uploaded = client.post("/api/v1/tracks", content=body, headers={**headers, "Content-Type": content_type})
    assert uploaded.status_code == 201, uploaded.text
    earnings_seed.seed(tenant.account_id, lines_per_month=3)
    return Fixture(release_ids, person.json()["id"], keys, "", tenant.account_id, hooks.account_id)


def _send(client: TestClient, request: HttpRequest) -> Any:
    # wrk never follows a redirect, and neither does this.
    return client.request(
        request.method, request.path, headers=request.headers, content=request.body, follow_redirects=False
    )


def _keys(document: Any, path: str = "$") -> set[str]:
    """Every key path of a JSON document (a list's items merged), to compare two documents' shapes."""
    if isinstance(document, dict):
        found = {f"{path}.{key}" for key in document}
        for key, value in document.items():
            found |= _keys(value, f"{path}.{key}")
        return found
    if isinstance(document, list):
        return set().union(*(_keys(item, f"{path}[]") for item in document)) if document else set()
    return set()


def _rows(document: dict[str, Any]) -> Any:
    """What a read returned: the ids of a list page, the id of a resource, or (no id) the document's numbers."""
    if document.get("object") == "list":
        return [item["id"] for item in document["data"]]
    if "id" in document:
        return document["id"]
    return {k: v for k, v in document.items() if k != "updated_at"}


def test_each_twin_answers_what_its_scenario_answers(client: TestClient, settings: Settings, fixture: Fixture) -> None:
    with TestClient(reference_app.create(settings)) as bare:
        compared = []
        for scenario in APP_SCENARIOS:
            twin: Scenario = BY_NAME[scenario.reference]
            app_answer = _send(client, scenario.requests(fixture)[0])
            twin_answer = _send(bare, twin.requests(fixture)[0])
            assert app_answer.status_code in scenario.expected, (scenario.name, app_answer.text)
            assert twin_answer.status_code == app_answer.status_code, (twin.name, twin_answer.text)
            app_type = app_answer.headers.get("content-type", "").split(";")[0]
            assert twin_answer.headers.get("content-type", "").split(";")[0] == app_type, twin.name
            if app_answer.status_code == 302:
                assert twin_answer.headers["location"] == app_answer.headers["location"], twin.name
            elif app_type == "application/json":
                ours, theirs = app_answer.json(), twin_answer.json()
                assert _keys(theirs) == _keys(ours), (twin.name, _keys(theirs) ^ _keys(ours))
                if scenario.name.endswith(("_get", "_list", "_summary")) or scenario.name == "balance":
                    assert _rows(theirs) == _rows(ours), twin.name  # the same rows: the same query
            compared.append(scenario.name)
        # A list twin's page and cursor are the API's: its next_cursor opens the API's second page.
        first = bare.get(f"/accounts/{fixture.account_id}/releases?limit=20").json()
    assert compared == [s.name for s in APP_SCENARIOS]
    assert first["has_more"] is True
    headers = {"Authorization": f"Bearer {fixture.keys['release_list']}"}
    second = client.get(f"/api/v1/releases?limit=20&cursor={first['next_cursor']}", headers=headers)
    assert second.status_code == 200, second.text
    assert second.json()["data"]
    assert not {item["id"] for item in first["data"]} & {item["id"] for item in second.json()["data"]}
