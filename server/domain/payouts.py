"""Payout rules shared by the payout service and the balance: payout statuses, whether an account may request
payouts, and the typed input of a payout request (the spec's `PayoutRequest`)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Self

from server.db.models.accounts import Account
from server.domain.errors import FieldError, validation_failed
from server.domain.inputs import metadata


class PayoutStatus(StrEnum):
    """The spec's `Payout.status`."""

    REQUESTED = "requested"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"
    RETURNED = "returned"
    CANCELLED = "cancelled"


def blocking_state(account: Account, environment: str) -> str | None:
    """Why payouts cannot be requested (None: they can). Sandbox never asks for KYC or bank details."""
    if environment == "sandbox":
        return None
    if not account.payee_verified:
        return "verification_required"
    if not (account.payout_account_holder and account.payout_iban_encrypted):
        return "payout_details_missing"
    return None


@dataclass(frozen=True)
class PayoutRequest:
    """A payout request (`requestPayout`): `amount` None pays out the whole available balance. Exact decimal, never
    a float; the service checks it is positive, has at most the currency's minor-unit decimals and is covered."""

    currency: str
    amount: Decimal | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            currency=body["currency"],
            amount=None if body.get("amount") is None else _decimal(str(body["amount"])),
            metadata=metadata(body.get("metadata")),
        )


def _decimal(raw: str) -> Decimal:
    """The spec's `DecimalAmount` string as a `Decimal` (its pattern admits only numbers; anything else is refused
    as the service refuses an amount it cannot pay)."""
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise validation_failed(
            [FieldError("invalid_amount", "/amount", f"{raw!r} is not a decimal amount.")]
        ) from None
