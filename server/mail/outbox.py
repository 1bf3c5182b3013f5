"""Writing messages into the outbox, in the caller's transaction, and reading it back."""

from typing import Any

from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from server import config
from server.db.models.mail import OutboundMessage
from server.db.types import utcnow
from server.ids import new_id
from server.webhooks import wakeup

EMAIL, WHATSAPP = "email", "whatsapp"


def _configured(channel: str) -> bool:
    settings = config.active()
    if channel == EMAIL:
        return bool(settings.mailgun_api_key and settings.mailgun_domain)
    return bool(settings.whapi_api_token)


def enqueue(
    session: Session,
    *,
    account_id: str,
    environment: str,
    channel: str,
    kind: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    person_id: str | None = None,
    variables: dict[str, Any] | None = None,
) -> OutboundMessage:
    """One message, written in the caller's transaction; sent by the worker after commit (never in the sandbox)."""
    now = utcnow()
    message_id = new_id("msg")
    if environment == "sandbox":
        status = "sandbox"
    elif _configured(channel):
        status = "queued"
    else:
        status = "local"
    message = OutboundMessage(
        id=message_id,
        account_id=account_id,
        environment=environment,
        channel=channel,
        kind=kind,
        recipient=recipient,
        person_id=person_id,
        subject=subject,
        text_body=text,
        html_body=html,
        tag=kind,
        variables={"message_id": message_id, **(variables or {})},
        status=status,
        next_attempt_at=now if status == "queued" else None,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    if status == "queued" and not session.info.get("_og_mail_wakeup"):
        # Wake the embedded worker once the message is committed instead of at its next poll.
        session.info["_og_mail_wakeup"] = True
        sa_event.listen(session, "after_commit", _after_commit, once=True)
    if status == "queued":
        wakeup.notify_in_transaction(session)  # workers in other processes (PostgreSQL)
    return message


def _after_commit(session: Session, *_args: Any) -> None:
    session.info.pop("_og_mail_wakeup", None)
    wakeup.notify()


def recent(session: Session, *, status: str | None = None, limit: int = 50) -> list[OutboundMessage]:
    """The newest messages first (the operator's `og-server mail list`)."""
    statement = select(OutboundMessage).order_by(col(OutboundMessage.id).desc()).limit(limit)
    if status is not None:
        statement = statement.where(col(OutboundMessage.status) == status)
    return list(session.exec(statement).all())


def find(session: Session, message_id: str) -> OutboundMessage | None:
    return session.get(OutboundMessage, message_id)
