"""Writing events: in the caller's transaction, so an event (and its webhook deliveries) exists exactly when its
change committed."""

from typing import Any

from sqlmodel import Session

from server.db.models.events import Event
from server.db.types import utcnow
from server.ids import new_id
from server.principal import Principal
from server.services import webhook_deliveries
from server.timefmt import rfc3339


def emit(
    session: Session,
    principal: Principal,
    event_type: str,
    resource: dict[str, Any],
    *,
    previous_attributes: dict[str, Any] | None = None,
) -> Event:
    return emit_for(
        session,
        principal.account_id,
        principal.environment,
        event_type,
        resource,
        previous_attributes=previous_attributes,
    )


def emit_for(
    session: Session,
    account_id: str,
    environment: str,
    event_type: str,
    resource: dict[str, Any],
    *,
    previous_attributes: dict[str, Any] | None = None,
    extra_data: dict[str, Any] | None = None,
) -> Event:
    """`emit` for changes no request made (the delivery worker disabling an endpoint)."""
    now = utcnow()
    event_id = new_id("evt")
    data: dict[str, Any] = {"object": resource}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    data.update(extra_data or {})
    event = Event(
        id=event_id,
        account_id=account_id,
        environment=environment,
        type=event_type,
        created_at=now,
        updated_at=now,
        payload={
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": rfc3339(now),
            "environment": environment,
            "data": data,
        },
    )
    session.add(event)
    # Same transaction: the deliveries exist exactly when the event (and so the change) committed.
    webhook_deliveries.fan_out(session, event)
    return event
