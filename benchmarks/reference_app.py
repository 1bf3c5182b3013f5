"""The bare twins of the load benchmark: each scenario's work — the same queries, the same writes, the same JSON —
in one plain Starlette route, without our layers (issue 22: a twin per scenario).

    OG_DATABASE_URL=… OG_SECRET_KEY=… OG_DATA_DIR=… uvicorn --factory benchmarks.reference_app:from_env

Every twin runs on the same uvicorn, database, SQLAlchemy engine and ORM as the server (same driver, pool and SQLite
pragmas; `engine_of` of the same settings), and leaves out only what a bare route would not have: no OpenAPI routing,
no authentication (so no API-key lookup: one SELECT fewer than the API), no rate limit, no request or response
validation, no idempotency, no request ids, no access or request log. The account and the ids come in the path. The
JSON is the API's document: the twins build it with the server's representation functions (pure row → dict code;
the release's also runs the rule catalogue for its wizard `steps`, as the API's does), so a scenario and its twin
answer the same keys (tests/benchmarks/test_twins.py). Sync endpoints, run in Starlette's thread pool: the
idiomatic way (connexion does the same with our sync handlers; our short path for plain reads skips the hop on
SQLite, see docs/adr/0003). The write twins are async to read the body (JSON, or multipart with Starlette's own form
parser), as connexion is, then do their database work in the thread pool, as connexion runs our sync handlers.

The routes, each with the scenario it is the twin of (benchmarks/load.py):

- `GET /releases/{id}` (`release_get`): the release by id, its tracks and deliveries (and its artwork and audio file
  rows, if any), the release document.
- `GET /accounts/{account}/releases?limit=20` (`release_list`): one newest-first page of the account's releases
  (`limit` + 1 rows), the tracks and the deliveries of the whole page in one query each, the list document with its
  signed `next_cursor`.
- `POST /accounts/{account}/releases` (`release_create`): INSERT the release, read its (empty) tracks and deliveries
  for the document, INSERT the `release.created` event, SELECT the account's enabled webhook endpoints (the fan-out;
  a delivery row per subscriber), one transaction.
- `GET /persons/{id}` (`persons_get`): the person by id, its document.
- `POST /accounts/{account}/tracks` (`track_create`): multipart (`metadata` JSON + `audio` file) through Starlette's
  form parser; the file staged, hashed and committed to the same file store; INSERT the track, SELECT the file row
  by digest (INSERT it when new), UPDATE the track with its audio, the track document, INSERT `track.created`, the
  fan-out SELECT, one transaction.
- `POST /accounts/{account}/webhook-endpoints` (`webhook_endpoint_create`): the service's URL rules
  (`server.services.webhook_endpoints.url_errors`: parsed, https, no credentials or fragment, a public address) and
  its event list normalisation, a new signing secret encrypted under the server key, INSERT the endpoint, its
  document with the secret.
- `GET /accounts/{account}/earnings?limit=20` (`earnings_list`): one newest-first page of the account's earnings
  lines, the list document with its cursor.
- `GET /accounts/{account}/balance` (`balance`): the balance's queries (the account, earned settled and unsettled in
  one GROUP BY, held by unaccepted split shares, debited by payouts), its document.
- `GET /smartlinks/{slug}` (`smartlink_view`): the link by slug, one INSERT of the hit, the public document. The
  smart-link twins' hit rows leave out the visitor's classification (country, referrer host, device, bot) that the
  API computes from the request's headers.
- `GET /smartlinks/{slug}/go/{service}` (`smartlink_click`): the link by slug, its destination for the service, one
  INSERT of the hit, a `302` there.
- `GET /smartlinks/{slug}/page` (`smartlink_page`): the link, its release and tracks, the hit INSERT, the page's
  Jinja2 template rendered.
- `GET /earnings/summary/{account}` (`earnings_summary`): the account's currency, its one GROUP BY (month and FX
  rate) with exact sums, the summary document with the months' labels and the total.

The balance twin calls `server.services.balance.compute`, the function that *is* the balance's queries (four SELECTs
and the arithmetic), rather than a copy of them that could drift; everything else here writes its own statements.
"""

