"""Persons: payees and collaborators."""

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import update as sql_update
from sqlmodel import Session, col, select

from server.db.models.mail import OutboundMessage
from server.db.models.persons import Person
from server.db.models.splits import SplitShare
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.domain import release_rules
from server.domain.errors import DomainError, FieldError, not_found, validation_failed
from server.domain.inputs import ABSENT
from server.domain.persons import InvitationStatus, PersonCreate, PersonUpdate
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate, tenant_list
from server.principal import Principal
from server.representations.persons import represent
from server.services import events


def create(session: Session, principal: Principal, fields: PersonCreate) -> Person:
    person = Person(
        id=new_id("per"),
        account_id=principal.account_id,
        environment=principal.environment,
        name=fields.name,
        legal_name=fields.legal_name,
        email=fields.email,
        phone=fields.phone,
        roles=list(fields.roles),
        language=fields.language,
        invitation_status=InvitationStatus.NOT_INVITED,
        meta=dict(fields.metadata),
    )
    session.add(person)
    session.flush()
    if fields.invite:
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
        if person.invitation_status == InvitationStatus.PENDING:
            person.invitation_status = InvitationStatus.FAILED
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
    person.invitation_status = InvitationStatus.FAILED
    person.updated_at = utcnow()
    session.add(person)
    session.flush()


def find_by_phone(session: Session, phone: str) -> list[Person]:
    """Persons with this phone number; WhatsApp sends digits only, persons store E.164 (`+` and digits)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not digits:
        return []
    return list(session.exec(select(Person).where(col(Person.phone) == f"+{digits}")).all())


def update(session: Session, principal: Principal, person_id: str, fields: PersonUpdate) -> Person:
    """Changes the fields creation takes (except `invite`: send one with `invitePerson`). A new email address is
    mailed again (an earlier bounce no longer blocks it); an invitation already sent stays valid, and a new one goes
    to the new address only when asked for. Credits keep the name copied when they were written. Emits
    `person.updated` with the changed fields' previous values, or nothing when nothing changed."""
    person = get(session, principal, person_id)
    if fields.legal_name is not ABSENT and not fields.legal_name:
        _refuse_clearing_a_credited_legal_name(session, principal, person)
    before = represent(person)
    if fields.name is not ABSENT:
        person.name = fields.name
    if fields.legal_name is not ABSENT:
        person.legal_name = fields.legal_name
    if fields.email is not ABSENT:
        person.email = fields.email
        if fields.email.strip().lower() != str(before["email"]).strip().lower():
            person.email_undeliverable = False
    if fields.phone is not ABSENT:
        person.phone = fields.phone
    if fields.language is not ABSENT:
        person.language = fields.language
    if fields.roles is not ABSENT:
        person.roles = list(fields.roles)
    if fields.metadata is not ABSENT:
        person.meta = dict(fields.metadata)
    after = represent(person)
    previous = {key: value for key, value in before.items() if key != "updated_at" and after.get(key) != value}
    if not previous:
        return person
    person.updated_at = utcnow()
    session.add(person)
    session.flush()
    events.emit(session, principal, "person.updated", represent(person), previous_attributes=previous)
    return person


def _refuse_clearing_a_credited_legal_name(session: Session, principal: Principal, person: Person) -> None:
    """A composer or lyricist credit needs its person's legal name (stores publish it for the rights): clearing the
    legal name of someone credited so is refused when it is written, as the credit would be, not only at submit."""
    credited = sorted(
        track_id
        for track_id, credits in session.exec(
            select(Track.id, Track.credits).where(
                col(Track.account_id) == principal.account_id, col(Track.environment) == principal.environment
            )
        ).all()
        if any(
            credit.get("person_id") == person.id and credit.get("role") in release_rules.LEGAL_NAME_ROLES
            for credit in credits or []
        )
    )
    if credited:
        raise validation_failed(
            [
                FieldError(
                    "legal_name_missing",
                    "/legal_name",
                    f"{person.name} is credited as composer or lyricist on track {', '.join(credited[:5])}; "
                    "that credit needs the legal name.",
                )
            ]
        )


def delete(session: Session, principal: Principal, person_id: str) -> None:
    """Deletes a person who is in nothing that outlives them: refused with `409 person_in_use` while they hold a
    share in any split version (active or superseded: earnings are, or were, allocated to it) or are credited on
    a track (stores get the credit). Their queued messages lose the link to them. Emits `person.deleted` with the
    person as they were."""
    person = get(session, principal, person_id)
    splits = sorted(set(session.exec(select(SplitShare.split_id).where(col(SplitShare.person_id) == person.id)).all()))
    credited = sorted(
        track_id
        for track_id, credits in session.exec(
            select(Track.id, Track.credits).where(
                col(Track.account_id) == principal.account_id, col(Track.environment) == principal.environment
            )
        ).all()
        if any(credit.get("person_id") == person.id for credit in credits or [])
    )
    if splits or credited:
        uses = [f"a share in split {', '.join(splits[:5])}"] if splits else []
        uses += [f"a credit on track {', '.join(credited[:5])}"] if credited else []
        raise DomainError(
            "person_in_use",
            f"The person holds {' and '.join(uses)}; a payee or credited person cannot be deleted.",
            split_ids=splits,
            track_ids=credited,
        )
    document = represent(person)
    session.exec(sql_update(OutboundMessage).where(col(OutboundMessage.person_id) == person.id).values(person_id=None))
    session.delete(person)
    session.flush()
    events.emit(session, principal, "person.deleted", document)


def create_and_announce(session: Session, principal: Principal, fields: PersonCreate) -> dict[str, Any]:
    """`person.created` (after the invitation, if one was asked for); returns the person as the API shows it."""
    document = represent(create(session, principal, fields))
    events.emit(session, principal, "person.created", document)
    return document
