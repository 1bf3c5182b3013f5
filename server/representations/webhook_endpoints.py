"""The webhook endpoint object and one delivery attempt of an event to it."""

from datetime import datetime
from typing import Any

from server.db.models.webhooks import WebhookAttempt, WebhookEndpoint
from server.db.types import utcnow
from server.domain.webhook_endpoints import previous_secret_active
from server.timefmt import rfc3339, rfc3339_or_none


def represent(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> dict[str, Any]:
    overlap = previous_secret_active(endpoint, now or utcnow())
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "environment": endpoint.environment,
        "url": endpoint.url,
        "enabled_events": list(endpoint.enabled_events),
        "description": endpoint.description,
        "status": endpoint.status,
        "disabled_reason": endpoint.disabled_reason,
        "previous_secret_expires_at": rfc3339_or_none(endpoint.previous_secret_expires_at) if overlap else None,
        "metadata": dict(endpoint.meta),
        "created_at": rfc3339(endpoint.created_at),
        "updated_at": rfc3339(endpoint.updated_at),
    }


def represent_attempt(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "object": "webhook_attempt",
        "environment": attempt.environment,
        "endpoint_id": attempt.endpoint_id,
        "event_id": attempt.event_id,
        "event_type": attempt.event_type,
        "attempt": attempt.attempt,
        "trigger": attempt.trigger,
        "started_at": rfc3339_or_none(attempt.started_at),
        "duration_ms": attempt.duration_ms,
        "response_status": attempt.response_status,
        "response_excerpt": attempt.response_excerpt,
        "error": attempt.error,
        "outcome": attempt.outcome,
        "next_attempt_at": rfc3339_or_none(attempt.next_attempt_at),
        "created_at": rfc3339(attempt.created_at),
    }
