"""Persons: payees and collaborators who receive split shares and are credited on tracks."""

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field

from server.db.models.base import TenantOwned, tenant_list_index
from server.db.types import UTCDateTime


class Person(TenantOwned, table=True):
    __tablename__ = "persons"
    __table_args__ = (tenant_list_index("persons"),)

    id: str = Field(primary_key=True, max_length=40)  # per_…
    name: str = Field(max_length=200)  # display (artist or company) name
    legal_name: str | None = Field(default=None, max_length=200)  # needed for composer/lyricist credits
    # Indexed, not unique: Mailgun bounces arrive by recipient address and mark every person using it.
    email: str = Field(max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=16, index=True)  # E.164; WhatsApp messages match on it
    roles: list[str] = Field(default_factory=list, sa_type=JSON)  # PersonRole values

    # The language of the emails and pages the person gets: de | en.
    language: str = Field(default="en", max_length=2)

    # not_invited | pending | accepted | failed
    invitation_status: str = Field(default="not_invited", max_length=12)
    # SHA-256 of the token in the invitation link; the token itself is only ever in the email. Kept after the link
    # was used (`invitation_used_at`), so a reused link gets "already used" rather than "unknown"; a resend
    # replaces it, which makes every earlier link unknown.
    invitation_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    invited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invitation_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invitation_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invitation_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why the invitation failed (a bounce's or the mail provider's words), shown to the account in getPerson.
    invitation_failure_reason: str | None = Field(default=None, max_length=500)
    # Set by a Mailgun failed/complained/unsubscribed event; no further email is sent until the address
    # changes.
    email_undeliverable: bool = Field(default=False)

    # Where the payee's money goes, given on the invitation page in production (sandbox never asks). The IBAN is
    # encrypted (server.encryption, purpose "person-payout-iban"): a payout needs it back in plaintext.
    payout_account_holder: str | None = Field(default=None, max_length=200)
    payout_iban_encrypted: str | None = Field(default=None, max_length=255)

    meta: dict[str, str] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"})
