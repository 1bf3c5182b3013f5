"""A batch sends to many endpoints at once but never floods one: at most PER_ORIGIN requests in flight per origin."""

import threading
import time

from starlette.testclient import TestClient

from server.config import Settings
from server.webhooks.worker import PER_ORIGIN
from tests.conftest import Tenant
from tests.webhooks.conftest import drain
from tests.webhooks.receiver import Received, Reply, running_receiver


def test_one_origin_gets_at_most_per_origin_requests_at_once_and_more_than_one(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    lock = threading.Lock()
    in_flight = 0
    most = 0

    def slow(_request: Received) -> Reply:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.2)  # a slow receiver: requests pile up if the worker lets them
        with lock:
            in_flight -= 1
        return Reply()

    with running_receiver(slow) as receiver:
        body = {"url": receiver.url, "enabled_events": ["person.created"]}
        assert client.post("/api/v1/webhook-endpoints", json=body, headers=tenant.headers).status_code == 201
        for n in range(3 * PER_ORIGIN):
            person = {"name": f"Person {n}", "email": f"p{n}@example.com"}
            assert client.post("/api/v1/persons", json=person, headers=tenant.headers).status_code == 201
        assert drain(settings) == 3 * PER_ORIGIN
    assert len(receiver.requests) == 3 * PER_ORIGIN
    assert most <= PER_ORIGIN
    assert most > PER_ORIGIN // 2  # still many at once: a slow receiver does not serialise the batch
