"""The sandbox outbox's message object."""

from typing import Any

from server.db.models.mail import OutboundMessage
from server.domain.outbox import invitation_link
from server.timefmt import rfc3339


def represent(message: OutboundMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "object": "outbox_message",
        "environment": message.environment,
        "channel": message.channel,
        "kind": message.kind,
        "to": message.recipient,
        "person_id": message.person_id,
        "subject": message.subject,
        "text": message.text_body,
        "html": message.html_body,
        "link": invitation_link(message),
        "status": message.status,
        "created_at": rfc3339(message.created_at),
    }
