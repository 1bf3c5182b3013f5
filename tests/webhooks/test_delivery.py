"""Delivering events: Standard Webhooks signatures, the retry schedule, disabling, the attempt log, replay."""

import fcntl
import json
import shutil
import subprocess
import tempfile
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook
from starlette.testclient import TestClient

from server.config import Settings
from server.webhooks.clock import ManualClock
from server.webhooks.schedule import RETRY_DELAYS
from tests.conftest import Tenant
from tests.webhooks.conftest import drain, endpoint_payload_errors
from tests.webhooks.receiver import Received, Reply, running_receiver

NODE_VERIFIER = Path(__file__).with_name("node")


def _endpoint(client: TestClient, tenant: Tenant, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body = {"url": url, "enabled_events": events or ["*"]}
    response = client.post("/api/v1/webhook-endpoints", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _person(client: TestClient, tenant: Tenant, name: str = "Mara Lindqvist") -> dict[str, Any]:
    response = client.post("/api/v1/persons", json={"name": name, "email": "mara@example.com"}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _attempts(client: TestClient, tenant: Tenant, endpoint_id: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/attempts", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def _verify_with_node(secret: str, request: Received) -> dict[str, Any]:
    # One install at a time: `nox -s clock` runs this file in two processes at once, and `npm ci` starts by deleting
    # node_modules/ (so the lock lives outside it, and outside the checkout).
    lock_path = Path(tempfile.gettempdir()) / f"og-node-verifier-{zlib.crc32(bytes(NODE_VERIFIER)):08x}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (NODE_VERIFIER / "node_modules" / "standardwebhooks").exists():
            npm = shutil.which("npm")
            assert npm, "npm is needed to install the reference verifier"
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_VERIFIER, check=True, capture_output=True)
    message = {"secret": secret, "headers": request.headers, "body": request.body.decode()}
    result = subprocess.run(
        ["node", "verify.mjs"], cwd=NODE_VERIFIER, input=json.dumps(message), capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout))


def test_person_created_is_delivered_signed_for_both_reference_verifiers(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    with running_receiver() as receiver:
        endpoint = _endpoint(client, tenant, receiver.url, ["person.created"])
        person = _person(client, tenant)
        assert drain(settings) == 1
        [request] = receiver.requests
    body = json.loads(request.body)
    assert body["type"] == "person.created"
    assert body["data"]["object"] == person
    assert request.headers["webhook-id"] == body["id"]
    assert endpoint_payload_errors(body) == []
    # The event as the pull API lists it is the delivered event.
    listed = client.get(f"/api/v1/events/{body['id']}", headers=tenant.headers).json()
    assert listed == body
    assert Webhook(endpoint["secret"]).verify(request.body, request.headers) == body
    assert _verify_with_node(endpoint["secret"], request) == {"ok": True, "payload": body}
    # A wrong secret fails in both, so the checks above are not vacuous.
    other = "whsec_" + "A" * 43 + "="
    with pytest.raises(Exception, match="signature"):
        Webhook(other).verify(request.body, request.headers)
    assert _verify_with_node(other, request)["ok"] is False
    [attempt] = _attempts(client, tenant, endpoint["id"])
    assert (attempt["outcome"], attempt["trigger"], attempt["attempt"]) == ("succeeded", "automatic", 1)
    assert (attempt["response_status"], attempt["response_excerpt"]) == (200, '{"ok":true}')


def test_during_a_rotation_both_secrets_verify(client: TestClient, tenant: Tenant, settings: Settings) -> None:
    with running_receiver() as receiver:
        endpoint = _endpoint(client, tenant, receiver.url)
        rotated = client.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", json={}, headers=tenant.headers
        ).json()
        _person(client, tenant)
        drain(settings)
        [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], rotated["secret"]):
        Webhook(secret).verify(request.body, request.headers)
        assert _verify_with_node(secret, request)["ok"] is True


def test_only_subscribed_endpoints_of_the_same_tenant_receive_events(
    client: TestClient, make_tenant: Any, settings: Settings
) -> None:
    owner, other = make_tenant(), make_tenant()
    with running_receiver() as subscribed, running_receiver() as unsubscribed, running_receiver() as foreign:
        _endpoint(client, owner, subscribed.url, ["person.created"])
        _endpoint(client, owner, unsubscribed.url, ["payout.status_changed"])
        _endpoint(client, other, foreign.url, ["*"])
        _person(client, owner)
        drain(settings)
        assert (len(subscribed.requests), len(unsubscribed.requests), len(foreign.requests)) == (1, 0, 0)


def test_a_rolled_back_transaction_emits_and_delivers_nothing(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    from sqlmodel import col, func, select

    from server.db.engine import session_scope
    from server.db.models.events import Event
    from server.principal import Principal
    from server.services import events

    principal = Principal(tenant.account_id, "sandbox", frozenset(), tenant.key_id, "api_key")
    with running_receiver() as receiver:
        _endpoint(client, tenant, receiver.url)

        def failing_change() -> None:
            with session_scope() as session:
                events.emit(session, principal, "person.created", {"id": "per_x", "object": "person"})
                session.flush()
                raise RuntimeError("the change failed after the event was written")

        with pytest.raises(RuntimeError):
            failing_change()
        assert drain(settings) == 0
        assert receiver.requests == []
    with session_scope() as session:
        count = session.exec(select(func.count()).where(col(Event.account_id) == tenant.account_id)).one()
    assert count == 0


def test_a_receiver_down_for_hours_gets_retries_on_schedule_then_the_event(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    failures = 6  # down through attempts 1-6 (about 17 hours), back for attempt 7
    with running_receiver(lambda r: Reply(status=503 if len(receiver.requests) <= failures else 200)) as receiver:
        endpoint = _endpoint(client, tenant, receiver.url)
        _person(client, tenant)
        clock = ManualClock()
        started = clock.now()
        for expected_delay in RETRY_DELAYS[:failures]:
            assert drain(settings, clock=clock) == 1
            [latest, *_] = _attempts(client, tenant, endpoint["id"])
            assert latest["outcome"] == "failed"
            assert latest["response_status"] == 503
            due = datetime.fromisoformat(latest["next_attempt_at"])
            waited = due - datetime.fromisoformat(latest["started_at"])
            # ±10 % jitter, and timestamps in the API have whole seconds.
            assert expected_delay * 0.9 - timedelta(seconds=1) <= waited <= expected_delay * 1.1 + timedelta(seconds=1)
            clock.set(due - timedelta(seconds=1))
            assert drain(settings, clock=clock) == 0  # not a second early
            clock.set(due + timedelta(seconds=1))
        assert drain(settings, clock=clock) == 1
    assert clock.now() - started > timedelta(hours=15)  # 17.6 h without jitter
    attempts = _attempts(client, tenant, endpoint["id"])
    assert [a["outcome"] for a in attempts] == ["succeeded"] + ["failed"] * failures
    assert [a["attempt"] for a in attempts] == list(range(failures + 1, 0, -1))
    assert [a["trigger"] for a in attempts] == ["retry"] * failures + ["automatic"]
    assert attempts[0]["next_attempt_at"] is None
    # One event, one webhook-id; re-signed with a fresh timestamp every time.
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len({r.headers["webhook-timestamp"] for r in receiver.requests}) == failures + 1
    for request in receiver.requests:
        moment = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]))
        signature = Webhook(endpoint["secret"]).sign(request.headers["webhook-id"], moment, request.body.decode())
        assert request.headers["webhook-signature"] == signature


