"""A worker in another process hears new work from PostgreSQL's own notification at commit, not at its next poll."""

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from server.config import Settings
from server.db.engine import session_scope
from server.webhooks import wakeup
from server.webhooks.worker import Worker
from tests.conftest import Tenant
from tests.webhooks.receiver import running_receiver

ROOT = Path(__file__).resolve().parents[2]

# Another process commits an event; only a notification can tell this process's worker about it.
_COMMIT_ELSEWHERE = """
import sys
from server.config import Settings
from server.db import engine as db
from server.db.engine import session_scope
from server.principal import Principal
from server.services import events
db.configure(Settings.from_env())
principal = Principal(sys.argv[1], "sandbox", frozenset(), sys.argv[2], "api_key")
with session_scope() as session:
    events.emit(session, principal, "person.created", {"id": "per_elsewhere", "object": "person"})
"""


def _listening() -> bool:
    with session_scope() as session:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE query = :listen")
        return bool(session.execute(query, {"listen": f"LISTEN {wakeup.CHANNEL}"}).scalar())


def test_a_worker_in_another_process_is_woken_by_the_commit(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    if wakeup.listen_url(settings.database_url) is None:
        pytest.skip("SQLite has no notifications: a worker of another process finds work by polling")
    with running_receiver() as receiver:
        body = {"url": receiver.url, "enabled_events": ["person.created"]}
        assert client.post("/api/v1/webhook-endpoints", json=body, headers=tenant.headers).status_code == 201
        stop = threading.Event()

        def run_worker() -> None:
            async def main() -> None:
                # Polling once a minute: a delivery within seconds can only come from the notification.
                worker = Worker.from_settings(settings, poll_seconds=60)
                halt = asyncio.Event()
                task = asyncio.create_task(worker.run_forever(halt))
                await asyncio.to_thread(stop.wait)
                halt.set()
                await task
                await worker.aclose()

            asyncio.run(main())

        thread = threading.Thread(target=run_worker)
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while not _listening():
                assert time.monotonic() < deadline, "the worker never listened"
                time.sleep(0.05)
            time.sleep(0.5)  # past the worker's first (empty) round, into its minute-long wait
            env = {
                **os.environ,
                "OG_DATABASE_URL": settings.database_url,
                "OG_SECRET_KEY": settings.secret_key,
                "OG_DATA_DIR": str(settings.data_dir),
            }
            subprocess.run(
                [sys.executable, "-c", _COMMIT_ELSEWHERE, tenant.account_id, tenant.key_id],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=120,
            )
            committed = time.monotonic()
            while not receiver.requests:
                assert time.monotonic() < committed + 20, "no delivery: the worker was not woken by the commit"
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert b"per_elsewhere" in receiver.requests[0].body
