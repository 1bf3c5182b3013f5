"""Persons: payees and collaborators."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col

from server.db.models.persons import Person
from server.db.types import utcnow
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate
from server.principal import Principal
from server.problems import not_found


def create(session: Session, principal: Principal, fields: dict[str, Any]) -> Person:
    invite = bool(fields.get("invite", False))
    now = utcnow()
    person = Person(
        id=new_id("per"),
        account_id=principal.account_id,
        environment=principal.environment,
        name=fields["name"],
        legal_name=fields.get("legal_name"),
        email=fields["email"],
        phone=fields.get("phone"),
        roles=list(fields.get("roles", [])),
        invitation_status="pending" if invite else "not_invited",
        invited_at=now if invite else None,
        meta=dict(fields.get("metadata") or {}),
    )
    session.add(person)
    session.flush()
    return person


def get(session: Session, principal: Principal, person_id: str) -> Person:
    person = session.get(Person, person_id) if has_prefix(person_id, "per") else None
    # Another account's or environment's person is "not found": existence never leaks across tenants.
    if person is None or (person.account_id, person.environment) != (
        principal.account_id,
        principal.environment,
    ):
        raise not_found("person", person_id)
    return person


def list_page(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    created_gte: datetime | None,
    created_lt: datetime | None,
) -> Page[Person]:
    where = [col(Person.account_id) == principal.account_id, col(Person.environment) == principal.environment]
    if created_gte is not None:
        where.append(col(Person.created_at) >= created_gte)
    if created_lt is not None:
        where.append(col(Person.created_at) < created_lt)
    filters = {"created_gte": created_gte, "created_lt": created_lt, "env": principal.environment}
    return paginate(session, Person, where=where, list_name="persons", filters=filters, limit=limit, cursor=cursor)
