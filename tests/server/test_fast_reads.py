"""The short path for plain reads answers exactly like connexion's long path, and only takes what it is sure of."""

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.db import engine as db
from server.domain.errors import DomainError
from server.openapi.fast_reads import FastReadMiddleware, fast_routes
from server.openapi.specification import raw_document
from tests.conftest import Tenant, TenantFactory
from tests.server.money_helpers import catalogue, line, report, send_dsp
from tests.server.releases_helpers import create_person, create_release, create_track, ok
from tests.server.short_path_helpers import Next, run
from tests.server.test_smartlinks import _create as create_smart_link

# Headers whose values differ between any two responses (ids, clocks, budgets): compared by name only.
_VOLATILE = {"x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit", "date"}


@pytest.fixture
def long_path(settings: Settings) -> Iterator[TestClient]:
    """The same server with the short path switched off: every request goes through connexion."""
    app = create_app(dataclasses.replace(settings, fast_reads=False))
    db.configure(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _parameters(client: TestClient, tenant: Tenant) -> dict[str, dict[str, str]]:
    """Path parameters naming one existing resource of the tenant, for each operation the short path serves."""
    release = create_release(client, tenant)
    track = create_track(client, tenant)
    person = create_person(client, tenant)
    endpoint = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://hooks.example.com/og", "enabled_events": ["*"]},
        headers=tenant.headers,
    )
    event = ok(client.get("/api/v1/events", params={"limit": 1}, headers=tenant.headers))["data"][0]
    link = create_smart_link(client, tenant)
    share = {"person_id": person["id"], "role": "artist", "share_bps": 10000}
    split = client.post("/api/v1/splits", json={"release_id": release["id"], "shares": [share]}, headers=tenant.headers)
    # Earnings lines, so that the earnings list, summary and the balance answer with figures.
    isrcs = [t["isrc"] for t in catalogue(client, tenant)["tracks"]]
    lines = [
        line(isrcs[0], "1.10", sale_period="2026-08", territory="DE", gross="1.30"),
        line(isrcs[1], "0.25", sale_period="2026-09", territory="US", currency="USD", fx_rate="0.5", gross="0.60"),
    ]
    assert send_dsp(client, report(lines, dsp="spotify")).status_code == 200
    return {
        "getRelease": {"id": release["id"]},
        "getTrack": {"id": track["id"]},
        "getTrackQcStatus": {"id": track["id"]},
        "getPerson": {"id": person["id"]},
        "getWebhookEndpoint": {"id": ok(endpoint, 201)["id"]},
        "getEvent": {"id": event["id"]},
        "getApiKey": {"id": tenant.key_id},
        "getSmartLink": {"id": link["id"]},
        "getPublicSmartLink": {"slug": link["slug"]},
        "followSmartLink": {"slug": link["slug"], "service": "spotify"},
        "getSplit": {"id": ok(split, 201)["id"]},
        "listReleaseSplits": {"releaseId": release["id"]},
        "listWebhookAttempts": {"id": ok(endpoint, 201)["id"]},
        **{
            operation_id: {}
            for operation_id in (
                "listReleases",
                "listTracks",
                "listSplits",
                "listPersons",
                "listPayouts",
                "listSandboxOutbox",
                "listSmartLinks",
                "listEvents",
                "listWebhookEndpoints",
                "listApiKeys",
                "listEarnings",
                "summarizeEarnings",
                "getBalance",
                "getSandboxClock",
            )
        },
    }


def _paths() -> dict[str, str]:
    """operationId -> path template of every operation the short path serves."""
    document = raw_document()
    return {
        operation["operationId"]: template
        for template, item in document["paths"].items()
        for method, operation in item.items()
        if method == "get" and operation["operationId"] in {r.operation_id for r in fast_routes(document, "server.api")}
    }


def _normalised(response: Any) -> tuple[int, Any, str, list[str]]:
    body: Any = response.json() if response.content else None
    if isinstance(body, dict):
        # The moment of answering (the balance's `updated_at`, the sandbox clock's `now`) may differ by a second.
        now = {"balance": "updated_at", "sandbox_clock": "now"}.get(body.get("object", ""))
        body = {k: "*" if k == now else v for k, v in body.items() if k not in {"request_id"}}
    names = sorted(name for name in response.headers if name not in {"content-length"})
    volatile = {name: "*" for name in names if name in _VOLATILE}
    return response.status_code, body, response.headers.get("content-type", ""), [volatile.get(n, n) for n in names]


