"""Helpers for the webhook tests: run a delivery worker in-process until nothing is due."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import update

from server.config import Settings
from server.webhooks.worker import Worker


@pytest.fixture(autouse=True)
def quiet_queue(request: pytest.FixtureRequest) -> None:
    """Each test starts with nothing due: retries left by earlier tests (on the shared database) are cancelled."""
    if "settings" in request.fixturenames:
        from server.db import engine as db
        from server.db.engine import session_scope
        from server.db.models.webhooks import WebhookDelivery

        settings: Settings = request.getfixturevalue("settings")
        request.getfixturevalue("app")  # migrated
        db.configure(settings)
        with session_scope() as session:
            session.execute(update(WebhookDelivery).values(next_attempt_at=None))


def drain(settings: Settings, **options: Any) -> int:
    """Deliver everything due (by the worker's clock) and return how many attempts were made."""

    async def run() -> int:
        worker = Worker.from_settings(settings, **options)
        try:
            return await worker.run_until_idle()
        finally:
            await worker.aclose()

    return asyncio.run(run())


def endpoint_payload_errors(body: dict[str, Any]) -> list[str]:
    """How a delivered event breaks the spec's declaration of its type in `webhooks:` (empty when it conforms)."""
    import jsonschema_rs

    from server.openapi.specification import raw_document

    document = raw_document()
    assert body["type"] in document["webhooks"], f"{body['type']} is not declared in the spec's webhooks"
    pointer = f"#/webhooks/{body['type']}/post/requestBody/content/application~1json/schema"
    validator = jsonschema_rs.Draft202012Validator({**document, "$ref": pointer}, validate_formats=True)
    return [error.message for error in validator.iter_errors(body)]
