"""Payouts: list, read, request (and the balance they draw on, `server.api.balance`)."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.balance import get_balance
from server.api.params import timestamp
from server.api.responses import json_response
from server.db.engine import session_scope
from server.domain.payouts import PayoutRequest
from server.openapi.fast_reads import read_only
from server.representations.payouts import represent
from server.services import payouts

__all__ = ["get_balance", "get_payout", "list_payouts", "request_payout"]


@read_only
def list_payouts(
    limit: int = 20,
    cursor: str | None = None,
    status: str | None = None,
    created_gte: str | None = None,
    created_lt: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = payouts.list_page(
            session,
            principal,
            limit=limit,
            cursor=cursor,
            status=status,
            created_gte=timestamp(created_gte),
            created_lt=timestamp(created_lt),
        )
        return json_response(page.render(represent))


def get_payout(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(payouts.get(session, principal, id)))


def request_payout(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    fields = PayoutRequest.from_body(body)
    payout_id = payouts.request(principal, fields)  # reserved and committed; the transfer started if Wise answered
    with session_scope() as session:
        return json_response(represent(payouts.get(session, principal, payout_id)), 201)
