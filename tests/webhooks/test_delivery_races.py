"""A resend or recovery scheduled while an attempt of the same delivery is in flight is delivered, whichever of the
two transactions (the API's scheduling, the worker's recording) reads or writes first."""

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from server.config import Settings
from server.db.engine import engine, session_scope
from server.db.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from server.db.types import utcnow
from server.services import webhook_deliveries
from server.webhooks import queue
from server.webhooks.sender import Outcome
from tests.conftest import Tenant
from tests.webhooks.conftest import drain
from tests.webhooks.receiver import Receiver, running_receiver


def _in_flight_resend(client: TestClient, tenant: Tenant, settings: Settings, event_id: str) -> queue.Job:
    """Resends the event and claims the resend as the worker does, leaving it in flight."""
    resent = client.post(f"/api/v1/events/{event_id}/resend", json={}, headers=tenant.headers)
    assert resent.status_code == 202, resent.text
    with session_scope() as session:
        [job] = queue.claim(
            session, now=utcnow(), limit=10, lease=timedelta(seconds=60), server_key=settings.secret_key
        )
    assert job.trigger == "resend"
    return job


def _answered(at: datetime) -> Outcome:
    return Outcome(started_at=at, duration_ms=3, status=200, excerpt="ok", error=None, retry_after=None)


