"""The earnings line object."""

from typing import Any

from server.db.models.earnings import EarningsLine
from server.domain.money import money_text
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
        "gross": money_text(line.gross),
        "net": money_text(line.net),
        "currency": line.currency,
        "fx_rate": money_text(line.fx_rate),
        "amount": money_text(line.amount),
        "account_currency": line.account_currency,
        "created_at": rfc3339(line.created_at),
    }
