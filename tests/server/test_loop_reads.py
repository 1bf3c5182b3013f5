"""The API-key lookup the event loop makes on SQLite goes through a connection its thread keeps
(`server.db.loop_reads`, issue 22). It must answer exactly what SQLAlchemy answers, see every committed change at once
(a revoked key is refused on the very next request), hold no lock between lookups, and survive a broken connection."""

from typing import Any

import pytest
from sqlalchemy import Engine, text, update

from server.db import engine as db
from server.db import loop_reads
from server.db.engine import session_scope
from server.db.models.api_keys import ApiKey
from server.db.types import utcnow
from server.services import api_keys
from server.services.api_keys import _LOOKUP, hash_secret
from tests.conftest import Tenant, TenantFactory
from tests.server.loop_reads_helpers import assert_same_row, core_row, give_every_lookup_column_a_value


@pytest.fixture
def sqlite_engine(app: Any, settings: Any) -> Engine:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the loop's own connection is for SQLite (server.db.engine.reads_inline)")
    db.configure(settings)
    return db.engine()


def test_the_row_is_the_one_core_returns_field_for_field(sqlite_engine: Engine, make_tenant: TenantFactory) -> None:
    tenant = make_tenant(environment="production", production_access=True)
    give_every_lookup_column_a_value(tenant.key_id)
    digest = hash_secret(tenant.secret)
    assert_same_row(loop_reads.first(sqlite_engine, _LOOKUP, {"digest": digest}), core_row(sqlite_engine, digest))
    assert loop_reads.first(sqlite_engine, _LOOKUP, {"digest": "0" * 64}) is None


def test_a_revocation_is_seen_by_the_next_lookup_and_no_lock_is_held(sqlite_engine: Engine, tenant: Tenant) -> None:
    principal, _stale = api_keys.verify_on_loop(sqlite_engine, tenant.secret)
    assert principal.credential_id == tenant.key_id
    with sqlite_engine.connect() as other:
        # No snapshot is kept by the loop's connection: a full checkpoint completes (busy = 0).
        assert other.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()[0] == 0
    with session_scope() as session:
        session.execute(
            update(ApiKey).where(ApiKey.id == tenant.key_id).values(revoked_at=utcnow())  # type: ignore[arg-type]
        )
    with pytest.raises(api_keys.RefusedKeyError) as refused:
        api_keys.verify_on_loop(sqlite_engine, tenant.secret)
    assert refused.value.code == "api_key_revoked"


def test_a_broken_connection_is_replaced(sqlite_engine: Engine, tenant: Tenant) -> None:
    digest = hash_secret(tenant.secret)
    assert loop_reads.first(sqlite_engine, _LOOKUP, {"digest": digest}) is not None
    loop_reads._local.connections[sqlite_engine].close()  # closed under it (a driver error on the next use)
    row = loop_reads.first(sqlite_engine, _LOOKUP, {"digest": digest})
    assert row is not None
    assert row.id == tenant.key_id
    assert loop_reads.first(sqlite_engine, _LOOKUP, {"digest": digest}) == row  # and a new one is kept
