"""Notices the platform emails to an account's owner, through the outbox (written in the transaction of their
cause, sent after commit)."""

from sqlmodel import Session, col, select

from server.db.models.accounts import Account, User
from server.db.models.webhooks import WebhookEndpoint
from server.mail import compose, outbox


def owner_email(session: Session, account_id: str) -> str | None:
    """The account's first user: the one who signed it up."""
    user = session.exec(select(User).where(col(User.account_id) == account_id).order_by(col(User.id))).first()
    return user.email if user else None


def endpoint_disabled(session: Session, endpoint: WebhookEndpoint, reason: str, *, language: str = "en") -> None:
    """Tell the owner that deliveries to an endpoint stopped (410 Gone, or five days of failures)."""
    recipient = owner_email(session, endpoint.account_id)
    if recipient is None:
        return
    account = session.get(Account, endpoint.account_id)
    rendered = compose.render(
        "endpoint_disabled",
        language,
        account=account.name if account else endpoint.account_id,
        url=endpoint.url,
        environment=endpoint.environment,
        reason=reason,
    )
    outbox.enqueue(
        session,
        account_id=endpoint.account_id,
        environment=endpoint.environment,
        channel=outbox.EMAIL,
        kind="endpoint_disabled",
        recipient=recipient,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        variables={"account_id": endpoint.account_id, "endpoint_id": endpoint.id},
    )
