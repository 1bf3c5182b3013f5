"""Webhooks the platform receives from its providers (never called by integrators).

Thin on purpose: each handler reads the raw body (kept by the body validator, `server.openapi.validators.raw_body`)
and the headers, hands them to the inbound pipeline with that sender's provider
(`server.services.inbound_webhooks`: verify → dedupe → record → apply), and maps the outcome to the answer. The
pipeline's database work runs in the thread pool.
"""

from typing import Any

import connexion
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from server import config
from server.api.responses import json_response
from server.db.engine import settings
from server.openapi.validators import raw_body
from server.request_context import request_id_var
from server.services import inbound_webhooks as inbound
from server.services.inbound_webhooks.dsp import DspProvider
from server.services.inbound_webhooks.mailgun import MailgunProvider
from server.services.inbound_webhooks.stripe import StripeProvider
from server.services.inbound_webhooks.whapi import WhapiProvider
from server.services.inbound_webhooks.wise import WiseProvider

__all__ = [
    "receive_dsp_sync_webhook",
    "receive_mailgun_webhook",
    "receive_stripe_webhook",
    "receive_whapi_webhook",
    "receive_wise_webhook",
]


def _answer(duplicate: bool, background: BackgroundTask | None = None) -> Any:
    if background is None:
        return json_response({"received": True, "duplicate": duplicate})
    body = b'{"received":true,"duplicate":%s}' % (b"true" if duplicate else b"false")
    return Response(
        body, media_type="application/json", headers={"X-Request-Id": request_id_var.get()}, background=background
    )


def _headers() -> dict[str, str]:
    """The request's headers by lower-case name; of a repeated header the first, as `Headers.get` answers."""
    return {name.lower(): value for name, value in reversed(connexion.request.headers.items())}


async def _receive(provider: inbound.InboundProvider[Any]) -> Any:
    # A refused delivery raises `InboundError`, a domain error: `server.errors` answers it with its catalogued code.
    outcome = await run_in_threadpool(inbound.receive, provider, _headers(), raw_body())
    if outcome.after_answer is None:
        return _answer(outcome.duplicate)
    # The sender wants its answer fast (Wise: within 5 s): what the event changes happens after it is sent.
    return _answer(outcome.duplicate, BackgroundTask(run_in_threadpool, outcome.after_answer))


async def receive_wise_webhook(body: dict[str, Any]) -> Any:
    return await _receive(WiseProvider(config.active().wise_webhook_public_key))


async def receive_stripe_webhook(body: dict[str, Any]) -> Any:
    return await _receive(StripeProvider(config.active().stripe_webhook_secrets))


async def receive_mailgun_webhook(body: dict[str, Any]) -> Any:
    return await _receive(MailgunProvider(config.active().mailgun_webhook_signing_key))


async def receive_whapi_webhook(body: dict[str, Any]) -> Any:
    return await _receive(WhapiProvider(config.active().whapi_webhook_tokens))


async def receive_dsp_sync_webhook(**_params: Any) -> Any:
    return await _receive(DspProvider(settings().dsp_sync_secrets))
