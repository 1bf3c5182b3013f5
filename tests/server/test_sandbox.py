"""The living sandbox: mock data for new accounts, the simulated sub-distributor, advancing releases, the test
clock, triggers, and production credentials refused on every sandbox operation."""

import json
import re
import time
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook
from starlette.testclient import TestClient

from server import clock, sandbox_worker
from server.config import Settings
from server.docs_site.build import GUIDES_SOURCE
from server.services import sandbox_simulator
from tests.conftest import Tenant, TenantFactory
from tests.server.releases_helpers import ok
from tests.webhooks.conftest import drain
from tests.webhooks.receiver import running_receiver


def _releases(client: TestClient, tenant: Tenant) -> list[dict[str, Any]]:
    return list(ok(client.get("/api/v1/releases", params={"limit": 100}, headers=tenant.headers))["data"])


def _by_title(client: TestClient, tenant: Tenant, title: str) -> dict[str, Any]:
    [release] = [r for r in _releases(client, tenant) if r["title"] == title]
    return release


def _balance(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    return dict(ok(client.get("/api/v1/balance", headers=tenant.headers)))


@pytest.fixture
def mocked(make_tenant: TenantFactory) -> Tenant:
    return make_tenant(mock_data=True)


def test_a_new_sandbox_account_has_a_realistic_catalogue_and_money(client: TestClient, mocked: Tenant) -> None:
    releases = _releases(client, mocked)
    statuses = Counter(release["status"] for release in releases)
    for status in (
        "draft",
        "submitted",
        "in_review",
        "approved",
        "action_needed",
        "rejected",
        "delivering",
        "live",
        "takedown_requested",
        "taken_down",
    ):
        assert statuses[status] >= 1, status
    ready = _by_title(client, mocked, "Ready When You Are")
    assert ready["status"] == "draft"
    assert all(step["complete"] for step in ready["steps"].values())
    assert ready["artwork_qc"]["status"] == "passed"
    assert [track["qc_status"] for track in ready["tracks"]] == ["passed"]
    assert len(ok(client.get("/api/v1/persons", headers=mocked.headers))["data"]) == 4
    assert ok(client.get("/api/v1/splits", headers=mocked.headers))["data"]
    summary = ok(client.get("/api/v1/earnings/summary", params={"group_by": "period"}, headers=mocked.headers))
    assert len(summary["groups"]) >= 9  # about a year of monthly sale periods
    payouts = ok(client.get("/api/v1/payouts", headers=mocked.headers))["data"]
    assert {payout["status"] for payout in payouts} == {"paid", "cancelled", "returned", "processing"}
    assert Decimal(_balance(client, mocked)["available"]) > 0
    links = ok(client.get("/api/v1/smartlinks", headers=mocked.headers))["data"]
    assert len(links) == 2
    stats = ok(client.get(f"/api/v1/smartlinks/{links[0]['id']}/stats", headers=mocked.headers))
    assert stats["views"]["total"] > 0


def test_mock_data_is_sandbox_only_and_opt_out(client: TestClient, make_tenant: TenantFactory) -> None:
    production = make_tenant(environment="production", production_access=True, mock_data=True)
    assert _releases(client, production) == []
    empty = make_tenant(mock_data=False)
    assert _releases(client, empty) == []


def _event_types(client: TestClient, tenant: Tenant, **params: str) -> list[str]:
    events = ok(client.get("/api/v1/events", params={"limit": 100, **params}, headers=tenant.headers))["data"]
    return [event["type"] for event in reversed(events)]


def _wait_for(predicate: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the sandbox journey did not finish"
        time.sleep(0.1)


def test_a_submitted_ready_draft_goes_live_by_itself_with_signed_webhooks_in_order(
    client: TestClient, mocked: Tenant, settings: Settings
) -> None:
    ready = _by_title(client, mocked, "Ready When You Are")
    with running_receiver() as receiver:
        endpoint = ok(
            client.post(
                "/api/v1/webhook-endpoints",
                json={"url": receiver.url, "enabled_events": ["release.status_changed", "release.submitted"]},
                headers=mocked.headers,
            ),
            201,
        )
        submitted = ok(client.post(f"/api/v1/releases/{ready['id']}/submit", headers=mocked.headers))
        assert submitted["status"] == "submitted"
        worker = sandbox_worker.start_in_process(interval=0.1)  # what `og-server serve` runs
        try:

            def all_stores_live() -> bool:
                release = ok(client.get(f"/api/v1/releases/{ready['id']}", headers=mocked.headers))
                return release["status"] == "live" and {d["status"] for d in release["deliveries"]} == {"live"}

            _wait_for(all_stores_live)
        finally:
            worker.stop()
        drain(settings)
        requests = receiver.wait_for(6)
    bodies = [Webhook(endpoint["secret"]).verify(request.body, request.headers) for request in requests]
    moves = [
        (body["data"]["previous_attributes"]["status"], body["data"]["object"]["status"])
        for body in sorted(bodies, key=lambda body: body["id"])  # ids are time-ordered; `created` has whole seconds
        if body["type"] == "release.status_changed" and body["data"]["object"]["id"] == ready["id"]
    ]
    assert moves == [
        ("draft", "submitted"),
        ("submitted", "in_review"),
        ("in_review", "approved"),
        ("approved", "delivering"),
        ("delivering", "live"),
    ]
    release = ok(client.get(f"/api/v1/releases/{ready['id']}", headers=mocked.headers))
    assert all(delivery["store_url"] for delivery in release["deliveries"])


def _submit_ready_release(client: TestClient, tenant: Tenant, metadata: dict[str, str]) -> dict[str, Any]:
    ready = _by_title(client, tenant, "Ready When You Are")
    ok(client.patch(f"/api/v1/releases/{ready['id']}/details", json={"metadata": metadata}, headers=tenant.headers))
    return dict(ok(client.post(f"/api/v1/releases/{ready['id']}/submit", headers=tenant.headers)))


def test_magic_metadata_ends_the_review_in_action_needed(client: TestClient, mocked: Tenant) -> None:
    release = _submit_ready_release(client, mocked, {"sandbox_review": "action_needed"})
    # The scheduler's own round, once every step is due (the test timeline is 2 s; the test clock makes it so).
    with clock.shifted(timedelta(seconds=5)):
        sandbox_simulator.run_due(account_id=mocked.account_id)
    moved = ok(client.get(f"/api/v1/releases/{release['id']}", headers=mocked.headers))
    assert moved["status"] == "action_needed"
    assert "website address" in moved["status_reason"]
    assert moved["deliveries"] == []


def _advance(client: TestClient, tenant: Tenant, release_id: str, to: str) -> dict[str, Any]:
    return dict(
        ok(client.post(f"/api/v1/sandbox/releases/{release_id}/advance", json={"to": to}, headers=tenant.headers))
    )


def test_advance_moves_a_release_through_every_status_at_once(client: TestClient, mocked: Tenant) -> None:
    submitted = next(r for r in _releases(client, mocked) if r["status"] == "submitted")
    before = len(_event_types(client, mocked, type="release.status_changed"))
    release = _advance(client, mocked, submitted["id"], "live")
    assert release["status"] == "live"
    assert {delivery["status"] for delivery in release["deliveries"]} == {"live"}
    changes = ok(
        client.get("/api/v1/events", params={"limit": 100, "type": "release.status_changed"}, headers=mocked.headers)
    )["data"]
    mine = [
        (e["data"]["previous_attributes"]["status"], e["data"]["object"]["status"])
        for e in reversed(changes)
        if e["data"]["object"]["id"] == submitted["id"]
    ]
    assert mine[-4:] == [
        ("submitted", "in_review"),
        ("in_review", "approved"),
        ("approved", "delivering"),
        ("delivering", "live"),
    ]
    assert len(_event_types(client, mocked, type="release.status_changed")) == before + 4
    # Backwards is refused with the current state named.
    again = client.post(
        f"/api/v1/sandbox/releases/{submitted['id']}/advance", json={"to": "in_review"}, headers=mocked.headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state"


def test_advance_to_rejected_and_a_draft_cannot_be_advanced(client: TestClient, mocked: Tenant) -> None:
    submitted = next(r for r in _releases(client, mocked) if r["status"] == "submitted")
    assert _advance(client, mocked, submitted["id"], "rejected")["status"] == "rejected"
    draft = _by_title(client, mocked, "Ready When You Are")
    refused = client.post(
        f"/api/v1/sandbox/releases/{draft['id']}/advance", json={"to": "live"}, headers=mocked.headers
    )
    assert refused.status_code == 409


def _clock(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    return dict(ok(client.get("/api/v1/sandbox/clock", headers=tenant.headers)))


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_moving_the_clock_31_days_brings_sales_settlement_and_a_larger_balance(
    client: TestClient, mocked: Tenant, settings: Settings
) -> None:
    submitted = next(r for r in _releases(client, mocked) if r["status"] == "submitted")
    start = _clock(client, mocked)
    assert start["object"] == "sandbox_clock"
    available_before = Decimal(_balance(client, mocked)["available"])
    imported_before = len(_event_types(client, mocked, type="earnings.imported"))
    target = _parse(start["now"]) + timedelta(days=31)
    with running_receiver() as receiver:
        endpoint = ok(
            client.post(
                "/api/v1/webhook-endpoints",
                json={"url": receiver.url, "enabled_events": ["release.status_changed"]},
                headers=mocked.headers,
            ),
            201,
        )
        moved = ok(
            client.post(
                "/api/v1/sandbox/clock/advance",
                json={"to": target.isoformat().replace("+00:00", "Z")},
                headers=mocked.headers,
            )
        )
        drain(settings)  # the events of sandbox time are delivered now, in real time
        requests = receiver.wait_for(4)
    bodies = [Webhook(endpoint["secret"]).verify(request.body, request.headers) for request in requests]
    assert [body["data"]["object"]["status"] for body in sorted(bodies, key=lambda b: b["id"])] == [
        "in_review",
        "approved",
        "delivering",
        "live",
    ]
    assert moved["object"] == "sandbox_clock"
    assert abs(_parse(moved["now"]) - target) < timedelta(seconds=5)
    assert abs(_parse(_clock(client, mocked)["now"]) - target) < timedelta(minutes=1)
    # The submitted release went its realistic way (days) in the meantime.
    assert ok(client.get(f"/api/v1/releases/{submitted['id']}", headers=mocked.headers))["status"] == "live"
    assert len(_event_types(client, mocked, type="earnings.imported")) > imported_before
    lines = ok(client.get("/api/v1/earnings", params={"limit": 100}, headers=mocked.headers))["data"]
    assert {line["currency"] for line in lines} >= {"EUR", "USD"}
    assert Decimal(_balance(client, mocked)["available"]) > available_before
    # Events of the simulation carry the sandbox time.
    latest = ok(client.get("/api/v1/events", params={"limit": 1}, headers=mocked.headers))["data"][0]
    assert _parse(latest["created"]) > _parse(start["now"]) + timedelta(days=20)


def test_the_clock_moves_forward_only_and_within_bounds(client: TestClient, tenant: Tenant) -> None:
    now = _parse(_clock(client, tenant)["now"])
    for to in (now - timedelta(hours=1), now + timedelta(days=400)):
        refused = client.post(
            "/api/v1/sandbox/clock/advance",
            json={"to": to.isoformat().replace("+00:00", "Z")},
            headers=tenant.headers,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "validation_failed"


def test_a_production_key_is_refused_on_every_sandbox_operation(
    client: TestClient, make_tenant: TenantFactory, mocked: Tenant
) -> None:
    production = make_tenant(environment="production", production_access=True)
    release_id = _releases(client, mocked)[0]["id"]
    calls = [
        ("GET", "/api/v1/sandbox/clock", None),
        ("POST", "/api/v1/sandbox/clock/advance", {"to": "2030-01-01T00:00:00Z"}),
        ("POST", f"/api/v1/sandbox/releases/{release_id}/advance", {"to": "live"}),
        ("POST", "/api/v1/sandbox/triggers", {"event": "payout.status_changed"}),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body, headers=production.headers)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "sandbox_only"


def test_triggers_make_the_real_thing_happen(client: TestClient, mocked: Tenant) -> None:
    before = Counter(_event_types(client, mocked))
    payout = ok(
        client.post("/api/v1/sandbox/triggers", json={"event": "payout.status_changed"}, headers=mocked.headers)
    )
    assert payout["event"] == "payout.status_changed"
    failed = ok(client.get(f"/api/v1/payouts/{payout['resource']['id']}", headers=mocked.headers))
    assert failed["status"] in {"failed", "returned", "cancelled"}
    invitation = ok(
        client.post("/api/v1/sandbox/triggers", json={"event": "person.invitation_failed"}, headers=mocked.headers)
    )
    person = ok(client.get(f"/api/v1/persons/{invitation['resource']['id']}", headers=mocked.headers))
    assert person["invitation_status"] == "failed"
    endpoint = ok(
        client.post(
            "/api/v1/webhook-endpoints",
            json={"url": "https://hooks.example.com/og", "enabled_events": ["*"]},
            headers=mocked.headers,
        ),
        201,
    )
    disabled = ok(
        client.post(
            "/api/v1/sandbox/triggers",
            json={"event": "endpoint.disabled", "endpoint_id": endpoint["id"]},
            headers=mocked.headers,
        )
    )
    assert disabled["resource"]["status"] == "disabled"
    assert ok(client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=mocked.headers))["status"] == "disabled"
    after = Counter(_event_types(client, mocked))
    assert after["endpoint.disabled"] == before["endpoint.disabled"] + 1
    assert after["payout.status_changed"] > before["payout.status_changed"]
    assert after["person.invitation_failed"] == before["person.invitation_failed"] + 1
    unknown = client.post("/api/v1/sandbox/triggers", json={"event": "no.such_event"}, headers=mocked.headers)
    assert unknown.status_code == 422
    assert json.loads(unknown.text)["code"] == "validation_failed"


def test_the_guides_journey_snippet_runs(client: TestClient, mocked: Tenant) -> None:
    guide = (GUIDES_SOURCE / "sandbox.md").read_text(encoding="utf-8")
    [snippet] = [
        block for block in re.findall(r"```python\n(.*?)```", guide, flags=re.S) if "def sandbox_journey" in block
    ]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "sandbox.md", "exec"), namespace)  # the guide's own code, run as users run it
    client.headers.update(mocked.headers)
    before, after = namespace["sandbox_journey"](client)
    assert Decimal(after) > Decimal(before)
    ready = _by_title(client, mocked, "Ready When You Are")
    assert ready["status"] == "live"  # its journey ran inside the month the clock moved
