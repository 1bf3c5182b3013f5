"""The sandbox outbox's messages as integrators read them: the invitation link a message carries."""

import re

from server.db.models.mail import OutboundMessage

_INVITATION_LINK = re.compile(r"https?://\S+/invitations/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")


def invitation_link(message: OutboundMessage) -> str | None:
    if message.kind != "invitation":
        return None
    found = _INVITATION_LINK.search(message.text_body)
    return found.group(0) if found else None
