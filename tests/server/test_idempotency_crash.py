"""Crash-safe idempotency (issue 23 #1): a real server process killed with SIGKILL after the payout committed but
before its response was stored or sent; the retry with the same key must not pay out a second time."""

import signal
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select, update

from server.config import Settings
from server.db.engine import session_scope
from server.db.models.idempotency import IdempotencyRecord
from server.db.models.payouts import Payout
from server.db.types import utcnow
from server.idempotency import FAULT_ENV
from tests.conftest import Tenant, server_env, start_server, stop_server
from tests.server.payouts_helpers import fund

pytestmark = pytest.mark.slow


def _payouts(tenant: Tenant) -> list[Payout]:
    with session_scope() as session:
        return list(session.exec(select(Payout).where(col(Payout.account_id) == tenant.account_id)).all())


def _env(settings: Settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    return server_env(
        tmp_path,
        settings.database_url,
        OG_SECRET_KEY=settings.secret_key,
        OG_RATE_LIMIT_MULTIPLIER="1000",
        OG_WEBHOOKS_EMBEDDED_WORKER="0",
        OG_QC_IN_PROCESS="0",
        **extra,
    )


def test_a_retry_after_a_crash_between_commit_and_response_never_pays_twice(
    client: object, tenant: Tenant, settings: Settings, tmp_path: Path
) -> None:
    fund(tenant.account_id, "sandbox", "100.00")
    headers = {**tenant.headers, "Idempotency-Key": "crash-payout-1"}
    body = {"amount": "20.00", "currency": "EUR"}

    doomed = start_server(_env(settings, tmp_path, **{FAULT_ENV: "crash-"}), ["serve", "--no-seed"])
    try:
        with pytest.raises(httpx.TransportError):  # the process dies before it answers
            httpx.post(doomed.base_url + "/api/v1/payouts/request", json=body, headers=headers, timeout=30)
        assert doomed.process.wait(timeout=30) == -signal.SIGKILL
    finally:
        stop_server(doomed)
    [payout] = _payouts(tenant)  # the work committed ...
    assert payout.amount == 20
    server = start_server(_env(settings, tmp_path), ["serve", "--no-seed"])
    try:
        url = server.base_url + "/api/v1/payouts/request"
        soon = httpx.post(url, json=body, headers=headers, timeout=30)
        assert soon.status_code == 409, soon.text
        assert soon.json()["code"] == "idempotency_key_in_use"
        assert soon.headers["retry-after"] == "1"

        with session_scope() as session:  # the original request is now long dead
            session.exec(
                update(IdempotencyRecord)
                .where(col(IdempotencyRecord.key) == "crash-payout-1")
                .values(created_at=utcnow() - timedelta(minutes=5))
            )
        late = httpx.post(url, json=body, headers=headers, timeout=30)
        assert len(_payouts(tenant)) == 1, "the retry paid out a second time"
        assert late.status_code == 409, late.text
        assert late.json()["code"] == "idempotency_response_lost"
        with session_scope() as session:  # the key was marked in the transaction of the payout itself
            [record] = session.exec(
                select(IdempotencyRecord).where(col(IdempotencyRecord.key) == "crash-payout-1")
            ).all()
            assert record.status == "committed"

        fresh = httpx.post(url, json=body, headers={**headers, "Idempotency-Key": "after-crash-2"}, timeout=30)
        assert fresh.status_code == 201, fresh.text
        replay = httpx.post(url, json=body, headers={**headers, "Idempotency-Key": "after-crash-2"}, timeout=30)
        assert replay.status_code == 201
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == fresh.json()
    finally:
        output = stop_server(server)
    assert "Traceback" not in output
    assert sorted(p.id for p in _payouts(tenant)) == sorted([payout.id, fresh.json()["id"]])
