"""Events: the pull side of webhooks (the last 30 days), and resending one."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response
from server.db.engine import session_scope
from server.db.types import utcnow
from server.openapi.fast_reads import read_only
from server.representations.events import represent
from server.representations.webhook_endpoints import represent_attempt
from server.services import event_log, webhook_deliveries


@read_only
def list_events(
    limit: int = 20,
    cursor: str | None = None,
    type: str | None = None,
    created_gte: str | None = None,
    created_lt: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = event_log.list_page(
            session,
            principal,
            limit=limit,
            cursor=cursor,
            event_type=type,
            created_gte=timestamp(created_gte),
            created_lt=timestamp(created_lt),
            moment=utcnow(),
        )
        return json_response(page.render(represent))


@read_only
def get_event(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(event_log.get(session, principal, id, moment=utcnow())))


def resend_event(id: str, body: dict[str, Any] | None = None) -> ConnexionResponse:
    principal = caller.current()
    endpoint_id = (body or {}).get("endpoint_id")
    moment = utcnow()
    with session_scope() as session:
        event = event_log.get(session, principal, id, moment=moment)
        endpoint = webhook_deliveries.find_endpoint(session, principal, endpoint_id) if endpoint_id else None
        attempts = webhook_deliveries.resend(session, principal, event, endpoint, moment)
        document = {
            "object": "event_resend",
            "event_id": event.id,
            "attempts": [represent_attempt(attempt) for attempt in attempts],
        }
    return json_response(document, 202)
