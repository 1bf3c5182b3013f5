"""Persons: payees and collaborators."""

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.db.models.persons import Person
from server.db.types import utcnow
from server.domain.errors import not_found
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate, tenant_list
from server.principal import Principal
from server.representations.persons import represent
from server.services import events


def create(session: Session, principal: Principal, fields: dict[str, Any]) -> Person:
    person = Person(
        id=new_id("per"),
        account_id=principal.account_id,
        environment=principal.environment,
        name=fields["name"],
        legal_name=fields.get("legal_name"),
        email=fields["email"],
        phone=fields.get("phone"),
        roles=list(fields.get("roles", [])),
        language=fields.get("language") or "en",
        invitation_status="not_invited",
        meta=dict(fields.get("metadata") or {}),
    )
    session.add(person)
    session.flush()
    if fields.get("invite", False):
        # Imported here: invitations builds on this module (persons.get).
        from server.services import invitations  # noqa: PLC0415

        invitations.issue(session, person)
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
    where, filters = tenant_list(Person, principal, created_gte=created_gte, created_lt=created_lt)
    return paginate(session, Person, where=where, list_name="persons", filters=filters, limit=limit, cursor=cursor)


def mark_email_undeliverable(session: Session, email: str, reason: str | None = None) -> list[Person]:
    """A permanent bounce, complaint or unsubscribe for `email`: every person using the address (in any account:
    the address is what bounced) gets no further email, and a pending invitation fails. Returns the persons whose
    invitation failed just now (they get `person.invitation_failed`)."""
    failed: list[Person] = []
    people = session.exec(select(Person).where(func.lower(col(Person.email)) == email.strip().lower())).all()
    for person in people:
        person.email_undeliverable = True
        if person.invitation_status == "pending":
            person.invitation_status = "failed"
            person.invitation_failure_reason = (reason or "The email address bounced or refused our email.")[:500]
            failed.append(person)
        person.updated_at = utcnow()
        session.add(person)
    session.flush()
    return failed


def fail_invitation(session: Session, person: Person) -> None:
    """One person's invitation email bounced permanently (what `mark_email_undeliverable` does for every person with
    the address; the sandbox's trigger bounces just the one it was asked for)."""
    person.email_undeliverable = True
    person.invitation_status = "failed"
    person.updated_at = utcnow()
    session.add(person)
    session.flush()


def find_by_phone(session: Session, phone: str) -> list[Person]:
    """Persons with this phone number; WhatsApp sends digits only, persons store E.164 (`+` and digits)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not digits:
        return []
    return list(session.exec(select(Person).where(col(Person.phone) == f"+{digits}")).all())


def create_and_announce(session: Session, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """`person.created` (after the invitation, if one was asked for); returns the person as the API shows it."""
    document = represent(create(session, principal, fields))
    events.emit(session, principal, "person.created", document)
    return document
