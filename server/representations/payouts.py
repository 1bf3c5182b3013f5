"""The payout object."""

from typing import Any

from server.db.models.payouts import Payout
from server.domain.money import currency_text
from server.timefmt import rfc3339, rfc3339_or_none


def represent(payout: Payout) -> dict[str, Any]:
    # Money leaves here: shown with exactly the currency's decimals.
    return {
        "id": payout.id,
        "object": "payout",
        "environment": payout.environment,
        "amount": currency_text(payout.amount, payout.currency),
        "fee": currency_text(payout.fee, payout.currency),
        "net_amount": currency_text(payout.amount - payout.fee, payout.currency),
        "currency": payout.currency,
        "status": payout.status,
        "failure_reason": payout.failure_reason,
        "requested_at": rfc3339(payout.requested_at),
        "paid_at": rfc3339_or_none(payout.paid_at),
        "provider_reference": payout.provider_reference,
        "metadata": dict(payout.meta),
        "created_at": rfc3339(payout.created_at),
        "updated_at": rfc3339(payout.updated_at),
    }