import calendar
import hashlib
import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, insert, literal
from sqlalchemy import bindparam as sqlalchemy_bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from server import clock, config
from server.config import Settings
from server.db.engine import engine_of
from server.db.models.accounts import Account
from server.db.models.earnings import EarningsLine, EarningsSummaryTotal
from server.db.models.events import Event
from server.db.models.files import File
from server.db.models.persons import Person
from server.db.models.releases import Release
from server.db.models.smartlinks import SmartLink, SmartLinkHit
from server.db.models.tracks import Track
from server.db.models.webhooks import WebhookDelivery, WebhookEndpoint
from server.db.sums import exact_sum, read_sum
from server.db.types import utcnow
from server.domain.money import money_text
from server.ids import new_id
from server.pagination import encode_cursor
from server.qc import sniff
from server.representations import earnings as earnings_doc
from server.representations import persons as persons_doc
from server.representations import releases as releases_doc
from server.representations import smart_links as smartlinks_doc
from server.representations import tracks as tracks_doc
from server.representations import webhook_endpoints as endpoints_doc
from server.services import balance as balance_queries
from server.services import webhook_endpoints
from server.storage import LocalFileStore, for_settings
from server.timefmt import rfc3339
from server.web import pages, smartlink_page
from server.webhooks import signing_secrets

ENVIRONMENT = "production"  # the benchmark's keys are production keys; the twins work in the same environment

_BY_SLUG = select(SmartLink).where(col(SmartLink.slug) == sqlalchemy_bindparam("slug"))
_TRACKS = (
    select(Track.isrc, Track.duration_ms)
    .where(col(Track.release_id) == sqlalchemy_bindparam("release_id"))
    .order_by(col(Track.disc_number), col(Track.track_number))
)


def _json(document: Any, status: int = 200) -> Response:
    """The API's encoding (server/api/responses.py): compact, UTF-8."""
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json")


def _limit(request: Request) -> int:
    return int(request.query_params.get("limit", "20"))


