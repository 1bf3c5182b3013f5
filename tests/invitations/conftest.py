"""Invitation tests start with nothing due: no webhook delivery and no queued message left by earlier tests (on the
shared database) reaches this test's stand-ins."""

import pytest
from sqlalchemy import update
from sqlmodel import col

from server.config import Settings
from tests.webhooks.conftest import quiet_queue

__all__ = ["quiet_outbox", "quiet_queue"]


@pytest.fixture(autouse=True)
def quiet_outbox(request: pytest.FixtureRequest) -> None:
    if "settings" not in request.fixturenames:
        return
    from server.db import engine as db
    from server.db.engine import session_scope
    from server.db.models.mail import OutboundMessage

    settings: Settings = request.getfixturevalue("settings")
    request.getfixturevalue("app")  # migrated
    db.configure(settings)
    with session_scope() as session:
        session.execute(
            update(OutboundMessage).where(col(OutboundMessage.status) == "queued").values(next_attempt_at=None)
        )
