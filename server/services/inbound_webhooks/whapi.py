"""whapi.cloud: WhatsApp messages and delivery statuses, each kept once and tied to the persons with the sender's
phone number.

whapi publishes no signing scheme: each channel posts with a long random token in `X-Whapi-Token`, compared in
constant time with every configured one. One delivery may carry several messages and statuses; each is its own
event, deduplicated on its id. Keeping the item with the persons it belongs to is the whole effect.
"""

import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from server.services import persons
from server.services.inbound_webhooks.pipeline import InboundProvider, Receipt, SignatureError, parse_json


def verify_token(token: str | None, configured: Iterable[str]) -> None:
    configured = [t for t in configured if t]
    if not configured:
        raise SignatureError("whapi.cloud webhooks are not configured on this server (OG_WHAPI_WEBHOOK_TOKENS).")
    given = (token or "").encode()
    matches = [hmac.compare_digest(given, t.encode()) for t in configured]
    if not any(matches):
        raise SignatureError("The X-Whapi-Token header does not match a configured channel token.")


@dataclass(frozen=True)
class WhapiItem:
    kind: str  # the delivery's event type (`messages`, `statuses`)
    channel_id: Any
    item: dict[str, Any]
    phone: Any  # the message's `from` or the status's `recipient_id`


class WhapiProvider(InboundProvider[WhapiItem]):
    name = "whapi"

    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens = tuple(tokens)

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> Sequence[WhapiItem]:
        verify_token(headers.get("x-whapi-token"), self.tokens)
        document = parse_json(raw_body)
        kind = str((document.get("event") or {}).get("type") or "")
        channel = document.get("channel_id")
        items = [
            WhapiItem(kind, channel, message, message.get("from"))
            for message in document.get("messages") or []
            if isinstance(message, dict)
        ]
        items += [
            WhapiItem(kind, channel, status, status.get("recipient_id"))
            for status in document.get("statuses") or []
            if isinstance(status, dict)
        ]
        return items

    def dedupe_key(self, event: WhapiItem) -> str | None:
        return str(event.item.get("id") or "") or None  # an item without an id cannot be kept

    def receipt(self, session: Session, event: WhapiItem) -> Receipt:
        matched = persons.find_by_phone(session, event.phone) if isinstance(event.phone, str) else []
        return Receipt(
            event_type=event.kind,
            environment=None,
            payload={
                "channel_id": event.channel_id,
                "item": event.item,
                "persons": [{"id": p.id, "account_id": p.account_id, "environment": p.environment} for p in matched],
            },
        )

    def apply(self, session: Session, event: WhapiItem) -> None:
        """Nothing beyond the receipt: it ties the item to its persons for whoever reads the conversation."""
