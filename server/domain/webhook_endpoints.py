"""Webhook-endpoint rules shown on the wire: endpoint and attempt statuses, whether a rotated-out signing secret
still signs."""

from datetime import datetime
from enum import StrEnum

from server.db.models.webhooks import WebhookEndpoint


class EndpointStatus(StrEnum):
    """The spec's `WebhookEndpoint.status`."""

    ENABLED = "enabled"
    DISABLED = "disabled"


class AttemptOutcome(StrEnum):
    """The spec's `WebhookAttempt.outcome`: one attempt to send an event."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"


class DeliveryState(StrEnum):
    """Where one event's delivery to one endpoint stands (internal: not on the wire). `pending` never tried,
    `failed` the last attempt failed and another is scheduled, `succeeded`, `dead` retries exhausted or the
    endpoint disabled."""

    PENDING = "pending"
    FAILED = "failed"
    SUCCEEDED = "succeeded"
    DEAD = "dead"


def previous_secret_active(endpoint: WebhookEndpoint, moment: datetime) -> bool:
    return (
        endpoint.previous_secret_ciphertext is not None
        and endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > moment
    )
