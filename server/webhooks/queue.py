"""The delivery queue in the database: claiming due deliveries, and recording what an attempt did."""

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from server.db.models.events import Event
from server.db.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from server.ids import new_id
from server.representations.webhook_endpoints import represent
from server.services import events, notifications, webhook_endpoints
from server.services.webhook_deliveries import RETENTION
from server.webhooks.schedule import DISABLE_AFTER, next_delay
from server.webhooks.sender import Outcome


@dataclass(frozen=True)
class Job:
    """Everything one attempt needs, read at claim time so sending touches no database."""

    delivery_id: int
    attempt_number: int  # the delivery's attempt_count after the claim: also the claim's fencing token
    trigger: str
    pending_attempt_id: str | None  # a scheduled (resend, recovery, test) attempt this one fills in
    account_id: str
    environment: str
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    body: bytes
    secrets: tuple[str, ...]


def event_body(event: Event) -> bytes:
    return json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode()


def _job(
    event: Event,
    endpoint: WebhookEndpoint,
    *,
    delivery_id: int,
    attempt_number: int,
    trigger: str,
    pending_attempt_id: str | None,
    now: datetime,
    server_key: str,
) -> Job:
    """The job for one attempt of `event` to `endpoint`, with the secrets that sign it now."""
    return Job(
        delivery_id=delivery_id,
        attempt_number=attempt_number,
        trigger=trigger,
        pending_attempt_id=pending_attempt_id,
        account_id=event.account_id,
        environment=event.environment,
        event_id=event.id,
        event_type=event.type,
        endpoint_id=endpoint.id,
        url=endpoint.url,
        body=event_body(event),
        secrets=tuple(webhook_endpoints.active_secrets(endpoint, now, server_key)),
    )


