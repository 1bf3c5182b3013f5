"""Wise, behind the small interface payouts need: one transfer per payout, made idempotent by its
`customerTransactionId`.

Two implementations: `SandboxWise` simulates the transfer lifecycle without any network (the sandbox environment
never moves money), `HttpWise` speaks Wise's REST API (quote → recipient account → transfer → fund from the
balance) at the configured base URL with a bearer API token.
"""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import httpx


class WiseError(Exception):
    """Wise refused or could not be reached. `permanent` when retrying the same call cannot succeed (4xx)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Recipient:
    account_holder: str
    iban: str
    wise_account_id: str | None = None  # reused when Wise knows the recipient already


@dataclass(frozen=True)
class Transfer:
    id: str  # Wise's transfer id
    fee: Decimal
    recipient_account_id: str
    state: str  # Wise's transfer state right after funding
    # The states the sandbox moves through at once, in order (a real transfer reports them by webhook).
    simulated_states: tuple[str, ...] = field(default=())


class WiseClient(Protocol):
    def create_transfer(
        self,
        *,
        customer_transaction_id: uuid.UUID,
        amount: Decimal,
        currency: str,
        recipient: Recipient,
        reference: str,
    ) -> Transfer: ...


# Sandbox amounts whose minor units are this value fail like a closed bank account would (documented in docs/domain.md).
SANDBOX_FAILING_CENTS = 13


class SandboxWise:
    """No network, no money: a deterministic transfer id per customerTransactionId (so a retry is the same
    transfer, as with Wise) and the happy path of states, or a failure for amounts ending in .13."""

    def create_transfer(
        self,
        *,
        customer_transaction_id: uuid.UUID,
        amount: Decimal,
        currency: str,
        recipient: Recipient,
        reference: str,
    ) -> Transfer:
        transfer_id = str(50_000_000 + customer_transaction_id.int % 10_000_000)
        fee = sandbox_fee(amount)
        cents = int((amount * 100) % 100)
        states: tuple[str, ...] = ("processing", "funds_converted", "outgoing_payment_sent")
        if cents == SANDBOX_FAILING_CENTS:
            states = ("processing", "cancelled")
        return Transfer(transfer_id, fee, "sandbox-recipient", "incoming_payment_waiting", states)


def sandbox_fee(amount: Decimal) -> Decimal:
    """A Wise-like fee: a fixed part plus a small percentage, in the currency's cents."""
    return (Decimal("0.41") + amount * Decimal("0.0043")).quantize(Decimal("0.01"))


class HttpWise:
    """Wise's REST API. Every call that creates something is safe to repeat: the quote and recipient are cheap to
    create again, and the transfer is keyed by `customerTransactionId`, for which Wise returns the existing
    transfer."""

    def __init__(self, *, base_url: str, api_token: str, profile_id: str, timeout: float = 10.0) -> None:
        self._profile_id = profile_id
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._client.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise WiseError(f"Wise could not be reached: {exc}", permanent=False) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise WiseError(f"Wise answered {response.status_code} to {path}", permanent=False)
        if response.status_code >= 400:
            raise WiseError(_error_text(response), permanent=True)
        data = response.json()
        if not isinstance(data, dict):
            raise WiseError(f"Wise answered {path} with an unexpected body", permanent=False)
        return data

    def create_transfer(
        self,
        *,
        customer_transaction_id: uuid.UUID,
        amount: Decimal,
        currency: str,
        recipient: Recipient,
        reference: str,
    ) -> Transfer:
        quote = self._post(
            f"/v3/profiles/{self._profile_id}/quotes",
            {
                "sourceCurrency": currency,
                "targetCurrency": currency,
                # Wise takes a JSON number. The amount has at most the currency's decimals (checked on request), and
                # such a short decimal survives the float round trip exactly (shortest repr).
                "sourceAmount": float(amount),
                "targetAmount": None,
                "payOut": "BANK_TRANSFER",
                "preferredPayIn": "BALANCE",
            },
        )
        fee = _quote_fee(quote)
        account_id = recipient.wise_account_id
        if account_id is None:
            account = self._post(
                "/v1/accounts",
                {
                    "currency": currency,
                    "type": "iban",
                    "profile": int(self._profile_id),
                    "accountHolderName": recipient.account_holder,
                    "details": {"legalType": "PRIVATE", "IBAN": recipient.iban},
                },
            )
            account_id = str(account["id"])
        transfer = self._post(
            "/v1/transfers",
            {
                "targetAccount": int(account_id),
                "quoteUuid": str(quote["id"]),
                "customerTransactionId": str(customer_transaction_id),
                "details": {"reference": reference[:35]},
            },
        )
        transfer_id = str(transfer["id"])
        payment = self._post(f"/v3/profiles/{self._profile_id}/transfers/{transfer_id}/payments", {"type": "BALANCE"})
        if payment.get("status") != "COMPLETED":
            # Funding failed (e.g. our Wise balance is short): the transfer exists but will not move.
            raise WiseError(f"Wise did not fund transfer {transfer_id}: {payment.get('errorCode')}", permanent=False)
        return Transfer(transfer_id, fee, account_id, str(transfer.get("status") or "incoming_payment_waiting"))


def _quote_fee(quote: dict[str, Any]) -> Decimal:
    options = [o for o in quote.get("paymentOptions") or [] if isinstance(o, dict) and not o.get("disabled")]
    balance = [o for o in options if o.get("payIn") == "BALANCE"] or options
    if not balance:
        return Decimal(0)
    total = (balance[0].get("fee") or {}).get("total", 0)
    return Decimal(str(total))


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"Wise answered {response.status_code}"
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("code") or f"Wise answered {response.status_code}")
    return f"Wise answered {response.status_code}"
