"""Accounts (an artist or a label) and the users who log in to them."""

from datetime import date, datetime

from sqlmodel import Field

from server.db.models.base import Timestamps
from server.db.types import UTCDateTime


class Account(Timestamps, table=True):
    __tablename__ = "accounts"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    kind: str = Field(default="artist", max_length=12)  # artist | label
    plan: str = Field(default="free", max_length=12)  # free | business: sets the production rate limit
    production_access: bool = Field(default=False)  # early access is granted by an operator
    default_currency: str = Field(default="EUR", max_length=3)

    # Billing: Stripe events name the customer; the plan follows its subscription. `plan_changed_at` is the
    # Stripe `created` time of the last event applied, so a late, older event cannot undo a newer one.
    stripe_customer_id: str | None = Field(default=None, max_length=64, unique=True)
    plan_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    # Payouts in production need a verified payee (KYC, set by an operator) and bank details on file; sandbox
    # never asks. The Wise recipient account is created once from the details and reused.
    payee_verified: bool = Field(default=False)
    payout_account_holder: str | None = Field(default=None, max_length=200)
    # The payee's IBAN, encrypted (server.encryption, purpose "payout-iban"): Wise needs it back in plaintext.
    payout_iban_encrypted: str | None = Field(default=None, max_length=255)
    wise_recipient_id: str | None = Field(default=None, max_length=32)
    # Invitations also go out by WhatsApp (whapi.cloud) to persons with a phone number; the account opts in, since
    # WhatsApp's rules want the recipient's consent to a first message (set by an operator for now).
    whatsapp_notifications: bool = Field(default=False)

    # The sandbox test clock: how far the account's sandbox time runs ahead of real time (server.clock). Only
    # `POST /api/v1/sandbox/clock/advance` moves it, forward only; production never reads it.
    sandbox_clock_offset_seconds: int = Field(default=0)
    # The last sandbox day whose simulated sales were reported (server.sandbox.sales); None until the first.
    sandbox_sales_through: date | None = Field(default=None)
    # Set while a clock advance runs (real time it may hold the clock until, in case its process dies): a second
    # advance is refused meanwhile, and the scheduler leaves the account alone, so events stay in time order.
    sandbox_clock_advancing_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class User(Timestamps, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=40)
    email: str = Field(max_length=254, unique=True)
    password_hash: str = Field(max_length=200)  # argon2id
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None until the link is opened