def test_the_short_path_takes_the_plain_reads_and_nothing_else() -> None:
    served = set(_paths())
    assert {"getRelease", "getTrack", "getPerson", "getEvent", "getApiKey", "getWebhookEndpoint"} <= served
    # Lists too: their query parameters are optional scalars.
    assert {"listReleases", "listPersons", "listEvents", "listReleaseSplits", "listEarnings"} <= served
    # A GET without parameters that needs a credential, and one whose handler takes keyword-only arguments.
    assert {"getBalance", "summarizeEarnings"} <= served
    # Writes are not reads (plain JSON writes have a short path of their own, tests/server/test_fast_writes.py), the
    # OAuth endpoints and health checks have security of their own, the smart-link stats
    # take parameters named like Python keywords (`from`, `to`): all of them stay with connexion.
    assert not served & {
        "createRelease",
        "authorizeOauth",
        "getOauthMetadata",
        "getHealth",
        "getReadiness",
        "getSmartLinkStats",
    }
    # Only handlers marked read-only may run on the event loop (SQLite); the rest keep the thread pool.
    routes = {r.operation_id: r for r in fast_routes(raw_document(), "server.api")}
    assert routes["getRelease"].read_only
    assert routes["getPerson"].read_only
    assert routes["listReleases"].read_only
    assert routes["listEarnings"].read_only
    assert routes["summarizeEarnings"].read_only
    assert routes["getBalance"].read_only
    # Every read the short path serves is read-only but the public smart-link ones, which record the visit.
    assert {r.operation_id for r in routes.values() if not r.read_only} == {"getPublicSmartLink", "followSmartLink"}


def test_both_paths_answer_alike_for_owners_strangers_and_bad_requests(
    client: TestClient, long_path: TestClient, make_tenant: TenantFactory
) -> None:
    owner, stranger = make_tenant(), make_tenant()
    narrow = make_tenant(scopes=["webhooks:read"], account_id=owner.account_id)
    parameters = _parameters(client, owner)
    paths = _paths()
    assert set(parameters) == set(paths), "a new short-path operation needs a resource here"
    for operation_id, template in paths.items():
        values = parameters[operation_id]
        path = template.format(**values)
        unknown = template.format(**{name: value[:-4] + "zzzz" for name, value in values.items()})
        malformed = template.format(**dict.fromkeys(values, "not-an-id"))
        cases: list[tuple[str, dict[str, str]]] = [
            (path, owner.headers),  # 200
            (unknown, owner.headers),  # 404 from the handler
            (path, stranger.headers),  # another account's resource: 404
            (malformed, owner.headers),  # the parameter's schema refuses it
            (path, {}),  # no credential: 401
            (path, {"Authorization": "Basic b3du"}),  # not a bearer credential
            (path, {"Authorization": "Bearer og_test_" + "x" * 40}),  # unknown key
            (path, {"Authorization": "Bearer not-an-access-token"}),  # unknown OAuth token
            (path + "?expand=tracks", owner.headers),  # an undeclared query parameter
        ]
        if operation_id != "getWebhookEndpoint":
            cases.append((path, narrow.headers))  # missing scope: 403 naming it
        cases += [(path + "?" + query, owner.headers) for query in _queries(client, path, owner, template)]
        for url, headers in cases:
            short = client.get(url, headers=headers, follow_redirects=False)
            long = long_path.get(url, headers=headers, follow_redirects=False)
            assert _normalised(short) == _normalised(long), (operation_id, url, headers, short.text, long.text)
        served = client.get(path, headers=owner.headers, follow_redirects=False)
        assert served.status_code == (302 if operation_id == "followSmartLink" else 200), operation_id


