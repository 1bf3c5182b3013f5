"""Scheduling deliveries: the fan-out of new events, resends, range recovery, and the attempt log.

Sending is the worker's job (server.webhooks.worker); this module only writes what is due, in the caller's
transaction.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, update
from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from server import clock
from server.db.models.events import Event
from server.db.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from server.domain.errors import DomainError, FieldError, invalid_state
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate
from server.principal import Principal
from server.webhooks import wakeup

RETENTION = timedelta(days=30)
TEST_EVENT = "webhook.test"  # never fanned out: it goes only to the endpoint it is sent to


def fan_out(session: Session, event: Event) -> int:
    """One due delivery per enabled endpoint of the event's tenant that subscribes to its type."""
    if event.type == TEST_EVENT:
        return 0
    endpoints = session.exec(
        select(WebhookEndpoint).where(
            col(WebhookEndpoint.account_id) == event.account_id,
            col(WebhookEndpoint.environment) == event.environment,
            col(WebhookEndpoint.status) == "enabled",
        )
    ).all()
    count = 0
    # Due now in real time: a sandbox event carries its account's test-clock time in `created_at`, but the delivery
    # worker schedules in real time (the same instant in production).
    due = clock.real_now()
    for endpoint in endpoints:
        if "*" in endpoint.enabled_events or event.type in endpoint.enabled_events:
            session.add(
                WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id, next_attempt_at=due, status="pending")
            )
            count += 1
    if count:
        _wake_worker_after_commit(session)
    return count


def drop_pending(session: Session, endpoint_id: str, moment: datetime) -> None:
    """Cancel everything still scheduled for an endpoint (it was disabled)."""
    session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.endpoint_id) == endpoint_id, col(WebhookDelivery.next_attempt_at).is_not(None))
        .values(next_attempt_at=None, status="dead", updated_at=moment)
    )
    session.execute(
        update(WebhookAttempt)
        .where(col(WebhookAttempt.endpoint_id) == endpoint_id, col(WebhookAttempt.outcome) == "pending")
        .values(outcome="failed", error="endpoint_disabled", next_attempt_at=None, updated_at=moment)
    )


def schedule(
    session: Session, event: Event, endpoint: WebhookEndpoint, *, trigger: str, moment: datetime
) -> WebhookAttempt:
    """A new attempt (resend, recovery) of an event to an endpoint, due now, written as `pending`."""
    moment = min(moment, clock.real_now())  # the worker's real time (a sandbox request's `moment` may run ahead)
    delivery = session.exec(
        select(WebhookDelivery).where(
            col(WebhookDelivery.event_id) == event.id, col(WebhookDelivery.endpoint_id) == endpoint.id
        )
    ).first()
    if delivery is None:
        delivery = WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id, status="pending", next_attempt_at=moment)
        session.add(delivery)
        session.flush()
    assert delivery.id is not None
    # An earlier retry still scheduled later is brought forward: the new attempt replaces it.
    bring_forward(session, [delivery.id], moment)
    already_pending = len(
        session.exec(
            select(WebhookAttempt.id).where(
                col(WebhookAttempt.delivery_id) == delivery.id, col(WebhookAttempt.outcome) == "pending"
            )
        ).all()
    )
    attempt = WebhookAttempt(
        id=new_id("wa"),
        account_id=event.account_id,
        environment=event.environment,
        delivery_id=delivery.id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        event_type=event.type,
        attempt=delivery.attempt_count + already_pending + 1,  # renumbered when it is actually sent
        trigger=trigger,
        next_attempt_at=moment,
        created_at=moment,
        updated_at=moment,
    )
    session.add(attempt)
    _wake_worker_after_commit(session)
    return attempt


def resend(
    session: Session, principal: Principal, event: Event, endpoint: WebhookEndpoint | None, moment: datetime
) -> list[WebhookAttempt]:
    if endpoint is not None:
        if endpoint.status != "enabled":
            raise invalid_state("webhook_endpoint", endpoint.status, "The endpoint is disabled: enable it first.")
        targets = [endpoint]
    else:
        targets = [
            e
            for e in _enabled_endpoints(session, principal)
            if event.type != TEST_EVENT and ("*" in e.enabled_events or event.type in e.enabled_events)
        ]
    attempts = [schedule(session, event, target, trigger="resend", moment=moment) for target in targets]
    session.flush()
    return attempts


