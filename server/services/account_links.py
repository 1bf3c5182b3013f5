"""Single-use links emailed to a dashboard user: a password reset (valid for an hour) and the email verification
(valid for a week).

A link carries 256 random bits; `user_tokens` keeps only their SHA-256, so reading the table opens no link, and the
access log redacts the paths (`server.middleware`). Issuing a new link of a purpose voids the user's earlier ones of
that purpose; a used or expired link does nothing. The messages go through the outbox in the caller's transaction,
as the platform's own mail (environment "production": the sandbox would capture them and never send).
"""

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, col, delete

from server import config
from server.db.models.accounts import Account, User
from server.db.models.dashboard import UserToken
from server.db.types import utcnow
from server.domain.errors import DomainError
from server.mail import compose, outbox
from server.services import accounts, web_sessions

PASSWORD_RESET, VERIFY_EMAIL = "password_reset", "verify_email"
LIFETIMES = {PASSWORD_RESET: timedelta(hours=1), VERIFY_EMAIL: timedelta(days=7)}
PATHS = {PASSWORD_RESET: "/reset-password/", VERIFY_EMAIL: "/verify-email/"}


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _issue(session: Session, user: User, purpose: str) -> str:
    session.exec(delete(UserToken).where(col(UserToken.user_id) == user.id, col(UserToken.purpose) == purpose))
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserToken(
            id_hash=_digest(raw), user_id=user.id, purpose=purpose, created_at=now, expires_at=now + LIFETIMES[purpose]
        )
    )
    session.flush()
    return raw


def _valid(session: Session, raw: str, purpose: str) -> UserToken | None:
    found = session.get(UserToken, _digest(raw)) if raw else None
    if found is None or found.purpose != purpose or found.used_at is not None or utcnow() >= found.expires_at:
        return None
    return found


def link(purpose: str, raw: str) -> str:
    return f"{config.active().base_url}{PATHS[purpose]}{raw}"


def _send(session: Session, user: User, kind: str, lang: str, link: str) -> None:
    account = session.get(Account, user.account_id)
    rendered = compose.render(kind, lang, account=account.name if account else "OG Records", link=link)
    outbox.enqueue(
        session,
        account_id=user.account_id,
        environment="production",
        channel=outbox.EMAIL,
        kind=kind,
        recipient=user.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        variables={"user_id": user.id},
    )


def request_password_reset(session: Session, email: str, lang: str = "en") -> None:
    """Email a reset link when a user has this address; nothing (and no different answer) otherwise."""
    user = accounts.find_user_by_email(session, email)
    if user is None:
        return
    raw = _issue(session, user, PASSWORD_RESET)
    _send(session, user, "password_reset", lang, link=link(PASSWORD_RESET, raw))


def password_reset_open(session: Session, raw: str) -> bool:
    """Whether this reset link still works (opening the page does not spend it)."""
    return _valid(session, raw, PASSWORD_RESET) is not None


def reset_password(session: Session, raw: str, password: str) -> User:
    """Set the new password, spend the link and end every session of the user."""
    found = _valid(session, raw, PASSWORD_RESET)
    if found is None:
        raise DomainError("link_expired", "This password reset link expired or was used already.")
    errors = web_sessions.password_errors(password)
    if errors:
        raise DomainError("validation_failed", errors[0].detail, errors=errors)
    user = session.get(User, found.user_id)
    if user is None:  # pragma: no cover - users are never deleted
        raise DomainError("link_expired", "This password reset link expired or was used already.")
    accounts.set_password(session, user, password)
    found.used_at = utcnow()
    session.add(found)
    web_sessions.end_all(session, user.id)
    # Whoever received the reset email controls the address: count that as verified.
    if user.email_verified_at is None:
        user.email_verified_at = found.used_at
    session.flush()
    return user


def send_verification(session: Session, user: User, lang: str = "en") -> None:
    """Email a (new) verification link to the user; earlier ones stop working."""
    raw = _issue(session, user, VERIFY_EMAIL)
    _send(session, user, "verify_email", lang, link=link(VERIFY_EMAIL, raw))


def verify_email(session: Session, raw: str) -> User | None:
    """Mark the user's address verified and spend the link; None when the link expired or was used."""
    found = _valid(session, raw, VERIFY_EMAIL)
    if found is None:
        return None
    user = session.get(User, found.user_id)
    if user is None:  # pragma: no cover - users are never deleted
        return None
    now = utcnow()
    found.used_at = now
    user.email_verified_at = user.email_verified_at or now
    session.add(found)
    session.add(user)
    return user
