"""The API key object (never its secret: that is shown once, by the operation that issues it)."""

from typing import Any

from server.db.models.api_keys import ApiKey
from server.domain.api_keys import status_of
from server.timefmt import rfc3339, rfc3339_or_none


def represent(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "object": "api_key",
        "environment": key.environment,
        "name": key.name,
        "prefix": key.prefix,
        "last_four": key.last4,
        "scopes": list(key.scopes),
        "status": status_of(key),
        "expires_at": rfc3339_or_none(key.expires_at),
        "previous_secret_expires_at": rfc3339_or_none(key.previous_expires_at),
        "last_used_at": rfc3339_or_none(key.last_used_at),
        "revoked_at": rfc3339_or_none(key.revoked_at),
        "created_at": rfc3339(key.created_at),
        "updated_at": rfc3339(key.updated_at),
    }
