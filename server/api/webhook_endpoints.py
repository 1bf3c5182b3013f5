"""Webhook endpoints: registration, secrets, the delivery log, tests and recovery."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response
from server.db.engine import session_scope
from server.db.types import utcnow
from server.openapi.fast_reads import read_only
from server.representations.webhook_endpoints import represent, represent_attempt
from server.request_context import request_id_var
from server.services import webhook_deliveries, webhook_endpoints
from server.timefmt import rfc3339
from server.webhooks import ping


def create_webhook_endpoint(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        endpoint, secret = webhook_endpoints.create(session, principal, body)
        document = {**represent(endpoint), "secret": secret}
    return json_response(document, 201)


@read_only
def list_webhook_endpoints(limit: int = 20, cursor: str | None = None, status: str | None = None) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = webhook_endpoints.list_page(session, principal, limit=limit, cursor=cursor, status=status)
        return json_response(page.render(represent))


@read_only
def get_webhook_endpoint(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(webhook_endpoints.get(session, principal, id)))


def update_webhook_endpoint(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(webhook_endpoints.update(session, principal, id, body)))


def delete_webhook_endpoint(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        webhook_endpoints.delete(session, principal, id)
    return ConnexionResponse(status_code=204, body=b"", headers={"X-Request-Id": request_id_var.get()})


def rotate_webhook_endpoint_secret(id: str, body: dict[str, Any] | None = None) -> ConnexionResponse:
    principal = caller.current()
    overlap = (body or {}).get("overlap_seconds", webhook_endpoints.DEFAULT_OVERLAP_SECONDS)
    with session_scope() as session:
        endpoint, secret = webhook_endpoints.rotate_secret(session, principal, id, overlap)
        document = {**represent(endpoint), "secret": secret}
    return json_response(document)


@read_only
def list_webhook_attempts(
    id: str,
    limit: int = 20,
    cursor: str | None = None,
    event_id: str | None = None,
    outcome: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        endpoint = webhook_endpoints.get(session, principal, id)
        page = webhook_deliveries.list_attempts(
            session, endpoint, limit=limit, cursor=cursor, event_id=event_id, outcome=outcome, moment=utcnow()
        )
        return json_response(page.render(represent_attempt))


def send_test_webhook(id: str) -> ConnexionResponse:
    attempt = ping.send_test(caller.current(), id)
    return json_response(represent_attempt(attempt))


def recover_webhook_events(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    requested_since = timestamp(body["since"])
    assert requested_since is not None
    with session_scope() as session:
        endpoint = webhook_endpoints.get(session, principal, id)
        since, until, count = webhook_deliveries.recover(
            session, endpoint, requested_since, timestamp(body.get("until")), utcnow()
        )
    document = {
        "object": "webhook_recovery",
        "endpoint_id": id,
        "since": rfc3339(since),
        "until": rfc3339(until),
        "event_count": count,
    }
    return json_response(document, 202)