def test_retries_stop_after_the_last_scheduled_attempt(client: TestClient, tenant: Tenant, settings: Settings) -> None:
    with running_receiver(lambda _r: Reply(status=500)) as receiver:
        endpoint = _endpoint(client, tenant, receiver.url)
        _person(client, tenant)
        clock = ManualClock()
        started = clock.now()
        while drain(settings, clock=clock):
            due = _attempts(client, tenant, endpoint["id"])[0]["next_attempt_at"]
            if due is None:
                break
            clock.set(datetime.fromisoformat(due) + timedelta(seconds=1))
        assert len(receiver.requests) == len(RETRY_DELAYS) + 1
        clock.advance(timedelta(days=30))
        assert drain(settings, clock=clock) == 0
    attempts = _attempts(client, tenant, endpoint["id"])
    assert attempts[0]["next_attempt_at"] is None
    assert attempts[0]["attempt"] == 10
    # About three days (75 h 35 min without jitter, ±10 %), and the endpoint stays enabled: it failed for less than
    # five days.
    last = datetime.fromisoformat(attempts[0]["started_at"])
    assert timedelta(hours=68) < last - started < timedelta(hours=83, minutes=10)
    assert client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).json()["status"] == (
        "enabled"
    )


def test_3xx_is_a_failure_and_retry_after_is_honoured(client: TestClient, tenant: Tenant, settings: Settings) -> None:
    replies = iter(
        [Reply(status=302, headers={"location": "https://example.com"}), Reply(429, headers={"retry-after": "3600"})]
    )
    with running_receiver(lambda _r: next(replies, Reply())) as receiver:
        endpoint = _endpoint(client, tenant, receiver.url)
        _person(client, tenant)
        clock = ManualClock()
        drain(settings, clock=clock)
        clock.advance(timedelta(seconds=6))
        drain(settings, clock=clock)
        [throttled, redirected] = _attempts(client, tenant, endpoint["id"])
        assert (redirected["outcome"], redirected["response_status"]) == ("failed", 302)
        assert throttled["response_status"] == 429
        waited = datetime.fromisoformat(throttled["next_attempt_at"]) - datetime.fromisoformat(throttled["started_at"])
        assert timedelta(minutes=59) <= waited <= timedelta(minutes=61)  # the schedule said 5 min; it asked 1 h
        clock.advance(timedelta(minutes=30))
        assert drain(settings, clock=clock) == 0
        clock.advance(timedelta(minutes=31))
        assert drain(settings, clock=clock) == 1
        assert len(receiver.requests) == 3


