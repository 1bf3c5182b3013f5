"""The balance (operation getBalance, tag Payouts: bound through `server.api.payouts`)."""

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.responses import json_response
from server.db.engine import read_scope
from server.domain.money import money_text
from server.openapi.fast_reads import read_only
from server.services import balance
from server.timefmt import rfc3339


@read_only
def get_balance() -> ConnexionResponse:
    principal = caller.current()
    with read_scope() as session:
        current = balance.compute(session, principal.account_id, principal.environment)
    return json_response(
        {
            "object": "balance",
            "environment": principal.environment,
            "available": money_text(current.available),
            "pending": money_text(current.pending),
            "currency": current.currency,
            "minimum_payout": format(current.minimum_payout, "f"),
            "payouts_enabled": current.payouts_enabled,
            "updated_at": rfc3339(current.computed_at),
        }
    )
