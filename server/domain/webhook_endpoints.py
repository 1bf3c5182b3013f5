"""Webhook-endpoint rules shown on the wire: whether a rotated-out signing secret still signs."""

from datetime import datetime

from server.db.models.webhooks import WebhookEndpoint


def previous_secret_active(endpoint: WebhookEndpoint, moment: datetime) -> bool:
    return (
        endpoint.previous_secret_ciphertext is not None
        and endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > moment
    )
