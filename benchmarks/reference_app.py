"""The bare reference of the load benchmark: the same database read and JSON encoding, without our layers.

    OG_DATABASE_URL=… uvicorn benchmarks.reference_app:app

One Starlette route, `GET /releases/{id}`: the rows the API reads for a release — the release by primary key, its
tracks and its per-store deliveries — through the same SQLAlchemy engine and ORM the server uses (same driver,
pool and SQLite pragmas), their columns encoded as JSON. No OpenAPI routing, no authentication, no rate limit, no
validation, no request ids or access log. A sync endpoint, so Starlette runs it in its thread pool, the idiomatic
way (connexion does the same with our sync handlers; our short path for plain reads skips the hop on SQLite, see
docs/adr/0003). The benchmark reports every scenario's throughput as a ratio to this one (or to the smart-link
twin below), measured in the same run on the same machine.

`GET /smartlinks/{slug}` is the twin of the public smart-link page and the base of the smart-link scenarios'
ratios: the link row by its unique slug, one INSERT of the hit in the same transaction (the real page records every
view and click), the row's public columns as JSON.

`GET /smartlinks/{slug}/page` is the twin of the fans' HTML page (`/l/{slug}`): the same three reads (the link by
slug, its release, the release's tracks), the hit INSERT and the page's Jinja2 template rendered from the same
context, as HTML; `smartlink_page`'s ratio is to `bare_reference_smartlink_page`.

`GET /earnings/summary/{account}` is the twin of the earnings summary: its one GROUP BY (month and FX rate) with
exact sums over the account's lines, as JSON; `earnings_summary`'s ratio is to `earnings_summary_bare`.
"""

import hashlib
import json
import os
from datetime import UTC, datetime

from sqlalchemy import bindparam as sqlalchemy_bindparam
from sqlalchemy import func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from server import config
from server.config import Settings, _normalise_database_url
from server.db.engine import engine_for
from server.db.models.earnings import EarningsLine
from server.db.models.releases import Release, ReleaseDelivery
from server.db.models.smartlinks import SmartLink, SmartLinkHit
from server.db.models.tracks import Track
from server.db.sums import exact_sum, read_sum
from server.web import pages, smartlink_page

ENGINE = engine_for(_normalise_database_url(os.environ["OG_DATABASE_URL"]))
config.activate(Settings.from_env())  # the page's absolute URLs read the public link base


def _columns(row: object) -> dict[str, object]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}  # type: ignore[attr-defined]


def get_release(request: Request) -> Response:
    with Session(ENGINE) as session:
        release = session.get(Release, request.path_params["id"])
        if release is None:
            return Response(status_code=404)
        tracks = session.exec(
            select(Track)
            .where(col(Track.release_id) == release.id)
            .order_by(col(Track.disc_number), col(Track.track_number), col(Track.id))
        ).all()
        deliveries = session.exec(select(ReleaseDelivery).where(col(ReleaseDelivery.release_id) == release.id)).all()
        row = {
            **_columns(release),
            "tracks": [_columns(t) for t in tracks],
            "deliveries": [_columns(d) for d in deliveries],
        }
    return Response(json.dumps(row, default=str, separators=(",", ":")), media_type="application/json")


_BY_SLUG = select(SmartLink).where(col(SmartLink.slug) == sqlalchemy_bindparam("slug"))
_PUBLIC = ["slug", "title", "artist", "artwork_url", "environment", "release_at"]


def get_smartlink(request: Request) -> Response:
    with Session(ENGINE) as session:
        link = session.exec(_BY_SLUG, params={"slug": request.path_params["slug"]}).first()
        if link is None:
            return Response(status_code=404)
        row = {name: getattr(link, name) for name in _PUBLIC}
        row["services"] = [d["service"] for d in link.destinations]
        agent = request.headers.get("user-agent", "")
        session.execute(
            insert(SmartLinkHit).values(
                smartlink_id=link.id,
                kind="view",
                visitor_hash=hashlib.sha256(agent.encode()).hexdigest(),
                occurred_at=datetime.now(UTC),
            )
        )
        session.commit()
    return Response(json.dumps(row, default=str, separators=(",", ":")), media_type="application/json")


_TRACKS = (
    select(Track.isrc, Track.duration_ms)
    .where(col(Track.release_id) == sqlalchemy_bindparam("release_id"))
    .order_by(col(Track.disc_number), col(Track.track_number))
)


def get_smartlink_page(request: Request) -> Response:
    with Session(ENGINE) as session:
        link = session.exec(_BY_SLUG, params={"slug": request.path_params["slug"]}).first()
        if link is None:
            return Response(status_code=404)
        release = session.get(Release, link.release_id)
        tracks = [(isrc, ms) for isrc, ms in session.exec(_TRACKS, params={"release_id": link.release_id}).all()]
        agent = request.headers.get("user-agent", "")
        session.execute(
            insert(SmartLinkHit).values(
                smartlink_id=link.id,
                kind="view",
                visitor_hash=hashlib.sha256(agent.encode()).hexdigest(),
                occurred_at=datetime.now(UTC),
            )
        )
        body = pages.render_text(smartlink_page.TEMPLATE, **smartlink_page.context(link, release, tracks))
        session.commit()
    return HTMLResponse(body)


def earnings_summary(request: Request) -> Response:
    """The earnings summary's SQL (one GROUP BY month and FX rate over the account's lines, exact sums) + JSON."""
    dialect = ENGINE.dialect.name
    month = (
        func.strftime("%Y-%m", EarningsLine.sale_period_start)
        if dialect == "sqlite"
        else func.to_char(EarningsLine.sale_period_start, "YYYY-MM")
    )
    statement = (
        sa_select(
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
        Route("/smartlinks/{slug}", get_smartlink),
        Route("/smartlinks/{slug}/page", get_smartlink_page),
        Route("/earnings/summary/{account}", earnings_summary),
        Route("/healthz", healthz),
    ]
)
