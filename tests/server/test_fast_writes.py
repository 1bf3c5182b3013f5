"""The short path for plain JSON writes (server/openapi/fast_writes.py) answers exactly like connexion's long path,
serves only the happy path, and hands everything else on with the body as it came."""

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.db import engine as db
from server.openapi.fast_reads import FastReadMiddleware, fast_routes
from server.openapi.specification import raw_document
from tests.conftest import Tenant, TenantFactory
from tests.server.releases_helpers import create_person, create_release, ok
from tests.server.short_path_helpers import Next, run

# Headers whose values differ between any two responses (ids, clocks, budgets): compared by name only.
_VOLATILE = {"x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit", "date", "location"}
_ID = re.compile(r"[a-z]+_[0-9a-z]{16,}")
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
_SECRETS = {"secret"}


@pytest.fixture
def long_path(settings: Settings) -> Iterator[TestClient]:
    """The same server with the short path for writes switched off: every write goes through connexion."""
    app = create_app(dataclasses.replace(settings, fast_writes=False))
    db.configure(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _masked(value: Any, key: str = "") -> Any:
    """A document with what differs between two equal writes (new ids, the moment, a new secret) masked."""
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items() if k != "request_id"}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, str):
        if key in _SECRETS:
            return "<secret>"
        value = _ID.sub("<id>", value)
        return _MOMENT.sub("<moment>", value)
    return value


def _normalised(response: Any) -> tuple[int, Any, str, list[str]]:
    body: Any = response.json() if response.content else None
    names = sorted(name for name in response.headers if name not in {"content-length"})
    volatile = {name: "*" for name in names if name in _VOLATILE}
    return (
        response.status_code,
        _masked(body),
        response.headers.get("content-type", ""),
        [volatile.get(n, n) for n in names],
    )


# One write of each kind: how to make the thing it writes to (fresh for each side), its path, a body that passes and
# a body its schema refuses.
Setup = Callable[[TestClient, Tenant], str]
WRITES: dict[str, tuple[str, str, Setup | None, Any, Any]] = {
    "createWebhookEndpoint": (
        "POST",
        "/api/v1/webhook-endpoints",
        None,
        {"url": "https://hooks.example.com/og", "enabled_events": ["release.created"], "description": "CRM"},
        {"url": "ftp://hooks.example.com/og", "enabled_events": []},
    ),
    "createPerson": (
        "POST",
        "/api/v1/persons",
        None,
        {"name": "Mara Lindqvist", "email": "mara@example.com", "roles": ["artist"], "metadata": {"crm": "42"}},
        {"name": "", "email": "not-an-email"},
    ),
    "createRelease": (
        "POST",
        "/api/v1/releases",
        None,
        {"title": "Northern Lights", "primary_artists": ["Aurora Vale"]},
        {"title": 7, "primary_artists": "Aurora Vale"},
    ),
    "updatePerson": (
        "PATCH",
        "/api/v1/persons/{id}",
        lambda client, tenant: create_person(client, tenant)["id"],
        {"name": "Mara S. Lindqvist", "metadata": {"crm": "43"}},
        {"roles": ["no-such-role"]},
    ),
    "updateReleaseDetails": (
        "PATCH",
        "/api/v1/releases/{id}/details",
        lambda client, tenant: create_release(client, tenant)["id"],
        {"title": "Southern Lights", "primary_artists": ["Aurora Vale", "Nils Berg"]},
        {"title": ""},
    ),
    "deletePerson": (
        "DELETE",
        "/api/v1/persons/{id}",
        lambda client, tenant: create_person(client, tenant)["id"],
        None,
        None,
    ),
}


def test_the_short_path_takes_plain_json_writes_and_nothing_else() -> None:
    document = raw_document()
    served = {r.operation_id for r in fast_routes(document, "server.api", writes=True) if r.write is not None}
    assert set(WRITES) <= served
    assert {
        "createSplit",
        "createSmartLink",
        "updateWebhookEndpoint",
        "deleteWebhookEndpoint",
        "submitRelease",
    } <= served
    # A multipart upload (or a choice of it), a public inbound webhook or OAuth form, and a path another template
    # could claim (`/payouts/request` beside `/payouts/{id}`) stay with connexion.
    assert not served & {
        "createTrack",
        "replaceTrackAudio",
        "updateReleaseArtwork",
        "requestPayout",
        "receiveStripeWebhook",
        "issueOauthToken",
    }
    # Off, the short path takes no write at all; and a write never runs on the event loop.
    assert not [r for r in fast_routes(document, "server.api") if r.write is not None]
    assert not [r for r in fast_routes(document, "server.api", writes=True) if r.write is not None and r.read_only]


