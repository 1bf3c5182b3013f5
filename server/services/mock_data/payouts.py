"""Mock payouts: one of each state a payee meets, made through the same service as the API (reservation against
the mock balance, the sandbox's simulated Wise transfer, Wise-style state events), in the caller's transaction."""

from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session

from server.db.types import utcnow
from server.domain.payouts import PayoutRequest
from server.principal import Principal
from server.services import balance, payouts

# amount, what happens after the request (None: the sandbox transfer as it runs; otherwise the Wise state applied)
_PAYOUTS: list[tuple[Decimal, str | None]] = [
    (Decimal("120.00"), None),  # paid
    (Decimal("35.13"), None),  # the sandbox's failing amount: cancelled, credited back
    (Decimal("48.50"), "bounced_back"),  # paid, then returned by the bank: credited back
    (Decimal("60.00"), "processing"),  # still on its way
]


def seed_payouts(session: Session, principal: Principal) -> None:

    available = balance.available_balance(session, principal.account_id, principal.environment)
    if available < sum(amount for amount, _ in _PAYOUTS):
        return
    for index, (amount, then) in enumerate(_PAYOUTS, start=1):
        payout = payouts.reserve_and_announce(
            session, principal, PayoutRequest(currency="EUR", amount=amount, metadata={"statement": f"mock-{index}"})
        )
        if then == "processing":
            # In flight: the transfer exists and Wise has not reported it sent yet.
            payout.provider_reference = str(49_000_000 + index)
            payouts.apply_transfer_state(session, payout, "processing", occurred_at=utcnow())
            continue
        payouts.send_sandbox_inline(session, payout)
        if then is not None:
            payouts.apply_transfer_state(
                session,
                payout,
                then,
                occurred_at=utcnow() + timedelta(seconds=1),
                previous_state="outgoing_payment_sent",
                reason="The recipient's bank returned the payment (account closed).",
            )