def _page(rows: list[Any], limit: int, list_name: str, filters: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """`limit` + 1 rows read: the page, and the list envelope's `has_more` and `next_cursor` (the same signed cursor
    the API gives, server/pagination.py; the API's filters that are None do not enter its fingerprint)."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1].id, list_name, filters) if has_more and rows else None
    return rows, {"has_more": has_more, "next_cursor": cursor}


def _announce(session: Session, account: str, event_type: str, document: dict[str, Any]) -> None:
    """The event row and its webhook fan-out, in the caller's transaction (what the API's services do on a write)."""
    now = utcnow()
    event_id = new_id("evt")
    payload = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": rfc3339(now),
        "environment": ENVIRONMENT,
        "data": {"object": document},
    }
    session.add(
        Event(
            id=event_id,
            account_id=account,
            environment=ENVIRONMENT,
            type=event_type,
            created_at=now,
            updated_at=now,
            payload=payload,
        )
    )
    endpoints = session.exec(
        select(WebhookEndpoint).where(
            col(WebhookEndpoint.account_id) == account,
            col(WebhookEndpoint.environment) == ENVIRONMENT,
            col(WebhookEndpoint.status) == "enabled",
        )
    ).all()
    due = clock.real_now()
    for endpoint in endpoints:
        if "*" in endpoint.enabled_events or event_type in endpoint.enabled_events:
            delivery = WebhookDelivery(
                event_id=event_id, endpoint_id=endpoint.id, next_attempt_at=due, status="pending"
            )
            session.add(delivery)


class Twins:
    """The routes, bound to one database and file store (the server's settings: same URL, secret key, data dir)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Engine = engine_of(settings)
        self.store: LocalFileStore = for_settings(settings)  # type: ignore[assignment]

    # --- reads -----------------------------------------------------------------------------------------------------

    def get_release(self, request: Request) -> Response:
        with Session(self.engine) as session:
            release = session.get(Release, request.path_params["id"])
            if release is None:
                return Response(status_code=404)
            document = releases_doc.represent(session, release)
        return _json(document)

    def list_releases(self, request: Request) -> Response:
        account, limit = request.path_params["account"], _limit(request)
        with Session(self.engine) as session:
            rows = list(
                session.exec(
                    select(Release)
                    .where(col(Release.account_id) == account, col(Release.environment) == ENVIRONMENT)
                    .order_by(col(Release.id).desc())
                    .limit(limit + 1)
                ).all()
            )
            rows, more = _page(rows, limit, "releases", {"env": ENVIRONMENT})
            represent = releases_doc.PageRepresenter(session, rows)  # the page's tracks and deliveries, one query each
            document = {"object": "list", "data": [represent(release) for release in rows], **more}
        return _json(document)

    def get_person(self, request: Request) -> Response:
        with Session(self.engine) as session:
            person = session.get(Person, request.path_params["id"])
            if person is None:
                return Response(status_code=404)
            document = persons_doc.represent(person)
        return _json(document)

    def list_earnings(self, request: Request) -> Response:
        account, limit = request.path_params["account"], _limit(request)
        with Session(self.engine) as session:
            rows = list(
                session.exec(
                    select(EarningsLine)
                    .where(col(EarningsLine.account_id) == account, col(EarningsLine.environment) == ENVIRONMENT)
                    .order_by(col(EarningsLine.id).desc())
                    .limit(limit + 1)
                ).all()
            )
            rows, more = _page(rows, limit, "earnings", {"env": ENVIRONMENT})
            document = {"object": "list", "data": [earnings_doc.represent(line) for line in rows], **more}
        return _json(document)

    def get_balance(self, request: Request) -> Response:
        with Session(self.engine) as session:
            current = balance_queries.compute(session, request.path_params["account"], ENVIRONMENT)
        return _json(
            {
                "object": "balance",
                "environment": ENVIRONMENT,
                "available": money_text(current.available),
                "pending": money_text(current.pending),
                "currency": current.currency,
                "minimum_payout": format(current.minimum_payout, "f"),
                "payouts_enabled": current.payouts_enabled,
                "updated_at": rfc3339(current.computed_at),
            }
        )

    def earnings_summary(self, request: Request) -> Response:
        """The earnings summary by period: the account's currency, one GROUP BY month and FX rate over the period
        totals the importer maintains (as the API reads them) with exact sums, gross converted per rate group, the
        API's summary document."""
        account_id = request.path_params["account"]
        dialect = self.engine.dialect.name
        totals = EarningsSummaryTotal
        with Session(self.engine) as session:
            account = session.get(Account, account_id)
            currency = account.default_currency if account else "EUR"
            statement = (
                sa_select(
                    totals.group_key,
                    totals.fx_rate,
                    func.sum(totals.line_count),
                    func.sum(totals.units),
                    exact_sum(dialect, totals.gross),
                    exact_sum(dialect, totals.amount),
                )
                .where(
                    totals.account_id == account_id,
                    totals.environment == ENVIRONMENT,
                    totals.account_currency == literal(currency),
                    totals.dimension == "period",
                )
                .group_by(totals.group_key, totals.fx_rate)
            )
            rows = sorted(session.execute(statement).all(), key=lambda row: (row[0], row[1]))
        sums: dict[str, list[Any]] = {}
        for key, fx, count, units, gross, net in rows:
            group = sums.setdefault(str(key), [0, 0, Decimal(0), Decimal(0)])
            group[0] += int(count)
            group[1] += int(units)
            group[2] += read_sum(dialect, gross) * fx
            group[3] += read_sum(dialect, net)
        groups = [
            {
                "key": key,
                "label": f"{calendar.month_name[int(key[5:7])]} {key[:4]}",
                "line_count": count,
                "units": units,
                "gross": money_text(gross),
                "net": money_text(net),
            }
            for key, (count, units, gross, net) in sorted(sums.items())
        ]
        total = {
            "line_count": sum(g[0] for g in sums.values()),
            "units": sum(g[1] for g in sums.values()),
            "gross": money_text(sum((g[2] for g in sums.values()), Decimal(0))),
            "net": money_text(sum((g[3] for g in sums.values()), Decimal(0))),
        }
        document = {
            "object": "earnings_summary",
            "environment": ENVIRONMENT,
            "group_by": "period",
            "currency": currency,
            "groups": groups,
            "total": total,
        }
        return _json(document)

    # --- writes ----------------------------------------------------------------------------------------------------

    async def create_release(self, request: Request) -> Response:
        # Async to read the body (as connexion does), the database work in the thread pool like the API's handler.
        fields = await request.json()
        return await run_in_threadpool(self._create_release, request.path_params["account"], fields)

    def _create_release(self, account: str, fields: dict[str, Any]) -> Response:
        with Session(self.engine) as session:
            release = Release(
                id=new_id("rel"),
                account_id=account,
                environment=ENVIRONMENT,
                title=fields["title"],
                version=fields.get("version"),
                primary_artists=list(fields.get("primary_artists") or []),
                featured_artists=list(fields.get("featured_artists") or []),
                label=fields.get("label"),
                genre=fields.get("genre"),
                subgenre=fields.get("subgenre"),
                language=fields.get("language"),
                meta=dict(fields.get("metadata") or {}),
            )
            session.add(release)
            session.flush()
            document = releases_doc.represent(session, release)
            _announce(session, account, "release.created", document)
            session.commit()
        return _json(document, 201)

    async def create_webhook_endpoint(self, request: Request) -> Response:
        fields = await request.json()
        return await run_in_threadpool(self._create_webhook_endpoint, request.path_params["account"], fields)

    def _create_webhook_endpoint(self, account: str, fields: dict[str, Any]) -> Response:
        # The service's own URL rules (https, no credentials, a public address: domain rules, not HTTP ones).
        if webhook_endpoints.url_errors(fields["url"], allow_loopback=self.settings.webhooks_allow_loopback):
            return Response(status_code=422)
        secret = signing_secrets.generate()
        with Session(self.engine) as session:
            endpoint = WebhookEndpoint(
                id=new_id("we"),
                account_id=account,
                environment=ENVIRONMENT,
                url=fields["url"],
                enabled_events=webhook_endpoints.normalised_events(fields["enabled_events"]),
                description=fields.get("description"),
                secret_ciphertext=signing_secrets.encrypt(secret, self.settings.secret_key),
                meta=dict(fields.get("metadata") or {}),
            )
            session.add(endpoint)
            session.flush()
            document = {**endpoints_doc.represent(endpoint), "secret": secret}
            session.commit()
        return _json(document, 201)

    async def create_track(self, request: Request) -> Response:
        async with request.form() as form:
            metadata, audio = form["metadata"], form["audio"]
            assert isinstance(audio, UploadFile)
            fields = json.loads(metadata if isinstance(metadata, str) else await metadata.read())
            staged = self.store.stage()
            while chunk := await audio.read(64 * 1024):
                staged.write(chunk)
            staged.close()
            return await run_in_threadpool(
                self._create_track, request.path_params["account"], fields, staged, audio.filename
            )

    def _create_track(self, account: str, fields: dict[str, Any], staged: Any, filename: str | None) -> Response:
        with Session(self.engine) as session:
            track = Track(
                id=new_id("trk"),
                account_id=account,
                environment=ENVIRONMENT,
                title=fields["title"],
                version=fields.get("version"),
                primary_artists=list(fields["primary_artists"]),
                featured_artists=list(fields.get("featured_artists") or []),
                explicit=fields.get("explicit"),
                language=fields.get("language"),
                meta=dict(fields.get("metadata") or {}),
            )
            session.add(track)
            session.flush()
            key = self.store.commit(staged)  # the content address: moved there, or dropped when already stored
            file = session.exec(
                select(File).where(
                    col(File.account_id) == account,
                    col(File.environment) == ENVIRONMENT,
                    col(File.sha256) == staged.sha256,
                )
            ).first()
            if file is None:
                file = File(
                    id=new_id("fil"),
                    account_id=account,
                    environment=ENVIRONMENT,
                    sha256=staged.sha256,
                    size_bytes=staged.size,
                    content_type=sniff.content_type(staged.head),
                    filename=filename[:255] if filename else None,
                    purpose="audio",
                    storage_key=key,
                )
                session.add(file)
                session.flush()
            else:
                file.filename = filename
                session.add(file)
            track.audio_file_id, track.qc_status, track.qc_findings = file.id, "pending", []
            track.qc_completed_at, track.duration_ms, track.updated_at = None, None, utcnow()
            session.add(track)
            session.flush()
            document = tracks_doc.represent(session, track)
            _announce(session, account, "track.created", document)
            session.commit()
        return _json(document, 201)

    # --- the smart-link twins --------------------------------------------------------------------------------------

    def get_smartlink(self, request: Request) -> Response:
        with Session(self.engine) as session:
            link = session.exec(_BY_SLUG, params={"slug": request.path_params["slug"]}).first()
            if link is None:
                return Response(status_code=404)
            document = smartlinks_doc.represent_public(link)
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
        return _json(document)

    def follow_smartlink(self, request: Request) -> Response:
        """The click: the link by slug, its destination for the service, one INSERT of the hit, a 302 there."""
        with Session(self.engine) as session:
            link = session.exec(_BY_SLUG, params={"slug": request.path_params["slug"]}).first()
            service = request.path_params["service"]
            target = next((d["url"] for d in link.destinations if d["service"] == service), None) if link else None
            if link is None or target is None:
                return Response(status_code=404)
            agent = request.headers.get("user-agent", "")
            session.execute(
                insert(SmartLinkHit).values(
                    smartlink_id=link.id,
                    kind="click",
                    service=service,
                    visitor_hash=hashlib.sha256(agent.encode()).hexdigest(),
                    occurred_at=datetime.now(UTC),
                )
            )
            session.commit()
        return Response(status_code=302, headers={"Location": target, "Cache-Control": "no-store"})

    def get_smartlink_page(self, request: Request) -> Response:
        with Session(self.engine) as session:
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


def healthz(_request: Request) -> Response:
    return Response(b"ok")


def create(settings: Settings) -> Starlette:
    """The twins' app on these settings (the server's: same database URL, secret key and data directory)."""
    twins = Twins(settings)
    return Starlette(
        routes=[
            Route("/releases/{id}", twins.get_release),
            Route("/accounts/{account}/releases", twins.list_releases),
            Route("/accounts/{account}/releases", twins.create_release, methods=["POST"]),
            Route("/persons/{id}", twins.get_person),
            Route("/accounts/{account}/tracks", twins.create_track, methods=["POST"]),
            Route("/accounts/{account}/webhook-endpoints", twins.create_webhook_endpoint, methods=["POST"]),
            Route("/accounts/{account}/earnings", twins.list_earnings),
            Route("/accounts/{account}/balance", twins.get_balance),
            Route("/smartlinks/{slug}", twins.get_smartlink),
            Route("/smartlinks/{slug}/page", twins.get_smartlink_page),
            Route("/smartlinks/{slug}/go/{service}", twins.follow_smartlink),
            Route("/earnings/summary/{account}", twins.earnings_summary),
            Route("/healthz", healthz),
        ]
    )


def from_env() -> Starlette:
    """`uvicorn --factory benchmarks.reference_app:from_env`: the server's settings from its environment."""
    assert os.environ.get("OG_DATABASE_URL"), "OG_DATABASE_URL names the server's database"
    settings = Settings.from_env()
    config.activate(settings)  # the smart-link page's absolute URLs and the list cursors read the active settings
    return create(settings)
