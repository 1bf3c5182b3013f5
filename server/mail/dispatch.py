"""Sending queued messages after commit, at least once, with retries for transient provider errors.

A batch is claimed in one short transaction (a lease: `next_attempt_at` moves `LEASE` into the future, with
`SKIP LOCKED` on PostgreSQL so several workers never take the same rows), sent without holding locks, then each
outcome is recorded on its own. A worker that dies mid-send leaves the lease, which expires, and the message is
sent again: a provider may then see it twice, never zero times.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from server.config import Settings
from server.db.engine import session_scope
from server.db.models.mail import OutboundMessage
from server.db.types import utcnow
from server.mail.outbox import EMAIL
from server.mail.providers import Email, EmailProvider, Mailgun, SendError, Whapi, WhatsAppProvider

log = logging.getLogger("og.mail")

LEASE = timedelta(minutes=2)  # longer than a provider call may take (15 s timeout)
# After the first attempt: retry after 1 min, 5 min, 30 min, 2 h, 6 h; then the message has failed.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)

FailureHandler = Callable[[Session, OutboundMessage], None]


@dataclass
class Providers:
    email: EmailProvider | None
    whatsapp: WhatsAppProvider | None

    @classmethod
    def from_settings(cls, settings: Settings) -> "Providers":
        return cls(email=Mailgun.from_settings(settings), whatsapp=Whapi.from_settings(settings))


def claim(session: Session, *, now: datetime, limit: int) -> list[OutboundMessage]:
    statement = (
        select(OutboundMessage)
        .where(col(OutboundMessage.status) == "queued", col(OutboundMessage.next_attempt_at) <= now)
        .order_by(col(OutboundMessage.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = list(session.exec(statement).all())
    for message in messages:
        message.attempts += 1
        message.next_attempt_at = now + LEASE
        message.updated_at = now
        session.add(message)
    return messages


def _send(message: OutboundMessage, providers: Providers) -> str:
    if message.channel == EMAIL:
        if providers.email is None:
            raise SendError("no email provider is configured", permanent=False)
        return providers.email.send(
            Email(
                to=message.recipient,
                subject=message.subject,
                text=message.text_body,
                html=message.html_body,
                tag=message.tag,
                variables=dict(message.variables),
            )
        )
    if providers.whatsapp is None:
        raise SendError("no WhatsApp provider is configured", permanent=False)
    return providers.whatsapp.send_text(message.recipient, message.text_body)


def record(
    session: Session,
    message_id: str,
    *,
    provider_id: str | None,
    error: SendError | None,
    now: datetime,
    on_failure: dict[str, FailureHandler],
) -> None:
    message = session.get(OutboundMessage, message_id)
    if message is None or message.status != "queued":
        return
    message.updated_at = now
    if error is None:
        message.status, message.sent_at, message.next_attempt_at = "sent", now, None
        message.provider_message_id = provider_id
        message.last_error = None
    else:
        message.last_error = error.detail
        retries_used = message.attempts - 1
        if not error.permanent and retries_used < len(RETRY_DELAYS):
            message.next_attempt_at = now + RETRY_DELAYS[retries_used]
        else:
            message.status, message.next_attempt_at = "failed", None
            handler = on_failure.get(message.kind)
            if handler is not None:
                handler(session, message)
    session.add(message)


def dispatch_due(providers: Providers, *, on_failure: dict[str, FailureHandler] | None = None, limit: int = 32) -> int:
    """Send what is due now; returns how many messages were attempted."""
    with session_scope() as session:
        # Committed before anything is sent: the lease holds while this worker talks to the provider.
        claimed = [(m.id, m) for m in claim(session, now=utcnow(), limit=limit)]
    for message_id, message in claimed:
        provider_id: str | None = None
        error: SendError | None = None
        try:
            provider_id = _send(message, providers)
        except SendError as exc:
            error = exc
            log.warning("sending %s %s failed: %s", message.channel, message_id, exc.detail)
        try:
            with session_scope() as session:
                record(
                    session, message_id, provider_id=provider_id, error=error, now=utcnow(), on_failure=on_failure or {}
                )
        except Exception:
            # The lease expires and the message is tried again.
            log.exception("recording the outcome of message %s failed", message_id)
    return len(claimed)