def _queries(client: TestClient, path: str, tenant: Tenant, template: str) -> list[str]:
    """Query strings for a list: fine ones, and ones connexion must answer (bad, odd or repeated values)."""
    routes = {r.pattern.pattern: r for r in fast_routes(raw_document(), "server.api")}
    schemas = next(r.query_schemas for r in routes.values() if r.pattern.fullmatch(path))
    if not schemas:
        return []
    if "limit" not in schemas:  # not a list (the earnings summary): its own parameters below, and odd ones
        return ["unknown=x", "group_by=release&group_by=store", *_filter_queries(schemas)]
    first = ok(client.get(path, params={"limit": 1}, headers=tenant.headers))
    queries = ["limit=1", "limit=100", "limit=0", "limit=101", "limit=abc", "limit=+1", "limit=01", "limit=1&limit=2"]
    queries += ["limit=", "limit=1&unknown=x", "cursor=not%20a%20cursor", "cursor=abc", "LIMIT=1", "limit=1%00"]
    if first.get("next_cursor"):
        queries.append("limit=1&cursor=" + first["next_cursor"])
    return queries + _filter_queries(schemas)


def _filter_queries(schemas: dict[str, Any]) -> list[str]:
    """Query strings for a list's or a summary's filters: fine values and ones connexion or the handler refuses."""
    queries: list[str] = []
    if "created_gte" in schemas:
        queries += [
            "created_gte=2020-01-01T00:00:00Z",
            "created_gte=yesterday",
            "created_lt=2020-01-01T00:00:00%2B01:00",
        ]
    for name in ("status", "type", "outcome", "kind"):
        if name in schemas:
            allowed = schemas[name].get("enum", ["x"])
            queries += [f"{name}={allowed[0]}", f"{name}=no-such-{name}"]
    for name in ("release_id", "track_id", "person_id", "event_id"):
        if name in schemas:
            queries += [f"{name}=not-an-id", f"{name}=rel_{'0' * 26}"]
    if "period_start" in schemas:  # dates: plain, not dates, and a range the handler refuses
        queries += [
            "period_start=2026-01-01",
            "period_start=2026-01-01&period_end=2026-12-31",
            "period_start=20260101",
            "period_start=2026-02-30",
            "period_end=2026-13-01",
            "period_start=2026-06-01&period_end=2026-01-01",
        ]
    for name, good in (("store", "spotify"), ("territory", "DE")):
        if name in schemas:
            queries += [f"{name}={good}", f"{name}={good.upper() if name == 'store' else good.lower()}"]
    if "group_by" in schemas:
        queries += [f"group_by={value}" for value in schemas["group_by"]["enum"]] + ["group_by=month", "group_by="]
    return queries


def test_the_short_path_serves_the_happy_path_itself_and_hands_on_the_rest(
    client: TestClient, settings: Settings, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    release = create_release(client, tenant)
    path = f"/api/v1/releases/{release['id']}"
    reader = make_tenant(scopes=["tracks:read"], account_id=tenant.account_id)
    for url, headers, query, served in [
        (path, tenant.headers, b"", True),
        (path, tenant.headers, b"limit=1", False),  # a read by id takes no query parameters
        (path, {}, b"", False),
        (path, reader.headers, b"", False),
        ("/api/v1/releases", tenant.headers, b"", True),
        ("/api/v1/releases", tenant.headers, b"limit=1&status=draft", True),
        ("/api/v1/releases", tenant.headers, b"limit=abc", False),  # connexion words the refusal
        ("/api/v1/releases", tenant.headers, b"limit=1&limit=2", False),
        ("/api/v1/releases", tenant.headers, b"expand=tracks", False),
    ]:
        following = Next()
        middleware = FastReadMiddleware(
            following, document=raw_document(), handler_package="server.api", validate_responses=True
        )
        status = run(middleware, "GET", url, headers, query=query)
        assert following.called is not served
        assert status == (200 if served else 599)
    # A problem the handler raises goes to connexion's exception middleware, which sits outside.
    middleware = FastReadMiddleware(
        Next(), document=raw_document(), handler_package="server.api", validate_responses=True
    )
    with pytest.raises(DomainError) as raised:
        run(middleware, "GET", path[:-4] + "zzzz", tenant.headers)
    assert raised.value.status == 404
