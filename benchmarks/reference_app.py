"""The bare reference of the load benchmark: the same database read and JSON encoding, without our layers.

    OG_DATABASE_URL=… uvicorn benchmarks.reference_app:app

`GET /releases/{id}`: the release row by primary key through the same SQLAlchemy engine the
server uses (same driver, pool and SQLite pragmas), its columns encoded as JSON. No OpenAPI routing, no
authentication, no rate limit, no validation, no request ids or access log. A sync endpoint, so Starlette runs it
in its thread pool exactly as connexion runs our sync handlers. The benchmark reports every scenario's throughput
as a ratio to this one, measured in the same run on the same machine.

`GET /earnings/summary/{account}` does the same for the earnings summary: its one GROUP BY (month and FX rate) with
exact sums over the account's lines, as JSON; compare `earnings_summary` with `earnings_summary_bare`.
"""

import json
import os

from sqlalchemy import func, select
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.config import _normalise_database_url
from server.db.engine import engine_for
from server.db.models.earnings import EarningsLine
from server.db.models.releases import Release
from server.db.sums import exact_sum, read_sum

ENGINE = engine_for(_normalise_database_url(os.environ["OG_DATABASE_URL"]))
COLUMNS = [column.key for column in Release.__table__.columns]  # type: ignore[attr-defined]


def get_release(request: Request) -> Response:
    with Session(ENGINE) as session:
        release = session.get(Release, request.path_params["id"])
        if release is None:
            return Response(status_code=404)
        row = {name: getattr(release, name) for name in COLUMNS}
    return Response(json.dumps(row, default=str, separators=(",", ":")), media_type="application/json")


def earnings_summary(request: Request) -> Response:
    """The earnings summary's SQL (one GROUP BY month and FX rate over the account's lines, exact sums) + JSON."""
    dialect = ENGINE.dialect.name
    month = (
        func.strftime("%Y-%m", EarningsLine.sale_period_start)
        if dialect == "sqlite"
        else func.to_char(EarningsLine.sale_period_start, "YYYY-MM")
    )
    statement = (
        select(
            month,
            EarningsLine.fx_rate,
            func.count(),
            func.sum(EarningsLine.units),
            exact_sum(dialect, EarningsLine.gross),
            exact_sum(dialect, EarningsLine.amount),
        )
        .where(EarningsLine.account_id == request.path_params["account"], EarningsLine.environment == "production")
        .group_by(month, EarningsLine.fx_rate)
    )
    with Session(ENGINE) as session:
        rows = session.execute(statement).all()
    groups = [
        {
            "key": key,
            "line_count": count,
            "units": int(units),
            "gross": str(read_sum(dialect, gross) * fx),
            "net": str(read_sum(dialect, net)),
        }
        for key, fx, count, units, gross, net in rows
    ]
    return Response(json.dumps({"groups": groups}, separators=(",", ":")), media_type="application/json")


def healthz(_request: Request) -> Response:
    return Response(b"ok")


app = Starlette(
    routes=[
        Route("/releases/{id}", get_release),
        Route("/earnings/summary/{account}", earnings_summary),
        Route("/healthz", healthz),
    ]
)
