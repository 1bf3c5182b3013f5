"""Accounts and their users."""

import secrets

from argon2 import PasswordHasher
from sqlmodel import Session, col, select

from server.db.models.accounts import Account, User
from server.ids import new_id
from server.problems import ApiProblem

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

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
) -> tuple[Account, User, str]:
    """A new account with its first user. Returns the password too (generated unless given): shown once."""
    if plan not in PLANS:
        raise ApiProblem(422, "validation_failed", f"Unknown plan {plan!r}; choose one of {', '.join(PLANS)}.")
    if session.exec(select(User).where(col(User.email) == email.lower())).first() is not None:
        raise ApiProblem(409, "conflict", f"A user with the email {email} exists already.")
    password = password or secrets.token_urlsafe(18)
    account = Account(id=new_id("acct"), name=name, plan=plan, kind=kind, production_access=production_access)
    user = User(id=new_id("usr"), account_id=account.id, email=email.lower(), password_hash=_hasher.hash(password))
    session.add(account)
    session.flush()
    session.add(user)
    session.flush()
    return account, user, password


def find_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise ApiProblem(404, "not_found", f"No account with id {account_id} exists.")
    return account


def grant_production(session: Session, account_id: str) -> Account:
    account = find_account(session, account_id)
    account.production_access = True
    session.add(account)
    return account


def set_plan(session: Session, account_id: str, plan: str) -> Account:
    """Change the account's plan; rate limits follow on the next request (they read the plan per request)."""
    if plan not in PLANS:
        raise ApiProblem(422, "validation_failed", f"Unknown plan {plan!r}; choose one of {', '.join(PLANS)}.")
    account = find_account(session, account_id)
    account.plan = plan
    session.add(account)
    return account
