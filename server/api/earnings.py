"""Earnings: the lines stores reported for the catalogue, and their sums."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.responses import json_response
from server.db.engine import session_scope
from server.db.models.earnings import EarningsLine
from server.services import earnings
from server.timefmt import rfc3339


def represent(line: EarningsLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "object": "earnings_line",
        "environment": line.environment,
        "store": line.store,
        "territory": line.territory,
        "sale_period": {"start": line.sale_period_start.isoformat(), "end": line.sale_period_end.isoformat()},
        "reported_at": rfc3339(line.reported_at),
        "release_id": line.release_id,
        "track_id": line.track_id,
        "isrc": line.isrc,
        "upc": line.upc,
        "usage_type": line.usage_type,
        "units": line.units,
        "gross": earnings.money_text(line.gross),
        "net": earnings.money_text(line.net),
        "currency": line.currency,
        "fx_rate": earnings.money_text(line.fx_rate),
        "amount": earnings.money_text(line.amount),
        "account_currency": line.account_currency,
        "created_at": rfc3339(line.created_at),
    }


def list_earnings(
    *,
    limit: int = 20,
    cursor: str | None = None,
    release_id: str | None = None,
    track_id: str | None = None,
    period_start: str | None = None,
    period_end: str | None = None,
    store: str | None = None,
    territory: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    filters = earnings.parse_filters(
        release_id=release_id,
        track_id=track_id,
        period_start=period_start,
        period_end=period_end,
        store=store,
        territory=territory,
    )
    with session_scope() as session:
        page = earnings.list_page(session, principal, filters, limit=limit, cursor=cursor)
        return json_response(page.render(represent))


def summarize_earnings(
    *,
    group_by: str = "release",
    release_id: str | None = None,
    track_id: str | None = None,
    period_start: str | None = None,
    period_end: str | None = None,
    store: str | None = None,
    territory: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    filters = earnings.parse_filters(
        release_id=release_id,
        track_id=track_id,
        period_start=period_start,
        period_end=period_end,
        store=store,
        territory=territory,
    )
    with session_scope() as session:
        return json_response(earnings.summarize(session, principal, filters, group_by))