def _cases(owner: Tenant, narrow: Tenant, good: Any, bad: Any) -> list[tuple[str, dict[str, str], bytes | None, str]]:
    """(query, headers, body, label): the happy path, and what connexion must answer."""
    json_headers = {**owner.headers, "Content-Type": "application/json"}
    if good is None:  # a write without a body
        return [
            ("", owner.headers, None, "served"),
            ("", {**json_headers}, b'{"force": true}', "a body where none is declared"),
            ("?force=1", owner.headers, None, "a query string"),
            ("", {}, None, "no credential"),
            ("", narrow.headers, None, "a missing scope"),
            ("", {"Authorization": "Bearer og_test_" + "x" * 40}, None, "an unknown key"),
        ]
    body = json.dumps(good).encode()
    return [
        ("", json_headers, body, "served"),
        ("", {**owner.headers, "Content-Type": "application/json; charset=utf-8"}, body, "served, with a charset"),
        ("", json_headers, json.dumps(bad).encode(), "the schema refuses it"),
        ("", json_headers, b'{"name": "a", "name": "b"}', "duplicate keys"),
        ("", json_headers, body[:-1], "malformed"),
        ("", json_headers, b"", "empty"),
        ("", json_headers, b"null", "null"),
        ("", json_headers, b"[]", "not an object"),
        ("", json_headers, b'{"x": NaN}', "NaN"),
        ("", json_headers, b"\xff\xfe{}", "not UTF-8"),
        ("", {**owner.headers, "Content-Type": "text/plain"}, body, "another media type"),
        ("", owner.headers, body, "no media type"),
        ("?dry_run=true", json_headers, body, "a query string"),
        ("", {k: v for k, v in json_headers.items() if k != "Authorization"}, body, "no credential"),
        ("", {**json_headers, "Authorization": "Bearer og_test_" + "x" * 40}, body, "an unknown key"),
        ("", {**json_headers, "Authorization": "Basic b3du"}, body, "not a bearer credential"),
        ("", {**json_headers, **narrow.headers}, body, "a missing scope"),
    ]


@pytest.mark.parametrize("operation_id", sorted(WRITES))
def test_both_paths_answer_alike(
    client: TestClient, long_path: TestClient, make_tenant: TenantFactory, operation_id: str
) -> None:
    method, template, setup, good, bad = WRITES[operation_id]
    owner = make_tenant()
    narrow = make_tenant(scopes=["events:read"], account_id=owner.account_id)
    for query, headers, body, label in _cases(owner, narrow, good, bad):
        answers = []
        for side in (client, long_path):
            path = template.format(id=setup(side, owner)) if setup else template
            answers.append(side.request(method, path + query, content=body, headers=headers))
        short, long = answers
        assert _normalised(short) == _normalised(long), (operation_id, label, short.text, long.text)
        if label.startswith("served"):
            assert 200 <= short.status_code < 300, (label, short.text)


def test_a_write_with_an_idempotency_key_is_replayed_by_connexion(client: TestClient, tenant: Tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "fast-writes-1"}
    body = {"name": "Mara Lindqvist", "email": "mara@example.com"}
    first = client.post("/api/v1/persons", json=body, headers=headers)
    again = client.post("/api/v1/persons", json=body, headers=headers)
    other = client.post("/api/v1/persons", json={**body, "name": "Someone Else"}, headers=headers)
    assert ok(first, 201)["id"] == ok(again, 201)["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"


def test_the_short_path_serves_the_happy_path_and_hands_on_the_rest_with_its_body(
    client: TestClient, settings: Settings, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    db.configure(settings)
    reader = make_tenant(scopes=["persons:read"], account_id=tenant.account_id)
    good = json.dumps({"name": "Mara Lindqvist", "email": "mara@example.com"}).encode()
    json_headers = {**tenant.headers, "Content-Type": "application/json"}
    for headers, body, served in [
        (json_headers, good, True),
        ({**json_headers, "Idempotency-Key": "k-1"}, good, False),
        ({**reader.headers, "Content-Type": "application/json"}, good, False),
        (json_headers, b'{"name": ""}', False),
        (json_headers, b'{"name": "a", "name": "b"}', False),
        (json_headers, good + b" x", False),
        ({**tenant.headers, "Content-Type": "application/xml"}, good, False),
    ]:
        following = Next()
        middleware = FastReadMiddleware(
            following,
            document=raw_document(),
            handler_package="server.api",
            validate_responses=True,
            fast_writes=True,
        )
        status = run(middleware, "POST", "/api/v1/persons", headers, body=body)
        assert following.called is not served, (headers, body)
        assert status == (201 if served else 599)
        if not served:
            assert following.body == body  # connexion reads the request exactly as it came
