"""Persons: payees and collaborators."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response, no_content
from server.db.engine import session_scope
from server.db.models.persons import Person
from server.openapi.fast_reads import read_only
from server.services import events, invitations, persons
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


def create_person(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        person = persons.create(session, principal, body)
        document = represent(person)
        events.emit(session, principal, "person.created", document)
    return json_response(document, 201)


def list_persons(
    limit: int = 20, cursor: str | None = None, created_gte: str | None = None, created_lt: str | None = None
) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = persons.list_page(
            session,
            principal,
            limit=limit,
            cursor=cursor,
            created_gte=timestamp(created_gte),
            created_lt=timestamp(created_lt),
        )
        return json_response(page.render(represent))


@read_only
def get_person(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(persons.get(session, principal, id)))


def invite_person(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        person = invitations.resend(session, principal, id)
        return json_response(represent(person))


def update_person(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(persons.update(session, principal, id, body)))


def delete_person(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        persons.delete(session, principal, id)
    return no_content()
