"""Earnings: the lines stores reported for the catalogue, and their sums."""

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.responses import json_response
from server.db.engine import read_scope
from server.openapi.fast_reads import read_only
from server.representations.earnings import represent
from server.services import earnings


@read_only
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
    with read_scope() as session:
        page = earnings.list_page(session, principal, filters, limit=limit, cursor=cursor)
        return json_response(page.render(represent))


@read_only
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
    with read_scope() as session:
        return json_response(earnings.summarize(session, principal, filters, group_by))
