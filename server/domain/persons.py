"""Person rules: where a person's invitation to the dashboard stands, and the typed inputs of creating and changing
a person (the spec's `PersonCreate` and `PersonUpdate`)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self

from server.domain.inputs import ABSENT, Absent, fields_sent, metadata, sent


class InvitationStatus(StrEnum):
    """The spec's `Person.invitation_status`."""

    NOT_INVITED = "not_invited"
    PENDING = "pending"
    ACCEPTED = "accepted"
    FAILED = "failed"


class PersonRole(StrEnum):
    """The spec's `PersonRole`: a contribution to a recording (a person's roles, a split share's role)."""

    ARTIST = "artist"
    FEATURED_ARTIST = "featured_artist"
    PRODUCER = "producer"
    COMPOSER = "composer"
    LYRICIST = "lyricist"
    MIXER = "mixer"
    MASTERING_ENGINEER = "mastering_engineer"
    LABEL = "label"
    MANAGER = "manager"
    OTHER = "other"


class PersonLanguage(StrEnum):
    """The language of a person's invitation email and page (`PersonCreate.language`)."""

    EN = "en"
    DE = "de"


def _roles(value: Any) -> tuple[PersonRole, ...]:
    return tuple(PersonRole(role) for role in value or ())


@dataclass(frozen=True)
class PersonCreate:
    """A new payee or collaborator (`createPerson`)."""

    name: str
    email: str
    legal_name: str | None = None
    phone: str | None = None
    roles: tuple[PersonRole, ...] = ()
    language: PersonLanguage = PersonLanguage.EN
    invite: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            name=body["name"],
            email=body["email"],
            legal_name=body.get("legal_name"),
            phone=body.get("phone"),
            roles=_roles(body.get("roles")),
            language=PersonLanguage(body.get("language") or PersonLanguage.EN),
            invite=bool(body.get("invite", False)),
            metadata=metadata(body.get("metadata")),
        )


@dataclass(frozen=True)
class PersonUpdate:
    """The fields of a person to change (`updatePerson`); `ABSENT` keeps the value, `None` clears a nullable one."""

    name: str | Absent = ABSENT
    legal_name: str | Absent | None = ABSENT
    email: str | Absent = ABSENT
    phone: str | Absent | None = ABSENT
    roles: tuple[PersonRole, ...] | Absent = ABSENT
    language: PersonLanguage | Absent = ABSENT
    metadata: Mapping[str, str] | Absent = ABSENT

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            name=sent(body, "name", str),
            legal_name=sent(body, "legal_name", lambda value: value),
            email=sent(body, "email", str),
            phone=sent(body, "phone", lambda value: value),
            roles=sent(body, "roles", _roles),
            language=sent(body, "language", PersonLanguage),
            metadata=sent(body, "metadata", metadata),
        )

    @property
    def fields_set(self) -> frozenset[str]:
        return fields_sent(self)