def _write_lock_first(session: Session) -> None:
    """On SQLite, take the database's write lock before reading what will be written.

    A `SELECT … FOR UPDATE` locks nothing there, and pysqlite begins the transaction only at the first write: an
    endpoint deleted (its deliveries cascading) between the read and the write made the write match fewer rows
    than it read — StaleDataError, and the whole batch failed (issue 23 #10). A write as the first statement (it
    matches no row) makes a concurrent delete wait for this transaction instead. PostgreSQL's row locks already
    do this.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.exec(update(WebhookDelivery).where(col(WebhookDelivery.id) == "").values(status="pending"))


def claim(session: Session, *, now: datetime, limit: int, lease: timedelta, server_key: str) -> list[Job]:
    """Reserve up to `limit` due deliveries for this worker until `now + lease`, and commit the reservation.

    On PostgreSQL the due rows are locked with FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows
    without waiting for each other; the lease then keeps them out of reach while the request is in flight.
    """
    _write_lock_first(session)
    due = session.exec(
        select(WebhookDelivery)
        .where(
            col(WebhookDelivery.next_attempt_at) <= now,
            or_(col(WebhookDelivery.in_flight_until).is_(None), col(WebhookDelivery.in_flight_until) < now),
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        session.rollback()
        return []
    ids = [d.id for d in due]
    events_by_id = {e.id: e for e in session.exec(select(Event).where(col(Event.id).in_({d.event_id for d in due})))}
    endpoints_by_id = {
        e.id: e
        for e in session.exec(select(WebhookEndpoint).where(col(WebhookEndpoint.id).in_({d.endpoint_id for d in due})))
    }
    pending: dict[int, WebhookAttempt] = {}
    for attempt in session.exec(
        select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_(ids), col(WebhookAttempt.outcome) == "pending")
        .order_by(col(WebhookAttempt.id).desc())
    ):
        pending[attempt.delivery_id] = attempt  # descending, so the oldest pending attempt wins
    jobs = []
    for delivery in due:
        event, endpoint = events_by_id[delivery.event_id], endpoints_by_id[delivery.endpoint_id]
        assert delivery.id is not None
        if endpoint.status != "enabled" and delivery.id not in pending:
            delivery.next_attempt_at, delivery.status = None, "dead"
            session.add(delivery)
            continue
        delivery.attempt_count += 1
        delivery.in_flight_until = now + lease
        delivery.last_attempt_at = now
        session.add(delivery)
        scheduled = pending.get(delivery.id)
        trigger = scheduled.trigger if scheduled else ("automatic" if delivery.attempt_count == 1 else "retry")
        jobs.append(
            _job(
                event,
                endpoint,
                delivery_id=delivery.id,
                attempt_number=delivery.attempt_count,
                trigger=trigger,
                pending_attempt_id=scheduled.id if scheduled else None,
                now=now,
                server_key=server_key,
            )
        )
    session.commit()
    return jobs


def record_batch(
    session: Session, results: list[tuple[Job, Outcome]], *, now: datetime, rng: random.Random | None = None
) -> None:
    """`record` for a batch, with the rows it reads loaded in a few queries instead of a few per result."""
    _write_lock_first(session)
    _read_for_recording(session, [job for job, _ in results])
    pending = session.exec(select(WebhookAttempt).where(col(WebhookAttempt.id).in_(_pending_ids(results)))).all()
    session.info.setdefault("held", []).extend(pending)
    for job, outcome in results:
        record(session, job, outcome, now=now, rng=rng, check_scheduled=False)
    _keep_scheduled_due(session, results, now)


def _read_for_recording(session: Session, jobs: list[Job]) -> None:
    """Read the jobs' endpoints and deliveries; keep them, and the events, from being deleted until the commit.

    On PostgreSQL the rows are read FOR KEY SHARE: an endpoint deleted (or an event purged) between this read and
    the write would otherwise take its deliveries with it, and the write would match fewer rows than were read or
    insert an attempt whose delivery is gone — the whole batch failed. The delete now waits for this transaction
    (which records nothing for the rows it then removes), or committed before and the rows are not found here
    (`record` skips them). KEY SHARE blocks only deletes and key changes: a resend or recovery committing
    meanwhile (it updates the delivery, inserts an attempt) does not wait for the worker. Parents first, in the
    order a delete's cascade takes them, so the two never wait for each other. SQLite has no row locks: there
    `_write_lock_first` keeps deletes out.

    The rows are held in `session.info` for the session's life: its identity map keeps a row only while something
    refers to it, and `record` then finds them there (`session.get`) instead of reading each one again.
    """
    event_ids = sorted({job.event_id for job in jobs})
    endpoint_ids = sorted({job.endpoint_id for job in jobs})
    delivery_ids = sorted({job.delivery_id for job in jobs})
    # The events are only locked (their payloads are not needed).
    session.exec(
        select(Event.id)
        .where(col(Event.id).in_(event_ids))
        .order_by(col(Event.id))
        .with_for_update(read=True, key_share=True)
    ).all()
    rows: list[WebhookEndpoint | WebhookDelivery] = []
    rows += session.exec(
        select(WebhookEndpoint)
        .where(col(WebhookEndpoint.id).in_(endpoint_ids))
        .order_by(col(WebhookEndpoint.id))
        .with_for_update(read=True, key_share=True)
    ).all()
    rows += session.exec(
        select(WebhookDelivery)
        .where(col(WebhookDelivery.id).in_(delivery_ids))
        .order_by(col(WebhookDelivery.id))
        .with_for_update(read=True, key_share=True)
    ).all()
    session.info.setdefault("held", []).extend(rows)


def _pending_ids(results: list[tuple[Job, Outcome]]) -> list[str]:
    return [job.pending_attempt_id for job, _ in results if job.pending_attempt_id]


def _keep_scheduled_due(session: Session, results: list[tuple[Job, Outcome]], now: datetime) -> None:
    """A resend or recovery scheduled while these attempts were in flight stays due.

    Asked only after the deliveries were written: the write holds the database's write lock (SQLite) or the
    deliveries' row locks (PostgreSQL), so a scheduling transaction either committed before (and is seen here) or
    writes after (and brings the delivery forward itself, `webhook_deliveries.bring_forward`). Asked before the
    write, one committing in between was lost and its attempt stayed pending forever.
    """
    session.flush()
    scheduled = set(
        session.exec(
            select(WebhookAttempt.delivery_id).where(
                col(WebhookAttempt.delivery_id).in_([job.delivery_id for job, _ in results]),
                col(WebhookAttempt.outcome) == "pending",
            )
        )
    )
    for job, _ in results:
        delivery = session.get(WebhookDelivery, job.delivery_id)
        endpoint = session.get(WebhookEndpoint, job.endpoint_id)
        if delivery is None or endpoint is None or delivery.attempt_count != job.attempt_number:
            continue  # deleted, or claimed again by another worker that now owns the schedule
        if job.delivery_id in scheduled and endpoint.status == "enabled":
            delivery.next_attempt_at = now
            session.add(delivery)
    session.flush()


def record(
    session: Session,
    job: Job,
    outcome: Outcome,
    *,
    now: datetime,
    rng: random.Random | None = None,
    check_scheduled: bool = True,
) -> None:
    """Write the attempt to the log and decide what happens next: done, a retry, or disabling the endpoint.

    Flushes, and leaves the commit to the caller (the worker records a whole batch in one transaction).
    `check_scheduled=False` leaves keeping newly scheduled attempts due to the caller (`record_batch` does it once).
    """
    if check_scheduled:  # on its own (in a batch, record_batch locked and read already)
        _write_lock_first(session)
        _read_for_recording(session, [job])
    delivery = session.get(WebhookDelivery, job.delivery_id)
    endpoint = session.get(WebhookEndpoint, job.endpoint_id)
    if delivery is None or endpoint is None:
        return  # the endpoint was deleted while the request was in flight: its log went with it
    attempt = session.get(WebhookAttempt, job.pending_attempt_id) if job.pending_attempt_id else None
    if attempt is None:
        attempt = WebhookAttempt(
            id=new_id("wa"),
            account_id=job.account_id,
            environment=job.environment,
            delivery_id=job.delivery_id,
            endpoint_id=job.endpoint_id,
            event_id=job.event_id,
            event_type=job.event_type,
            attempt=job.attempt_number,
            trigger=job.trigger,
            created_at=outcome.started_at,
        )
    attempt.attempt = job.attempt_number
    attempt.started_at = outcome.started_at
    attempt.duration_ms = outcome.duration_ms
    attempt.response_status = outcome.status
    attempt.response_excerpt = outcome.excerpt
    attempt.error = outcome.error
    attempt.outcome = "succeeded" if outcome.succeeded else "failed"
    attempt.next_attempt_at = None
    attempt.updated_at = now
    session.add(attempt)

    if delivery.attempt_count != job.attempt_number:
        # Our lease ran out and another worker claimed the delivery since: it owns the schedule now.
        session.flush()
        return
    delivery.in_flight_until = None
    delivery.updated_at = now
    if job.trigger == "test":
        # A test is sent once, never retried, and says nothing about the endpoint's health.
        delivery.status, delivery.next_attempt_at = ("succeeded" if outcome.succeeded else "dead"), None
    elif outcome.succeeded:
        delivery.status, delivery.next_attempt_at = "succeeded", None
        endpoint.failing_since = None
    elif endpoint.status != "enabled":
        # Disabled while this attempt was in flight (by hand, or by another attempt's result): nothing is retried
        # and the endpoint is not disabled, or announced, twice.
        delivery.status, delivery.next_attempt_at = "dead", None
    elif outcome.status == 410:
        delivery.status, delivery.next_attempt_at = "dead", None
        _disable(session, endpoint, "gone", now)
    else:
        delay = next_delay(job.attempt_number, outcome.retry_after, rng)
        delivery.status = "failed" if delay is not None else "dead"
        delivery.next_attempt_at = now + delay if delay is not None else None
        attempt.next_attempt_at = delivery.next_attempt_at
        if endpoint.failing_since is None:
            endpoint.failing_since = outcome.started_at
        elif now - endpoint.failing_since >= DISABLE_AFTER:
            _disable(session, endpoint, "failing", now)
            delivery.status, delivery.next_attempt_at, attempt.next_attempt_at = "dead", None, None
    session.add(delivery)
    session.add(endpoint)
    if check_scheduled:
        _keep_scheduled_due(session, [(job, outcome)], now)
    session.flush()


def _disable(session: Session, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    webhook_endpoints.disable(session, endpoint, reason=reason, moment=now)
    session.flush()
    events.emit_for(
        session,
        endpoint.account_id,
        endpoint.environment,
        "endpoint.disabled",
        represent(endpoint, now=now),
        extra_data={"reason": reason},
    )
    # …and the owner learns it by email too (the outbox: sent after this transaction commits).
    notifications.endpoint_disabled(session, endpoint, reason)


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete events past the 30-day retention; their deliveries and attempts go with them."""
    result = session.execute(delete(Event).where(col(Event.created_at) < now - RETENTION))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def test_job(session: Session, endpoint: WebhookEndpoint, event: Event, *, now: datetime, server_key: str) -> Job:
    """A `webhook.test` delivery to one endpoint, claimed at once by the request that sends it (no worker)."""
    delivery = WebhookDelivery(
        event_id=event.id, endpoint_id=endpoint.id, status="pending", attempt_count=1, last_attempt_at=now
    )
    session.add(delivery)
    session.flush()
    assert delivery.id is not None
    attempt = WebhookAttempt(
        id=new_id("wa"),
        account_id=event.account_id,
        environment=event.environment,
        delivery_id=delivery.id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        event_type=event.type,
        attempt=1,
        trigger="test",
        created_at=now,
        updated_at=now,
    )
    session.add(attempt)
    return _job(
        event,
        endpoint,
        delivery_id=delivery.id,
        attempt_number=1,
        trigger="test",
        pending_attempt_id=attempt.id,
        now=now,
        server_key=server_key,
    )
