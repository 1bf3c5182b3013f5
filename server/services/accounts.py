"""Accounts and their users."""

import secrets
from datetime import UTC, datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from server import config
from server.db.models.accounts import Account, User
from server.domain.errors import DomainError
from server.ids import new_id

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def dummy_hash() -> str:
    """A hash of a password no one knows, verified against when the email is unknown, so an unknown email costs as
    long as a wrong password (the same hasher, so the same parameters).

    Made on first use, not at import: argon2id allocates its memory cost (64 MiB) for each hash, and two such
    hashes at import (this one and the OAuth sign-in's) were the server's peak RSS, ≈225 MB against ≈165 MB once
    started (issue 22).
    """
    return _hasher.hash(secrets.token_urlsafe(16))


PLANS = ("free", "business")


def create_account(
    session: Session,
    *,
    name: str,
    email: str,
    password: str | None,
    plan: str = "free",
    kind: str = "artist",
    production_access: bool = False,
    mock_data: bool | None = None,
) -> tuple[Account, User, str]:
    """A new account with its first user. Returns the password too (generated unless given): shown once.

    Its sandbox starts with mock data (`server.services.mock_data`: a catalogue, splits, a year of earnings,
    payouts, smart links), in this same transaction, unless `mock_data` is False. Production always starts empty.
    """
    if plan not in PLANS:
        raise DomainError("validation_failed", f"Unknown plan {plan!r}; choose one of {', '.join(PLANS)}.")
    if session.exec(select(User).where(col(User.email) == email.lower())).first() is not None:
        raise DomainError("conflict", f"A user with the email {email} exists already.")
    password = password or secrets.token_urlsafe(18)
    account = Account(id=new_id("acct"), name=name, plan=plan, kind=kind, production_access=production_access)
    user = User(id=new_id("usr"), account_id=account.id, email=email.lower(), password_hash=_hasher.hash(password))
    session.add(account)
    session.flush()
    session.add(user)
    session.flush()
    wanted = config.active().sandbox_mock_data if mock_data is None else mock_data
    if wanted:
        from server.services import mock_data as sandbox_mock_data  # noqa: PLC0415 - it imports most services

        sandbox_mock_data.populate(session, account)
    return account, user, password


def verify_password(session: Session, email: str, password: str) -> User | None:
    """The user with this email and password, or None; the same answer and the same work for an unknown email."""
    user = session.exec(select(User).where(col(User.email) == email.strip().lower())).first()
    try:
        _hasher.verify(user.password_hash if user else dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(col(User.email) == email.strip().lower())).first()


def set_password(session: Session, user: User, password: str) -> None:
    """A new argon2id hash for the user's password (the caller checked the rules)."""
    user.password_hash = _hasher.hash(password)
    session.add(user)


def find_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise DomainError("not_found", f"No account with id {account_id} exists.")
    return account


def grant_production(session: Session, account_id: str) -> Account:
    account = find_account(session, account_id)
    account.production_access = True
    session.add(account)
    return account


def set_plan(session: Session, account_id: str, plan: str) -> Account:
    """Change the account's plan; rate limits follow on the next request (they read the plan per request)."""
    if plan not in PLANS:
        raise DomainError("validation_failed", f"Unknown plan {plan!r}; choose one of {', '.join(PLANS)}.")
    account = find_account(session, account_id)
    account.plan = plan
    session.add(account)
    return account


# Stripe subscription statuses that pay for the business plan; `past_due` keeps the plan while Stripe retries the
# charge (its dunning ends in `canceled` or `unpaid`, which downgrade).
_PAYING = frozenset({"active", "trialing", "past_due"})
_SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.resumed",
        "customer.subscription.paused",
        "customer.subscription.deleted",
    }
)
_INVOICE_PAID = frozenset({"invoice.paid", "invoice.payment_succeeded"})


def plan_from_stripe_event(event: dict[str, Any]) -> str | None:
    """The plan a Stripe event puts the account on, or None when the event says nothing about it."""
    kind = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if kind in {"customer.subscription.deleted", "customer.subscription.paused"}:
        return "free"
    if kind in _SUBSCRIPTION_EVENTS:
        return "business" if obj.get("status") in _PAYING else "free"
    if kind in _INVOICE_PAID and obj.get("subscription"):
        return "business"
    return None


def _stripe_account(session: Session, obj: dict[str, Any]) -> Account | None:
    """The account a Stripe object belongs to: by customer id, or (first event of a new customer) by the
    `og_account_id` metadata our checkout puts on the subscription, which then links the customer."""
    customer = obj.get("customer")
    if isinstance(customer, str) and customer:
        account = session.exec(select(Account).where(col(Account.stripe_customer_id) == customer)).first()
        if account is not None:
            return account
    metadata = obj.get("metadata") or (obj.get("subscription_details") or {}).get("metadata") or {}
    account_id = metadata.get("og_account_id") if isinstance(metadata, dict) else None
    if not isinstance(account_id, str):
        return None
    account = session.get(Account, account_id)
    if account is not None and isinstance(customer, str) and customer and account.stripe_customer_id is None:
        account.stripe_customer_id = customer
    return account


def apply_stripe_event(session: Session, event: dict[str, Any]) -> Account | None:
    """Move the account between free and business. Stripe does not guarantee order: an event created before the
    last one applied is ignored. Returns the account whose plan was set, if any."""
    plan = plan_from_stripe_event(event)
    if plan is None:
        return None
    account = _stripe_account(session, (event.get("data") or {}).get("object") or {})
    if account is None:
        return None
    created = datetime.fromtimestamp(int(event.get("created") or 0), UTC)
    if account.plan_changed_at is not None and created < account.plan_changed_at:
        return None
    account.plan_changed_at = created
    session.add(account)
    return set_plan(session, account.id, plan)