def test_410_gone_disables_the_endpoint_and_tells_the_other_endpoints(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    with running_receiver(lambda _r: Reply(status=410)) as gone, running_receiver() as watcher:
        endpoint = _endpoint(client, tenant, gone.url, ["person.created"])
        _endpoint(client, tenant, watcher.url, ["endpoint.disabled"])
        _person(client, tenant)
        drain(settings)
        assert len(gone.requests) == 1
        [notice] = watcher.requests
    fetched = client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).json()
    assert (fetched["status"], fetched["disabled_reason"]) == ("disabled", "gone")
    body = json.loads(notice.body)
    assert body["type"] == "endpoint.disabled"
    assert body["data"]["reason"] == "gone"
    assert body["data"]["object"] == fetched
    assert endpoint_payload_errors(body) == []
    # Disabled endpoints receive nothing more.
    _person(client, tenant)
    assert drain(settings) == 0


def test_an_endpoint_failing_for_five_days_is_disabled(client: TestClient, tenant: Tenant, settings: Settings) -> None:
    with running_receiver(lambda _r: Reply(status=500)) as failing, running_receiver() as watcher:
        endpoint = _endpoint(client, tenant, failing.url, ["person.created"])
        _endpoint(client, tenant, watcher.url, ["endpoint.disabled"])
        _person(client, tenant)
        clock = ManualClock()
        assert drain(settings, clock=clock) == 1
        clock.advance(timedelta(days=4, hours=23))
        _person(client, tenant, "Second")
        drain(settings, clock=clock)
        assert client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).json()["status"] == (
            "enabled"
        )
        assert watcher.requests == []
        clock.advance(timedelta(hours=1, seconds=1))
        drain(settings, clock=clock)
        [notice] = watcher.requests
    assert json.loads(notice.body)["data"]["reason"] == "failing"
    fetched = client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers).json()
    assert (fetched["status"], fetched["disabled_reason"]) == ("disabled", "failing")
    assert _attempts(client, tenant, endpoint["id"], outcome="pending") == []


