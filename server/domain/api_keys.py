"""API-key rules shown on the wire and in the dashboard: a key's status."""

from datetime import datetime, timedelta

from server.db.models.api_keys import ApiKey
from server.db.types import utcnow

EXPIRING_WITHIN = timedelta(days=7)


def status_of(key: ApiKey, now: datetime | None = None) -> str:
    """active | expiring | expired | revoked, as the API shows it."""
    now = now or utcnow()
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None:
        if now >= key.expires_at:
            return "expired"
        if key.expires_at - now < EXPIRING_WITHIN:
            return "expiring"
    return "active"
