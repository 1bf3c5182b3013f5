"""The DSP sub-distributor's inbound webhook (operation receiveDspSyncWebhook, bound via
`server.api.inbound_webhooks`)."""

import logging
from typing import Any

import connexion
from connexion.lifecycle import ConnexionResponse

from server import strict_json
from server.api.responses import json_response
from server.clock import now
from server.db.engine import session_scope, settings
from server.openapi.validators import raw_body
from server.problems import ApiProblem
from server.services import dsp_sync
from server.webhooks.verify import SignatureError, verify

log = logging.getLogger(__name__)


def _process(message_id: str, payload: dict[str, Any]) -> ConnexionResponse:
    with session_scope() as session:
        outcome = dsp_sync.process_and_announce(session, message_id, payload)
    return json_response({"received": True, "duplicate": outcome.duplicate})


def receive_dsp_sync_webhook(**_params: Any) -> ConnexionResponse:
    body = raw_body()
    headers = connexion.request.headers
    message_id = headers.get("webhook-id", "")
    try:
        # Raw bytes, before anything is parsed into storage: a body re-serialised by us would not verify.
        verify(
            settings().dsp_sync_secrets,
            message_id=message_id,
            timestamp=headers.get("webhook-timestamp", ""),
            signature_header=headers.get("webhook-signature", ""),
            body=body,
            now=now(),
        )
    except SignatureError as exc:
        log.warning("dsp sync: refused message %r: %s", message_id[:255], exc)
        raise ApiProblem(400, "invalid_signature", "The webhook signature did not verify.") from exc
    return _process(message_id, strict_json.loads(body))