def test_resend_recovery_and_test_event(client: TestClient, tenant: Tenant, settings: Settings) -> None:
    with running_receiver() as receiver:
        endpoint = _endpoint(client, tenant, receiver.url)
        since = datetime.now().astimezone() - timedelta(minutes=1)
        _person(client, tenant, "One")
        _person(client, tenant, "Two")
        drain(settings)
        assert len(receiver.requests) == 2
        first_id = receiver.requests[0].headers["webhook-id"]

        resent = client.post(f"/api/v1/events/{first_id}/resend", json={}, headers=tenant.headers)
        assert resent.status_code == 202, resent.text
        [pending] = resent.json()["attempts"]
        assert (pending["trigger"], pending["outcome"], pending["attempt"]) == ("resend", "pending", 2)
        assert _attempts(client, tenant, endpoint["id"], outcome="pending") == [pending]
        drain(settings)
        assert receiver.requests[2].headers["webhook-id"] == first_id
        [done] = _attempts(client, tenant, endpoint["id"], event_id=first_id)[:1]
        assert (done["id"], done["outcome"], done["attempt"]) == (pending["id"], "succeeded", 2)

        recovered = client.post(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/recover",
            json={"since": since.isoformat()},
            headers=tenant.headers,
        )
        assert recovered.status_code == 202, recovered.text
        assert recovered.json()["event_count"] == 2
        drain(settings)
        assert sorted(json.loads(r.body)["data"]["object"]["name"] for r in receiver.requests[3:]) == ["One", "Two"]
        assert {a["trigger"] for a in _attempts(client, tenant, endpoint["id"])[:2]} == {"recovery"}

        tested = client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", headers=tenant.headers)
        assert tested.status_code == 200, tested.text
        assert (tested.json()["trigger"], tested.json()["outcome"]) == ("test", "succeeded")
        test_body = json.loads(receiver.requests[-1].body)
        assert test_body["type"] == "webhook.test"
        assert endpoint_payload_errors(test_body) == []
        Webhook(endpoint["secret"]).verify(receiver.requests[-1].body, receiver.requests[-1].headers)
        assert drain(settings) == 0  # the test event is not fanned out to `*` subscribers

    too_old = client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/recover",
        json={"since": "2020-01-01T00:00:00Z"},
        headers=tenant.headers,
    ).json()
    # Events are kept 30 days: the range starts there, and still holds both events (and the test event is excluded).
    kept_from = datetime.fromisoformat(too_old["since"])
    assert timedelta(days=29, hours=23) < datetime.now().astimezone() - kept_from <= timedelta(days=30, seconds=2)
    assert too_old["event_count"] == 2
    backwards = client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/recover",
        json={"since": "2026-11-26T00:00:00Z", "until": "2026-11-25T00:00:00Z"},
        headers=tenant.headers,
    )
    assert (backwards.status_code, backwards.json()["event_count"]) == (202, 0)
    client.patch(f"/api/v1/webhook-endpoints/{endpoint['id']}", json={"status": "disabled"}, headers=tenant.headers)
    refused = client.post(
        f"/api/v1/events/{first_id}/resend", json={"endpoint_id": endpoint["id"]}, headers=tenant.headers
    )
    assert refused.status_code == 409


def test_a_failed_test_event_is_reported_not_retried(client: TestClient, tenant: Tenant, settings: Settings) -> None:
    with running_receiver(lambda _r: Reply(status=500, body=b"x" * 5000)) as receiver:
        endpoint = _endpoint(client, tenant, receiver.url)
        tested = client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", headers=tenant.headers).json()
        assert (tested["outcome"], tested["response_status"], tested["next_attempt_at"]) == ("failed", 500, None)
        assert tested["response_excerpt"] == "x" * 1024
        assert drain(settings, clock=ManualClock(datetime.now().astimezone() + timedelta(days=1))) == 0
        assert len(receiver.requests) == 1


def test_deliveries_to_internal_addresses_are_refused_at_connect_time(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    from dataclasses import replace

    with running_receiver() as receiver:
        # Registered while loopback was allowed (or a public name that later resolves to an internal address):
        # the worker of a production server still refuses to connect.
        endpoint = _endpoint(client, tenant, receiver.url.replace("127.0.0.1", "localhost"))
        _person(client, tenant)
        assert drain(replace(settings, webhooks_allow_loopback=False)) == 1
        assert receiver.requests == []
    [attempt] = _attempts(client, tenant, endpoint["id"])
    assert (attempt["outcome"], attempt["error"], attempt["response_status"]) == ("failed", "address_not_allowed", None)


def test_unreachable_hosts_fail_cleanly(client: TestClient, tenant: Tenant, settings: Settings) -> None:
    endpoint = _endpoint(client, tenant, "https://no-such-host.og-records.invalid/hook")
    _person(client, tenant)
    assert drain(settings) == 1
    [attempt] = _attempts(client, tenant, endpoint["id"])
    assert (attempt["outcome"], attempt["error"]) == ("failed", "dns_failure")
