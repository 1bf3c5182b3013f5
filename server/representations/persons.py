"""The person object (payees and collaborators)."""

from typing import Any

from server.db.models.persons import Person
from server.timefmt import rfc3339


def represent(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "object": "person",
        "environment": person.environment,
        "name": person.name,
        "legal_name": person.legal_name,
        "email": person.email,
        "phone": person.phone,
        "roles": list(person.roles),
        "language": person.language,
        "invitation_status": person.invitation_status,
        "invited_at": rfc3339(person.invited_at) if person.invited_at else None,
        "invitation_expires_at": rfc3339(person.invitation_expires_at) if person.invitation_expires_at else None,
        "invitation_failure_reason": person.invitation_failure_reason if person.invitation_status == "failed" else None,
        "metadata": dict(person.meta),
        "created_at": rfc3339(person.created_at),
        "updated_at": rfc3339(person.updated_at),
    }
