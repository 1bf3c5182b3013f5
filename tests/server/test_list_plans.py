"""Every newest-first list page reads one index range in id order: its cost does not grow with the tenant's history
(issue 22). A page without the index had SQLite read and sort every row of the tenant (`USE TEMP B-TREE FOR ORDER
BY`); a page of releases cost twice as much after the load benchmark had created a few thousand."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from server.config import Settings
from server.db import engine as db
from server.openapi.fast_reads import fast_routes
from server.openapi.specification import raw_document
from tests.conftest import Tenant
from tests.server.releases_helpers import create_release, ok

# Lists whose page is not a plain tenant range: a release's splits (its own splits and its tracks', a few rows), and
# an endpoint's attempts, read within their retention window (`webhook_deliveries.RETENTION`) on the
# (endpoint, created_at) index: bounded by the window's traffic, not by the endpoint's history.
NOT_A_TENANT_RANGE = {"listReleaseSplits", "listWebhookAttempts"}


def _lists() -> dict[str, str]:
    """operationId -> path of every paginated list (the ones with a `limit`)."""
    return {
        route.operation_id: route.template
        for route in fast_routes(raw_document(), "server.api")
        if "limit" in route.query_schemas and route.operation_id not in NOT_A_TENANT_RANGE
    }


@pytest.fixture
def statements(settings: Settings) -> Iterator[list[tuple[str, Any]]]:
    """The SELECTs the app runs while the fixture is active, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = db.engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_every_list_page_reads_an_index_range_in_id_order(
    client: TestClient, settings: Settings, tenant: Tenant, statements: list[tuple[str, Any]]
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip(
            "PostgreSQL's plan depends on its statistics; SQLite's on the indexes alone, so it is checked there"
        )
    endpoint = ok(
        client.post(
            "/api/v1/webhook-endpoints",
            json={"url": "https://hooks.example.com/og", "enabled_events": ["*"]},
            headers=tenant.headers,
        ),
        201,
    )
    create_release(client, tenant)
    lists = _lists()
    assert {"listReleases", "listPersons", "listTracks", "listEvents", "listEarnings", "listApiKeys"} <= set(lists)
    for operation_id, template in lists.items():
        statements.clear()
        ok(client.get(template.format(id=endpoint["id"]), params={"limit": 2}, headers=tenant.headers))
        pages = [(sql, parameters) for sql, parameters in statements if "ORDER BY" in sql and "LIMIT" in sql]
        assert pages, f"{operation_id}: no page query seen"
        with db.engine().connect() as connection:
            for sql, parameters in pages:
                plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters).fetchall()
                steps = " | ".join(str(row[-1]) for row in plan)
                assert "TEMP B-TREE FOR ORDER BY" not in steps, (operation_id, steps)
                assert "USING INDEX" in steps or "USING COVERING INDEX" in steps, (operation_id, steps)