def recover(
    session: Session, endpoint: WebhookEndpoint, since: datetime, until: datetime | None, moment: datetime
) -> tuple[datetime, datetime, int]:
    """Schedule every subscribed event created in [since, until) again, oldest first.

    Returns the effective range (`since` no earlier than the retention allows) and the number of events. Written in
    bulk (a range can hold thousands of events), in one short transaction.
    """
    since, until = max(since, moment - RETENTION), until or moment
    if endpoint.status != "enabled":
        raise invalid_state("webhook_endpoint", endpoint.status, "The endpoint is disabled: enable it first.")
    in_range = [
        col(Event.account_id) == endpoint.account_id,
        col(Event.environment) == endpoint.environment,
        col(Event.created_at) >= since,
        col(Event.created_at) < until,
        col(Event.type) != TEST_EVENT,
    ]
    events = [
        event
        for event in session.exec(select(Event).where(*in_range).order_by(col(Event.id)))
        if "*" in endpoint.enabled_events or event.type in endpoint.enabled_events
    ]
    deliveries = {
        delivery.event_id: delivery
        for delivery in session.exec(
            select(WebhookDelivery)
            .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
            .where(col(WebhookDelivery.endpoint_id) == endpoint.id, *in_range)
        )
    }
    pending = dict(
        session.exec(
            select(WebhookAttempt.delivery_id, func.count())
            .where(col(WebhookAttempt.endpoint_id) == endpoint.id, col(WebhookAttempt.outcome) == "pending")
            .group_by(col(WebhookAttempt.delivery_id))
        ).all()
    )
    existing = [d.id for d in (deliveries.get(event.id) for event in events) if d is not None and d.id is not None]
    for event in events:
        if event.id not in deliveries:
            deliveries[event.id] = WebhookDelivery(
                event_id=event.id, endpoint_id=endpoint.id, status="pending", next_attempt_at=moment
            )
            session.add(deliveries[event.id])
    session.flush()
    bring_forward(session, existing, moment)
    for event in events:
        delivery = deliveries[event.id]
        assert delivery.id is not None
        session.add(
            WebhookAttempt(
                id=new_id("wa"),
                account_id=event.account_id,
                environment=event.environment,
                delivery_id=delivery.id,
                endpoint_id=endpoint.id,
                event_id=event.id,
                event_type=event.type,
                attempt=delivery.attempt_count + pending.get(delivery.id, 0) + 1,
                trigger="recovery",
                next_attempt_at=moment,
                created_at=moment,
                updated_at=moment,
            )
        )
    if events:
        _wake_worker_after_commit(session)
    session.flush()
    return since, until, len(events)


def bring_forward(session: Session, delivery_ids: list[int], moment: datetime) -> None:
    """Make deliveries due at `moment` (unless due earlier) and pending again, decided on each row as it is when
    written rather than as read earlier: a worker recording an attempt of the same delivery at this very moment may
    just have marked it done. (On PostgreSQL the UPDATE waits for that worker's row lock and then re-reads the row.)
    """
    due, status = col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.status)
    for start in range(0, len(delivery_ids), 500):  # bounded IN lists, however large a recovered range
        session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id).in_(delivery_ids[start : start + 500]))
            .values(
                next_attempt_at=case((or_(due.is_(None), due > moment), moment), else_=due),
                status=case((status.in_(("succeeded", "dead")), "pending"), else_=status),
                updated_at=moment,
            )
            .execution_options(synchronize_session=False)
        )


def list_attempts(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    limit: int,
    cursor: str | None,
    event_id: str | None,
    outcome: str | None,
    moment: datetime,
) -> Page[WebhookAttempt]:
    where = [
        col(WebhookAttempt.endpoint_id) == endpoint.id,
        col(WebhookAttempt.created_at) >= moment - RETENTION,
    ]
    if event_id is not None:
        where.append(col(WebhookAttempt.event_id) == event_id)
    if outcome is not None:
        where.append(col(WebhookAttempt.outcome) == outcome)
    filters = {"endpoint": endpoint.id, "event_id": event_id, "outcome": outcome}
    return paginate(
        session, WebhookAttempt, where=where, list_name="webhook_attempts", filters=filters, limit=limit, cursor=cursor
    )


def find_endpoint(session: Session, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id) if has_prefix(endpoint_id, "we") else None
    if endpoint is None or (endpoint.account_id, endpoint.environment) != (principal.account_id, principal.environment):
        raise DomainError(
            "not_found",
            f"No webhook endpoint with id {endpoint_id} exists.",
            errors=[FieldError("not_found", "/endpoint_id", "No such webhook endpoint.")],
        )
    return endpoint


def _enabled_endpoints(session: Session, principal: Principal) -> list[WebhookEndpoint]:
    return list(
        session.exec(
            select(WebhookEndpoint).where(
                col(WebhookEndpoint.account_id) == principal.account_id,
                col(WebhookEndpoint.environment) == principal.environment,
                col(WebhookEndpoint.status) == "enabled",
            )
        ).all()
    )


def _wake_worker_after_commit(session: Session) -> None:
    """Nudge this process's worker once the transaction commits, and on PostgreSQL every other process's."""
    if not session.info.get("webhooks_wake"):
        session.info["webhooks_wake"] = True
        sa_event.listen(session, "after_commit", _after_commit, once=True)
    wakeup.notify_in_transaction(session)  # and the workers of other processes (PostgreSQL)


def _after_commit(session: Session, *_args: Any) -> None:
    session.info.pop("webhooks_wake", None)
    wakeup.notify()
