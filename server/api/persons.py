"""Persons: payees and collaborators."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response, no_content
from server.db.engine import read_scope, session_scope
from server.domain.persons import PersonCreate, PersonUpdate
from server.openapi.fast_reads import read_only
from server.representations.persons import represent
from server.services import invitations, persons


def create_person(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        document = persons.create_and_announce(session, principal, PersonCreate.from_body(body))
    return json_response(document, 201)


@read_only
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
    with read_scope() as session:
        return json_response(represent(persons.get(session, principal, id)))


def invite_person(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        person = invitations.resend(session, principal, id)
        return json_response(represent(person))


def update_person(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(persons.update(session, principal, id, PersonUpdate.from_body(body))))


def delete_person(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        persons.delete(session, principal, id)
    return no_content()
