"""The short path for plain reads answers exactly like connexion's long path, and only takes what it is sure of."""

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from server.app import create_app
from server.config import Settings
from server.db import engine as db
from server.domain.errors import DomainError
from server.openapi.fast_reads import FastReadMiddleware, fast_routes
from server.openapi.specification import raw_document
from tests.conftest import Tenant, TenantFactory
from tests.server.releases_helpers import create_person, create_release, create_track, ok
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
        body = {k: v for k, v in body.items() if k not in {"request_id"}}
    names = sorted(name for name in response.headers if name not in {"content-length"})
    volatile = {name: "*" for name in names if name in _VOLATILE}
    return response.status_code, body, response.headers.get("content-type", ""), [volatile.get(n, n) for n in names]


def test_the_short_path_takes_the_plain_reads_and_nothing_else() -> None:
    served = set(_paths())
    assert {"getRelease", "getTrack", "getPerson", "getEvent", "getApiKey", "getWebhookEndpoint"} <= served
    # Lists take query parameters with defaults, writes have bodies, public pages and the OAuth endpoints have
    # security of their own: all of them stay with connexion.
    assert not served & {"listReleases", "createRelease", "authorizeOauth", "getOauthMetadata", "getHealth"}
    # Only handlers marked read-only may run on the event loop (SQLite); the rest keep the thread pool.
    routes = {r.operation_id: r for r in fast_routes(raw_document(), "server.api")}
    assert routes["getRelease"].read_only
    assert routes["getPerson"].read_only
    assert not routes["getPublicSmartLink"].read_only  # it records the view


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
        for url, headers in cases:
            short = client.get(url, headers=headers, follow_redirects=False)
            long = long_path.get(url, headers=headers, follow_redirects=False)
            assert _normalised(short) == _normalised(long), (operation_id, url, headers, short.text, long.text)
        served = client.get(path, headers=owner.headers, follow_redirects=False)
        assert served.status_code == (302 if operation_id == "followSmartLink" else 200), operation_id


class _Next:
    """Stands for connexion: records whether the short path handed the request on."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _run(middleware: FastReadMiddleware, path: str, headers: dict[str, str], query: bytes = b"") -> int:
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(middleware(scope, receive, send))
    return statuses[0]


def test_the_short_path_serves_the_happy_path_itself_and_hands_on_the_rest(
    client: TestClient, settings: Settings, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    release = create_release(client, tenant)
    path = f"/api/v1/releases/{release['id']}"
    reader = make_tenant(scopes=["tracks:read"], account_id=tenant.account_id)
    for headers, query, served in [
        (tenant.headers, b"", True),
        (tenant.headers, b"limit=1", False),
        ({}, b"", False),
        (reader.headers, b"", False),
    ]:
        following = _Next()
        middleware = FastReadMiddleware(
            following, document=raw_document(), handler_package="server.api", validate_responses=True
        )
        status = _run(middleware, path, headers, query)
        assert following.called is not served
        assert status == (200 if served else 599)
    # A problem the handler raises goes to connexion's exception middleware, which sits outside.
    middleware = FastReadMiddleware(
        _Next(), document=raw_document(), handler_package="server.api", validate_responses=True
    )
    with pytest.raises(DomainError) as raised:
        _run(middleware, path[:-4] + "zzzz", tenant.headers)
    assert raised.value.status == 404
