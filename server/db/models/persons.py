"""Persons: payees and collaborators who receive split shares and are credited on tracks."""

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field

from server.db.models.base import TenantOwned
from server.db.types import UTCDateTime


class Person(TenantOwned, table=True):
    __tablename__ = "persons"

    id: str = Field(primary_key=True, max_length=40)  # per_…
    name: str = Field(max_length=200)  # display (artist or company) name
    legal_name: str | None = Field(default=None, max_length=200)  # needed for composer/lyricist credits
    # Indexed, not unique: Mailgun bounces arrive by recipient address and mark every person using it.
    email: str = Field(max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=16, index=True)  # E.164; WhatsApp messages match on it
    roles: list[str] = Field(default_factory=list, sa_type=JSON)  # PersonRole values

    # not_invited | pending | accepted | failed
    invitation_status: str = Field(default="not_invited", max_length=12)
    # SHA-256 of the token in the invitation link; the token itself is only ever in the email.
    invitation_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    invited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invitation_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set by a Mailgun failed/complained/unsubscribed event; no further email is sent until the address
    # changes.
    email_undeliverable: bool = Field(default=False)

    meta: dict[str, str] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"})
