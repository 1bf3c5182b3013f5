"""Requests for production access (early access): a person asks from the dashboard, an operator reads the open
requests (`og-server accounts requests`) and grants with `og-server accounts grant-production`."""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from server import config
from server.db.models.accounts import Account, User
from server.db.models.dashboard import ProductionAccessRequest
from server.domain.errors import DomainError, FieldError
from server.ids import new_id
from server.mail import compose, outbox
from server.services import accounts


def request_access(session: Session, user: User, *, use_case: str, expected_volume: str) -> ProductionAccessRequest:
    account = session.get(Account, user.account_id)
    if account is not None and account.production_access:
        raise DomainError("conflict", "This account has production access already.")
    errors = []
    if len(use_case.strip()) < 10:
        errors.append(FieldError("too_short", "/use_case", "Describe your use case in a sentence or two."))
    if not expected_volume.strip():
        errors.append(FieldError("required", "/expected_volume", "Tell us the volume you expect."))
    if errors:
        raise DomainError("validation_failed", errors[0].detail, errors=errors)
    request = ProductionAccessRequest(
        id=new_id("par"),
        account_id=user.account_id,
        user_id=user.id,
        use_case=use_case.strip()[:2000],
        expected_volume=expected_volume.strip()[:200],
    )
    session.add(request)
    session.flush()
    return request


def latest_for(session: Session, account_id: str) -> ProductionAccessRequest | None:
    statement = select(ProductionAccessRequest).where(col(ProductionAccessRequest.account_id) == account_id)
    return session.exec(statement.order_by(col(ProductionAccessRequest.created_at).desc())).first()


def open_requests(session: Session) -> Sequence[tuple[ProductionAccessRequest, Account, User]]:
    """Requests of accounts that do not have production access yet, oldest first (what an operator works through)."""
    statement = (
        select(ProductionAccessRequest, Account, User)
        .join(Account, col(Account.id) == col(ProductionAccessRequest.account_id))
        .join(User, col(User.id) == col(ProductionAccessRequest.user_id))
        .where(col(Account.production_access).is_(False))
        .order_by(col(ProductionAccessRequest.created_at))
    )
    return session.exec(statement).all()


def grant(session: Session, account_id: str) -> Account:
    """Grant production access (the operator's `og-server accounts grant-production`). When the account was waiting
    on a request, everyone who asked is emailed, in the same transaction as the grant."""
    account = accounts.find_account(session, account_id)
    was_waiting = not account.production_access
    accounts.grant_production(session, account_id)
    if not was_waiting:
        return account
    statement = (
        select(User)
        .join(ProductionAccessRequest, col(ProductionAccessRequest.user_id) == col(User.id))
        .where(col(ProductionAccessRequest.account_id) == account_id)
        .distinct()
    )
    for user in session.exec(statement).all():
        rendered = compose.render(
            "production_access_granted", "en", account=account.name, link=f"{config.active().base_url}/dashboard"
        )
        outbox.enqueue(
            session,
            account_id=account.id,
            environment="production",
            channel=outbox.EMAIL,
            kind="production_access_granted",
            recipient=user.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            variables={"user_id": user.id},
        )
    return account
