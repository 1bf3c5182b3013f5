"""The API-key lookup the event loop makes on PostgreSQL goes through a few connections it keeps
(`server.db.loop_reads_pg`, issue 22). It must answer exactly what SQLAlchemy answers, see every committed change at
once (a revoked key is refused on the very next request), leave no transaction open between lookups, and hand a
failure back to the ordinary path (a dropped connection, a database restart)."""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text, update
from starlette.testclient import TestClient

from server.db import engine as db
from server.db import loop_reads_pg
from server.db.engine import session_scope
from server.db.models.api_keys import ApiKey
from server.db.types import utcnow
from server.services import api_keys
from server.services.api_keys import _LOOKUP, hash_secret
from tests.conftest import Tenant, TenantFactory
from tests.server.loop_reads_helpers import assert_same_row, core_row, give_every_lookup_column_a_value


@pytest.fixture
def pg_engine(app: Any, settings: Any) -> Iterator[Engine]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("the loop's own connections are for PostgreSQL (SQLite's: server.db.loop_reads)")
    db.configure(settings)
    yield db.engine()
    loop_reads_pg.close_all()


def _first(engine: Engine, digest: str) -> Any:
    return asyncio.run(loop_reads_pg.first(engine, _LOOKUP, {"digest": digest}))


def test_the_row_is_the_one_core_returns_field_for_field(pg_engine: Engine, make_tenant: TenantFactory) -> None:
    tenant = make_tenant(environment="production", production_access=True)
    give_every_lookup_column_a_value(tenant.key_id)
    digest = hash_secret(tenant.secret)
    assert_same_row(_first(pg_engine, digest), core_row(pg_engine, digest))
    assert _first(pg_engine, "0" * 64) is None


def test_a_revocation_is_seen_by_the_next_lookup_and_no_transaction_stays_open(
    pg_engine: Engine, tenant: Tenant
) -> None:
    async def lookups() -> None:
        verified = await api_keys.verify_on_loop_pg(pg_engine, tenant.secret)
        assert verified is not None
        assert verified[0].credential_id == tenant.key_id
        kept = loop_reads_pg._by_engine[pg_engine].idle
        assert kept
        assert all(c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE for c in kept)
        with session_scope() as session:
            session.execute(
                update(ApiKey).where(ApiKey.id == tenant.key_id).values(revoked_at=utcnow())  # type: ignore[arg-type]
            )
        with pytest.raises(api_keys.RefusedKeyError) as refused:
            await api_keys.verify_on_loop_pg(pg_engine, tenant.secret)
        assert refused.value.code == "api_key_revoked"

    asyncio.run(lookups())


def test_a_dropped_connection_hands_the_lookup_to_the_ordinary_path_and_is_replaced(
    pg_engine: Engine, tenant: Tenant
) -> None:
    digest = hash_secret(tenant.secret)

    async def lookups() -> list[Any]:
        answers = [await loop_reads_pg.first(pg_engine, _LOOKUP, {"digest": digest})]
        (kept,) = loop_reads_pg._by_engine[pg_engine].idle
        with pg_engine.connect() as other:  # what a database restart does to every open connection
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": kept.info.backend_pid})
        answers.append(await loop_reads_pg.first(pg_engine, _LOOKUP, {"digest": digest}))
        assert kept.closed
        # The next lookups take the ordinary path too, for a while (an outage costs a request one connect timeout).
        answers.append(await loop_reads_pg.first(pg_engine, _LOOKUP, {"digest": digest}))
        loop_reads_pg._by_engine[pg_engine].skip_until = 0.0  # the cool-down is over
        answers.append(await loop_reads_pg.first(pg_engine, _LOOKUP, {"digest": digest}))
        return answers

    before, failed, cooling_down, after = asyncio.run(lookups())
    assert failed is cooling_down is loop_reads_pg.FAILED
    assert before is not None
    assert before == after
    assert before.id == tenant.key_id


def test_requests_are_served_the_ordinary_way_when_the_loops_connection_fails(
    pg_engine: Engine, client: TestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(*_args: Any) -> Any:
        return loop_reads_pg.FAILED

    monkeypatch.setattr(loop_reads_pg, "first", failing)
    assert client.get("/api/v1/releases", headers=tenant.headers).status_code == 200
    with session_scope() as session:
        session.execute(
            update(ApiKey).where(ApiKey.id == tenant.key_id).values(revoked_at=utcnow())  # type: ignore[arg-type]
        )
    refused = client.get("/api/v1/releases", headers=tenant.headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "api_key_revoked"


def test_a_lookup_that_stops_answering_is_handed_over_within_the_connect_timeout(
    pg_engine: Engine, settings: Any, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.engine_for(settings.database_url, connect_timeout=2.0)  # the bound of a whole lookup
    digest = hash_secret(tenant.secret)

    async def no_answer(*_args: Any, **_kwargs: Any) -> None:
        await asyncio.sleep(60)  # a database that stopped answering on an open connection

    async def lookups() -> tuple[Any, float, Any]:
        assert await loop_reads_pg.first(engine, _LOOKUP, {"digest": digest}) is not None  # a connection is kept
        with monkeypatch.context() as patch:
            patch.setattr(psycopg.AsyncCursor, "execute", no_answer)
            started = time.monotonic()
            answers = await asyncio.gather(
                *(loop_reads_pg.first(engine, _LOOKUP, {"digest": digest}) for _ in range(8))
            )
            elapsed = time.monotonic() - started
        return answers, elapsed, loop_reads_pg._by_engine[engine]

    answers, elapsed, pool = asyncio.run(lookups())
    assert answers == [loop_reads_pg.FAILED] * 8  # every caller takes the ordinary path, none waits for the others
    assert elapsed < 4  # one bound (2 s), not one per connection in turn
    assert not pool.idle  # the connections that got no answer were closed, not kept
    assert pool.skip_until > time.monotonic()