def _setup(client: TestClient, tenant: Tenant, settings: Settings, receiver: Receiver) -> tuple[str, str, datetime]:
    since = utcnow() - timedelta(minutes=1)
    created = client.post(
        "/api/v1/webhook-endpoints", json={"url": receiver.url, "enabled_events": ["*"]}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    person = client.post("/api/v1/persons", json={"name": "Ada", "email": "ada@example.com"}, headers=tenant.headers)
    assert person.status_code == 201, person.text
    assert drain(settings) == 1
    return str(created.json()["id"]), receiver.requests[0].headers["webhook-id"], since


def _pending(endpoint_id: str) -> list[Any]:
    with session_scope() as session:
        return list(
            session.exec(
                select(WebhookAttempt.trigger).where(
                    col(WebhookAttempt.endpoint_id) == endpoint_id, col(WebhookAttempt.outcome) == "pending"
                )
            )
        )


def test_a_recovery_committed_while_the_worker_records_is_delivered(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    with running_receiver() as receiver:
        endpoint_id, event_id, since = _setup(client, tenant, settings, receiver)
        job = _in_flight_resend(client, tenant, settings, event_id)
        recovered: list[int] = []

        def recover_first(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            # The worker has read what it needs and is about to write its first row: the recovery commits now.
            if statement.lstrip().upper().startswith(("UPDATE", "INSERT")) and not recovered:
                recovered.append(0)
                response = client.post(
                    f"/api/v1/webhook-endpoints/{endpoint_id}/recover",
                    json={"since": since.isoformat()},
                    headers=tenant.headers,
                )
                recovered[0] = response.json()["event_count"]

        sa_event.listen(engine(), "before_cursor_execute", recover_first)
        try:
            with session_scope() as session:
                queue.record_batch(session, [(job, _answered(utcnow()))], now=utcnow())
        finally:
            sa_event.remove(engine(), "before_cursor_execute", recover_first)
        assert recovered == [1]
        assert _pending(endpoint_id) == ["recovery"]
        assert drain(settings) == 1, "the recovery attempt is due"
        assert _pending(endpoint_id) == []
        assert [r.headers["webhook-id"] for r in receiver.requests] == [event_id] * 2  # the resend was never sent


def test_a_recovery_that_read_the_delivery_before_the_worker_recorded_is_delivered(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    with running_receiver() as receiver:
        endpoint_id, event_id, since = _setup(client, tenant, settings, receiver)
        job = _in_flight_resend(client, tenant, settings, event_id)
        with Session(engine(), expire_on_commit=False) as recovering:
            # The recovery reads the delivery while the resend is in flight (still due, so nothing to bring forward)…
            stale = recovering.exec(select(WebhookDelivery).where(col(WebhookDelivery.event_id) == event_id)).one()
            assert stale.next_attempt_at is not None
            # …the worker records the resend (the delivery is done)…
            with session_scope() as session:
                queue.record_batch(session, [(job, _answered(utcnow()))], now=utcnow())
            # …and only then the recovery writes.
            endpoint = recovering.get(WebhookEndpoint, endpoint_id)
            assert endpoint is not None
            _, _, count = webhook_deliveries.recover(recovering, endpoint, since, None, utcnow())
            recovering.commit()
        assert count == 1
        assert _pending(endpoint_id) == ["recovery"]
        assert drain(settings) == 1, "the recovery attempt is due"
        assert _pending(endpoint_id) == []


def test_an_endpoint_deleted_while_its_deliveries_are_claimed_leaves_the_others_claimed(
    client: TestClient, tenant: Tenant, settings: Settings, monkeypatch: Any
) -> None:
    """Issue 23 #10: the worker's claim failed with StaleDataError ("expected to update 64 rows; 61 matched") when
    an endpoint was deleted (its deliveries with it) between reading the due deliveries and reserving them."""
    with running_receiver() as receiver:
        endpoint_ids = []
        for _ in range(3):
            created = client.post(
                "/api/v1/webhook-endpoints",
                json={"url": receiver.url, "enabled_events": ["person.created"]},
                headers=tenant.headers,
            )
            assert created.status_code == 201, created.text
            endpoint_ids.append(created.json()["id"])
    person = client.post("/api/v1/persons", json={"name": "Ada", "email": "ada@example.com"}, headers=tenant.headers)
    assert person.status_code == 201
    doomed = endpoint_ids[1]

    def delete_endpoint() -> None:
        with session_scope() as session:
            session.exec(delete(WebhookEndpoint).where(col(WebhookEndpoint.id) == doomed))  # type: ignore[call-overload]

    original, deleter = queue._job, threading.Thread(target=delete_endpoint)

    def job_after_a_concurrent_delete(*args: Any, **kwargs: Any) -> queue.Job:
        if deleter.ident is None:
            deleter.start()  # the API deletes the endpoint after the due rows were read, before they are reserved
            deleter.join(timeout=2)  # it commits at once, or waits for the worker's locks
        return original(*args, **kwargs)

    monkeypatch.setattr(queue, "_job", job_after_a_concurrent_delete)
    with session_scope() as session:
        jobs = queue.claim(session, now=utcnow(), limit=50, lease=timedelta(seconds=60), server_key=settings.secret_key)
    deleter.join(timeout=30)
    assert not deleter.is_alive()
    claimed = {job.endpoint_id for job in jobs} & set(endpoint_ids)
    assert claimed >= set(endpoint_ids) - {doomed}
    with session_scope() as session:
        deliveries = session.exec(
            select(WebhookDelivery).where(col(WebhookDelivery.endpoint_id).in_(endpoint_ids))
        ).all()
    assert sorted(d.endpoint_id for d in deliveries) == sorted(set(endpoint_ids) - {doomed})
    assert all(d.in_flight_until is not None for d in deliveries)


def test_an_endpoint_deleted_while_its_attempts_are_recorded_leaves_the_others_recorded_in_the_batch(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    """The batch reads its deliveries, then an endpoint is deleted (its deliveries cascading) before the batch
    writes: on PostgreSQL the write matched fewer rows than were read, or the new attempt's row referred to a
    delivery that was gone, and the whole batch failed (then recorded one by one). The batch must commit."""
    with running_receiver() as receiver:
        endpoint_ids = []
        for _ in range(2):
            created = client.post(
                "/api/v1/webhook-endpoints",
                json={"url": receiver.url, "enabled_events": ["person.created"]},
                headers=tenant.headers,
            )
            assert created.status_code == 201, created.text
            endpoint_ids.append(created.json()["id"])
    person = client.post("/api/v1/persons", json={"name": "Ada", "email": "ada@example.com"}, headers=tenant.headers)
    assert person.status_code == 201
    with session_scope() as session:
        jobs = queue.claim(session, now=utcnow(), limit=50, lease=timedelta(seconds=60), server_key=settings.secret_key)
    doomed, kept = endpoint_ids
    jobs = sorted((job for job in jobs if job.endpoint_id in endpoint_ids), key=lambda job: job.endpoint_id != doomed)
    assert [job.endpoint_id for job in jobs] == [doomed, kept]

    def delete_endpoint() -> None:
        response = client.delete(f"/api/v1/webhook-endpoints/{doomed}", headers=tenant.headers)
        assert response.status_code == 204, response.text

    deleter = threading.Thread(target=delete_endpoint)

    def delete_before_the_first_attempt_is_written(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The doomed delivery and its endpoint were read, its attempt is about to be written: the API deletes the
        # endpoint (its deliveries cascading) now, from another connection.
        if statement.lstrip().upper().startswith("INSERT INTO WEBHOOK_ATTEMPTS") and deleter.ident is None:
            deleter.start()
            deleter.join(timeout=2)  # it commits at once, or waits for the worker's locks

    now = utcnow()
    sa_event.listen(engine(), "before_cursor_execute", delete_before_the_first_attempt_is_written)
    try:
        with session_scope() as session:
            queue.record_batch(session, [(job, _answered(now)) for job in jobs], now=now)
    finally:
        sa_event.remove(engine(), "before_cursor_execute", delete_before_the_first_attempt_is_written)
    deleter.join(timeout=30)
    assert not deleter.is_alive()
    with session_scope() as session:
        deliveries = session.exec(
            select(WebhookDelivery).where(col(WebhookDelivery.endpoint_id).in_(endpoint_ids))
        ).all()
        attempts = session.exec(select(WebhookAttempt).where(col(WebhookAttempt.endpoint_id).in_(endpoint_ids))).all()
    assert [(d.endpoint_id, d.status, d.in_flight_until) for d in deliveries] == [(kept, "succeeded", None)]
    assert [(a.endpoint_id, a.outcome) for a in attempts] == [(kept, "succeeded")]
