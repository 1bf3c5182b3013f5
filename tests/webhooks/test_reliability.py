"""The delivery guarantees under failure: real worker processes, killed or racing, against a local receiver."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server.config import Settings
from server.db.engine import session_scope
from server.db.models.webhooks import WebhookDelivery
from server.webhooks.clock import ManualClock
from tests.conftest import ROOT, Tenant
from tests.webhooks.conftest import drain
from tests.webhooks.receiver import Received, Reply, running_receiver


@contextmanager
def worker_process(settings: Settings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OG_")}
    env.update(
        OG_DATABASE_URL=settings.database_url,
        OG_DATA_DIR=str(settings.data_dir),
        OG_SECRET_KEY=settings.secret_key,
        OG_WEBHOOKS_ALLOW_LOOPBACK="1",
        OG_LOG_LEVEL="WARNING",
    )
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "worker"], env=env, cwd=ROOT, stdout=output, stderr=output
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _person(client: TestClient, tenant: Tenant, name: str) -> str:
    response = client.post("/api/v1/persons", json={"name": name, "email": "p@example.com"}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _endpoint(client: TestClient, tenant: Tenant, url: str) -> str:
    response = client.post(
        "/api/v1/webhook-endpoints", json={"url": url, "enabled_events": ["person.created"]}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_worker_killed_mid_delivery_loses_nothing(
    client: TestClient, tenant: Tenant, settings: Settings, tmp_path: Path
) -> None:
    release = threading.Event()

    def hang_first(request: Received) -> Reply:
        if len(receiver.requests) == 1:
            release.wait(timeout=30)  # the worker is killed while waiting for this answer
        return Reply()

    with running_receiver(hang_first) as receiver:
        endpoint_id = _endpoint(client, tenant, receiver.url)
        with worker_process(settings, tmp_path / "worker.log") as worker:
            _person(client, tenant, "Delivered despite SIGKILL")
            [first] = receiver.wait_for(1, timeout=90)  # a worker process starting on a busy machine
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        release.set()
        with session_scope() as session:
            [delivery] = session.exec(
                select(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id)
            ).all()
        assert delivery.status == "pending"
        assert delivery.in_flight_until is not None
        # Before the lease runs out nobody touches it; after it, any worker delivers it.
        assert drain(settings) == 0
        assert drain(settings, clock=ManualClock(delivery.in_flight_until + timedelta(seconds=1))) == 1
        second = receiver.requests[1]
    assert second.headers["webhook-id"] == first.headers["webhook-id"]
    attempts = client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/attempts", headers=tenant.headers).json()["data"]
    assert [(a["outcome"], a["attempt"]) for a in attempts] == [("succeeded", 2)]


def test_two_workers_on_postgresql_deliver_every_event_once_and_never_concurrently(
    client: TestClient, tenant: Tenant, settings: Settings, tmp_path: Path
) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL (SQLite runs one embedded worker)")
    count = 200
    with running_receiver(lambda _r: Reply(delay=0.005)) as receiver:
        endpoint_id = _endpoint(client, tenant, receiver.url)
        with (
            worker_process(settings, tmp_path / "worker-1.log") as one,
            worker_process(settings, tmp_path / "worker-2.log") as two,
        ):
            time.sleep(1)  # both are polling before the events arrive
            person_ids = {_person(client, tenant, f"Person {i}") for i in range(count)}
            received = receiver.wait_for(count, timeout=60)
            time.sleep(1)  # anything delivered twice would arrive now
            assert one.poll() is None, "worker 1 died"
            assert two.poll() is None, "worker 2 died"
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert len(received) >= count
    assert {b["data"]["object"]["id"] for b in bodies} == person_ids
    assert len(receiver.requests) == count, "an event was delivered twice"
    assert receiver.overlapping == []
    with session_scope() as session:
        deliveries = session.exec(select(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id)).all()
    assert {(d.status, d.attempt_count) for d in deliveries} == {("succeeded", 1)}
    logs = (tmp_path / "worker-1.log").read_text() + (tmp_path / "worker-2.log").read_text()
    assert "Traceback" not in logs
