"""Mailgun: a permanent failure, complaint or unsubscribe marks the address undeliverable and fails the pending
invitations sent to it (`person.invitation_failed`).

The signature is in the body: `signature.signature` = hex HMAC-SHA256(signing key, `timestamp + token`). The token
is the replay guard and the dedupe key: a token seen before is never processed again; stale timestamps are refused.
"""

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from server import clock
from server.representations.persons import represent as represent_person
from server.services import events, persons
from server.services.inbound_webhooks.pipeline import InboundProvider, Receipt, SignatureError, parse_json

MAX_AGE = timedelta(minutes=15)

# Mailgun events that mean "stop emailing this address" (besides a permanent `failed`).
_UNDELIVERABLE = frozenset({"complained", "unsubscribed"})


def verify_signature(document: dict[str, Any], signing_key: str | None) -> str:
    """Returns the token (the replay/dedupe id)."""
    if not signing_key:
        raise SignatureError("Mailgun webhooks are not configured on this server (OG_MAILGUN_WEBHOOK_SIGNING_KEY).")
    signature = document.get("signature")
    if not isinstance(signature, dict):
        raise SignatureError("The body has no signature object.")
    timestamp, token, given = (str(signature.get(k) or "") for k in ("timestamp", "token", "signature"))
    if not timestamp.isdigit() or not token or not given:
        raise SignatureError("The signature object is incomplete.")
    expected = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise SignatureError("The signature does not match timestamp and token.")
    if abs(clock.now().timestamp() - int(timestamp)) > MAX_AGE.total_seconds():
        raise SignatureError("The signature timestamp is stale.")
    return token


def undeliverable(data: dict[str, Any]) -> bool:
    kind = data.get("event")
    return kind in _UNDELIVERABLE or (kind == "failed" and data.get("severity") == "permanent")


def reason(data: dict[str, Any]) -> str:
    """Mailgun's own words for why the address is lost, for the account to read in getPerson."""
    kind = str(data.get("event") or "")
    if kind == "complained":
        return "The recipient reported our email as spam (Mailgun: complained)."
    if kind == "unsubscribed":
        return "The recipient unsubscribed from our email (Mailgun: unsubscribed)."
    found = data.get("delivery-status")
    status: dict[str, Any] = found if isinstance(found, dict) else {}
    words = str(status.get("description") or status.get("message") or data.get("reason") or "permanent failure")
    code = status.get("code")
    return f"Mailgun: permanent failure ({code} {words})" if code else f"Mailgun: permanent failure ({words})"


@dataclass(frozen=True)
class MailgunEvent:
    token: str
    data: dict[str, Any]  # the body's `event-data`


class MailgunProvider(InboundProvider[MailgunEvent]):
    name = "mailgun"

    def __init__(self, signing_key: str | None) -> None:
        self.signing_key = signing_key

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> Sequence[MailgunEvent]:
        document = parse_json(raw_body)  # the signature is inside the body
        token = verify_signature(document, self.signing_key)
        data = document.get("event-data")
        return [MailgunEvent(token, data if isinstance(data, dict) else {})]

    def dedupe_key(self, event: MailgunEvent) -> str:
        return event.token

    def receipt(self, session: Session, event: MailgunEvent) -> Receipt:
        # The signature is not kept.
        return Receipt(
            event_type=str(event.data.get("event") or ""), environment=None, payload={"event-data": event.data}
        )

    def apply(self, session: Session, event: MailgunEvent) -> None:
        recipient = event.data.get("recipient")
        if not (undeliverable(event.data) and isinstance(recipient, str) and recipient):
            return
        for person in persons.mark_email_undeliverable(session, recipient, reason(event.data)):
            events.emit_for(
                session,
                person.account_id,
                person.environment,
                "person.invitation_failed",
                represent_person(person),
            )
