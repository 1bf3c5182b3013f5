"""Webhooks end to end through the SDK: an endpoint on a local receiver, real signed deliveries from the server verified
with `client.webhooks.unwrap`, secret rotation (both signatures during the overlap), the attempt log, test events,
resend and recovery, the event log, update and delete."""

import base64
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import standardwebhooks
from og_records import ConflictError, NotFoundError, OGRecords, WebhookVerificationError
from og_records.models import (
    EventEnvelope,
    EventResend,
    PersonCreate,
    WebhookAttempt,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
    WebhookRecovery,
    WebhookSecretRotation,
)


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 200 and keeps every request, as an integrator's endpoint would."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                with receiver._arrived:
                    receiver.deliveries.append(Delivery({k.lower(): v for k, v in self.headers.items()}, body))
                    receiver._arrived.notify_all()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/og-webhooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, message_id: str, count: int = 1, timeout: float = 20.0) -> list[Delivery]:
        """The deliveries of one event (`webhook-id` is the event id), once `count` of them have arrived."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [d for d in self.deliveries if d.message_id == message_id]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{len(found)} of {count} deliveries of {message_id} arrived"
                self._arrived.wait(remaining)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def endpoint(own_key_client: OGRecords, receiver: Receiver) -> Iterator[WebhookEndpointWithSecret]:
    created = own_key_client.webhook_endpoints.create(
        body=WebhookEndpointCreate(
            url=receiver.url, enabled_events=["person.created"], description=f"SDK suite {uuid.uuid4().hex[:6]}"
        )
    )
    yield created
    # The test deletes it itself; this covers a failure halfway, so no retries pile up against a closed port.
    with contextlib.suppress(NotFoundError):
        own_key_client.webhook_endpoints.delete(created.id)


def _new_person(client: OGRecords) -> str:
    unique = uuid.uuid4().hex[:10]
    return client.persons.create(body=PersonCreate(name=f"Hook {unique}", email=f"hook-{unique}@example.com")).id


def _event_of(client: OGRecords, person_id: str, since: datetime) -> EventEnvelope:
    """The `person.created` event of one person, found through the event log."""
    for event in client.events.list(type="person.created", created_gte=since, limit=2):
        if event.data.object.to_dict()["id"] == person_id:
            return event
    raise AssertionError(f"no person.created event for {person_id}")


def _settled_attempts(client: OGRecords, endpoint_id: str, count: int, timeout: float = 20.0) -> list[WebhookAttempt]:
    """Every attempt of the endpoint (walking pages of one), once `count` of them have an outcome."""
    deadline = time.monotonic() + timeout
    while True:
        attempts = list(client.webhook_endpoints.list_attempts(endpoint_id, limit=1))
        if len(attempts) >= count and all(attempt.outcome != "pending" for attempt in attempts):
            return attempts
        assert time.monotonic() < deadline, [(a.event_id, a.trigger, a.outcome) for a in attempts]
        time.sleep(0.2)


def test_deliveries_verify_through_rotation_resend_and_recovery(
    own_key_client: OGRecords, receiver: Receiver, endpoint: WebhookEndpointWithSecret
) -> None:
    client = own_key_client
    first_secret = endpoint.secret
    assert first_secret.startswith("whsec_")
    assert endpoint.status == "enabled"
    assert endpoint.url == receiver.url
    since = datetime.now(UTC) - timedelta(seconds=1)

    # An event the endpoint subscribes to arrives signed with its secret; unwrap verifies it and types it.
    person_id = _new_person(client)
    event = _event_of(client, person_id, since)
    assert event.id.startswith("evt_")
    (delivery,) = receiver.wait_for(event.id)
    unwrapped = client.webhooks.unwrap(delivery.body, delivery.headers, secret=first_secret)
    assert isinstance(unwrapped, EventEnvelope)
    assert (unwrapped.id, unwrapped.type) == (event.id, "person.created")
    assert unwrapped.data.object.to_dict()["id"] == person_id
    assert unwrapped.to_dict() == client.events.get(event.id).to_dict(), "the delivery is the logged event"
    assert standardwebhooks.Webhook(first_secret).verify(delivery.body, delivery.headers), "the reference agrees"
    with pytest.raises(WebhookVerificationError):
        client.webhooks.unwrap(
            delivery.body.replace(person_id.encode(), b"per_forged"), delivery.headers, secret=first_secret
        )
    other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(WebhookVerificationError):
        client.webhooks.unwrap(delivery.body, delivery.headers, secret=other)

    # Rotation with an overlap: deliveries carry a signature per secret, and either secret verifies them.
    rotated = client.webhook_endpoints.rotate_secret(endpoint.id, body=WebhookSecretRotation(overlap_seconds=3600))
    assert rotated.secret != first_secret
    assert rotated.previous_secret_expires_at is not None
    second_person = _new_person(client)
    second_event = _event_of(client, second_person, since)
    (during_overlap,) = receiver.wait_for(second_event.id)
    assert len(during_overlap.headers["webhook-signature"].split(" ")) == 2
    for secret in (first_secret, rotated.secret):
        assert client.webhooks.unwrap(during_overlap.body, during_overlap.headers, secret=secret).id == second_event.id
    verifying_client = OGRecords(api_key="og_test_unused", webhook_secret=rotated.secret)
    assert verifying_client.webhooks.unwrap(during_overlap.body, during_overlap.headers).id == second_event.id
    with pytest.raises(WebhookVerificationError):
        client.webhooks.unwrap(during_overlap.body, during_overlap.headers, secret=other)

    # The attempt log shows both deliveries and how the receiver answered.
    # The worker records an attempt's outcome just after the receiver answered: wait until both are recorded.
    attempts = _settled_attempts(client, endpoint.id, count=2)
    assert {attempt.event_id for attempt in attempts} == {event.id, second_event.id}
    assert all(isinstance(attempt, WebhookAttempt) for attempt in attempts)
    assert all((a.outcome, a.response_status, a.trigger) == ("succeeded", 200, "automatic") for a in attempts)
    (only_first,) = client.webhook_endpoints.list_attempts(endpoint.id, event_id=event.id).data
    assert only_first.event_id == event.id

    # A test event, delivered now; the answer is the attempt.
    tested = client.webhook_endpoints.send_test(endpoint.id)
    assert (tested.trigger, tested.event_type, tested.outcome, tested.response_status) == (
        "test",
        "webhook.test",
        "succeeded",
        200,
    )
    (test_delivery,) = receiver.wait_for(tested.event_id)
    assert (
        client.webhooks.unwrap(test_delivery.body, test_delivery.headers, secret=rotated.secret).type == "webhook.test"
    )

    # Resend: the same event (same webhook-id) once more, to this endpoint.
    resent = client.events.resend(event.id, body=EventResend(endpoint_id=endpoint.id))
    assert resent.event_id == event.id
    assert [(a.endpoint_id, a.trigger) for a in resent.attempts] == [(endpoint.id, "resend")]
    _, again = receiver.wait_for(event.id, count=2)
    assert client.webhooks.unwrap(again.body, again.headers, secret=rotated.secret).id == event.id

    # Recovery: every subscribed event of a time range, delivered again.
    recovered = client.webhook_endpoints.recover_events(endpoint.id, body=WebhookRecovery(since=since))
    assert (recovered.endpoint_id, recovered.event_count) == (endpoint.id, 2)
    receiver.wait_for(event.id, count=3)
    receiver.wait_for(second_event.id, count=2)
    triggers = [attempt.trigger for attempt in _settled_attempts(client, endpoint.id, count=6)]
    assert triggers.count("recovery") == 2
    assert triggers.count("resend") == 1

    # The event log lists the events newest first, filtered by type.
    logged = [e.id for e in client.events.list(type="person.created", created_gte=since)]
    assert logged.index(second_event.id) < logged.index(event.id)


def test_endpoints_are_listed_updated_disabled_and_deleted(
    own_key_client: OGRecords, endpoint: WebhookEndpointWithSecret
) -> None:
    client = own_key_client
    fetched = client.webhook_endpoints.get(endpoint.id)
    assert not hasattr(fetched, "secret"), "the secret is shown at creation only"
    assert (fetched.id, fetched.url, fetched.enabled_events) == (endpoint.id, endpoint.url, ["person.created"])
    assert endpoint.id in {listed.id for listed in client.webhook_endpoints.list(limit=1)}

    updated = client.webhook_endpoints.update(
        endpoint.id, body=WebhookEndpointUpdate(enabled_events=["*"], description="everything", status="disabled")
    )
    assert (updated.enabled_events, updated.description) == (["*"], "everything")
    assert (updated.status, updated.disabled_reason) == ("disabled", "manual")
    assert endpoint.id in {listed.id for listed in client.webhook_endpoints.list(status="disabled")}
    with pytest.raises(ConflictError) as refused:
        client.webhook_endpoints.recover_events(
            endpoint.id, body=WebhookRecovery(since=datetime.now(UTC) - timedelta(hours=1))
        )
    assert refused.value.code == "invalid_state"
    enabled = client.webhook_endpoints.update(endpoint.id, body=WebhookEndpointUpdate(status="enabled"))
    assert (enabled.status, enabled.disabled_reason) == ("enabled", None)

    deleted = client.webhook_endpoints.delete(endpoint.id)
    assert deleted.status_code == 204
    with pytest.raises(NotFoundError):
        client.webhook_endpoints.get(endpoint.id)
    with pytest.raises(NotFoundError):
        client.webhook_endpoints.delete(endpoint.id)
