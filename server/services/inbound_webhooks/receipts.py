"""Inbound receipts: the stored record of every accepted inbound event, and the dedupe point.

The unique (provider, external_id) makes a retried, duplicated or replayed delivery a no-op: `seen` answers the
common case without writing; the unique key settles the race between two concurrent deliveries of one event.
"""

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.db.models.inbound import InboundWebhookReceipt
from server.db.types import utcnow


def seen(session: Session, provider: str, external_id: str) -> bool:
    return (
        session.exec(
            select(InboundWebhookReceipt.id).where(
                col(InboundWebhookReceipt.provider) == provider,
                col(InboundWebhookReceipt.external_id) == external_id[:255],
            )
        ).first()
        is not None
    )


def record(
    session: Session,
    provider: str,
    external_id: str,
    *,
    event_type: str | None,
    environment: str | None,
    payload: dict[str, Any],
    processed: bool,
) -> InboundWebhookReceipt:
    """Insert the receipt; the unique (provider, external_id) makes a concurrent duplicate fail on flush."""
    receipt = InboundWebhookReceipt(
        provider=provider,
        external_id=external_id[:255],
        event_type=(event_type or None) and event_type[:100],
        environment=environment,
        payload=payload,
        processed_at=utcnow() if processed else None,
    )
    session.add(receipt)
    session.flush()
    return receipt


def record_once(
    session: Session,
    provider: str,
    external_id: str,
    *,
    event_type: str | None,
    environment: str | None,
    payload: dict[str, Any],
    processed: bool,
) -> InboundWebhookReceipt | None:
    """`record` in a savepoint of a transaction that has written already (the sandbox's simulated partner): None
    when a concurrent delivery of the same event inserted it first. Only the receipt's own insert is caught."""
    try:
        with session.begin_nested():
            return record(
                session,
                provider,
                external_id,
                event_type=event_type,
                environment=environment,
                payload=payload,
                processed=processed,
            )
    except IntegrityError:
        return None
