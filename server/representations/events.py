"""The event object: stored as it was sent."""

from typing import Any

from server.db.models.events import Event


def represent(event: Event) -> dict[str, Any]:
    return dict(event.payload)
