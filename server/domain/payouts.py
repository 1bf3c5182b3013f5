"""Payout rules shared by the payout service and the balance: payout statuses, whether an account may request
payouts."""

from enum import StrEnum

from server.db.models.accounts import Account


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
