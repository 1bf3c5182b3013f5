"""`POST /webhook-endpoints/{id}/test`: a `webhook.test` event sent now, to one endpoint, from the request itself."""

import asyncio

import httpx

from server.db.engine import session_scope, settings
from server.db.models.webhooks import WebhookAttempt
from server.db.types import utcnow
from server.principal import Principal
from server.services import events, webhook_endpoints
from server.webhooks import queue, sender
from server.webhooks.clock import SystemClock
from server.webhooks.egress import GuardedTransport

TEST_MESSAGE = "This is a test event from OG Records."


def send_test(principal: Principal, endpoint_id: str) -> WebhookAttempt:
    server = settings()
    with session_scope() as session:
        endpoint = webhook_endpoints.get(session, principal, endpoint_id)
        now = utcnow()
        event = events.emit_for(
            session,
            principal.account_id,
            principal.environment,
            "webhook.test",
            {"object": "webhook_test", "endpoint_id": endpoint.id, "message": TEST_MESSAGE},
        )
        session.flush()
        job = queue.test_job(session, endpoint, event, now=now, server_key=server.secret_key)
    # Committed before sending: the attempt is in the log even if this request dies mid-delivery.
    outcome = asyncio.run(_send(job, allow_loopback=server.webhooks_allow_loopback))
    with session_scope() as session:
        queue.record(session, job, outcome, now=utcnow())
    with session_scope() as session:
        attempt = session.get(WebhookAttempt, job.pending_attempt_id)
        assert attempt is not None
        return attempt


async def _send(job: queue.Job, *, allow_loopback: bool) -> sender.Outcome:
    transport = GuardedTransport(allow_loopback=allow_loopback, max_connections=1)
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        return await sender.send(
            client, url=job.url, message_id=job.event_id, body=job.body, secrets=job.secrets, clock=SystemClock()
        )
