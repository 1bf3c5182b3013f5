"""Writing events: in the caller's transaction, so an event exists exactly when its change committed."""

from typing import Any

from sqlmodel import Session

from server.db.models.events import Event
from server.db.types import utcnow
from server.ids import new_id
from server.principal import Principal
from server.timefmt import rfc3339


def emit(
    session: Session,
    principal: Principal,
    event_type: str,
    resource: dict[str, Any],
    *,
    previous_attributes: dict[str, Any] | None = None,
) -> Event:
    now = utcnow()
    event_id = new_id("evt")
    data: dict[str, Any] = {"object": resource}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    event = Event(
        id=event_id,
        account_id=principal.account_id,
        environment=principal.environment,
        type=event_type,
        created_at=now,
        updated_at=now,
        payload={
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": rfc3339(now),
            "environment": principal.environment,
            "data": data,
        },
    )
    session.add(event)
    return event
