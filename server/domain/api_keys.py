"""API-key rules shown on the wire and in the dashboard: a key's status."""

from datetime import datetime, timedelta
from enum import StrEnum

from server.db.models.api_keys import ApiKey
from server.db.types import utcnow

EXPIRING_WITHIN = timedelta(days=7)


class ApiKeyStatus(StrEnum):
    """The spec's `ApiKey.status`: derived from the key's dates, never stored."""

    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"


def status_of(key: ApiKey, now: datetime | None = None) -> ApiKeyStatus:
    """active | expiring | expired | revoked, as the API shows it."""
    now = now or utcnow()
    if key.revoked_at is not None:
        return ApiKeyStatus.REVOKED
    if key.expires_at is not None:
        if now >= key.expires_at:
            return ApiKeyStatus.EXPIRED
        if key.expires_at - now < EXPIRING_WITHIN:
            return ApiKeyStatus.EXPIRING
    return ApiKeyStatus.ACTIVE
