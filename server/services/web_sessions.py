"""Dashboard sign-up, sign-in and the server-side sessions behind the browser's cookie.

The cookie carries 256 random bits; the table keeps only their SHA-256, so reading the table signs no one in.
A session ends after `IDLE_TIMEOUT` without a request or `ABSOLUTE_TIMEOUT` after sign-in, whichever is first, and
at once on sign-out. Signing in always starts a new session id (no fixation).
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, delete, or_

from server.db.models.accounts import Account, User
from server.db.models.dashboard import WebSession
from server.db.types import utcnow
from server.domain.errors import DomainError, FieldError
from server.principal import Principal
from server.scopes import SCOPES, effective
from server.services import accounts

IDLE_TIMEOUT = timedelta(hours=12)
ABSOLUTE_TIMEOUT = timedelta(days=7)
# Touching last_seen_at on every page view would write on every read; once a minute is precise enough.
_SEEN_RESOLUTION = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # a longer one is no stronger, and hashing megabytes is work an attacker could order
KINDS = ("artist", "label")
ENVIRONMENTS = ("sandbox", "production")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a dashboard page: the user, their account and the environment the switch is on."""

    user: User
    account: Account
    web_session: WebSession

    @property
    def environment(self) -> str:
        return self.web_session.environment

    def principal(self) -> Principal:
        """The person acts on their own account with every scope, in the environment the switch shows: the
        dashboard calls the same services as the API with this principal."""
        return Principal(
            account_id=self.account.id,
            environment=self.environment,
            scopes=effective(list(SCOPES)),
            credential_id=self.user.id,
            kind="dashboard",
            plan=self.account.plan,
        )


def sign_up(session: Session, *, name: str, email: str, password: str, kind: str) -> User:
    """A new account (with what every new account gets, see `accounts.create_account`) and its first user."""
    errors = []
    if not name.strip():
        errors.append(FieldError("required", "/name", "Enter a name for the account."))
    if not _EMAIL.match(email.strip()):
        errors.append(FieldError("invalid_format", "/email", "Enter an email address like name@example.com."))
    errors.extend(password_errors(password))
    if kind not in KINDS:
        errors.append(FieldError("invalid_value", "/kind", "Choose artist or label."))
    if errors:
        raise DomainError("validation_failed", errors[0].detail, errors=errors)
    _account, user, _password = accounts.create_account(
        session, name=name.strip(), email=email.strip(), password=password, kind=kind
    )
    return user


def password_errors(password: str) -> list[FieldError]:
    """The password rules of sign-up and of a password reset."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [FieldError("too_short", "/password", f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [FieldError("too_long", "/password", f"Use a password of at most {MAX_PASSWORD_LENGTH} characters.")]
    return []


def start(session: Session, user: User) -> str:
    """A new session for the user; returns the raw id for the cookie (never stored)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    purge_expired(session)  # sign-ins are rare enough to carry the cleanup; nothing else has to run on a timer
    user.last_login_at = now
    session.add(user)
    session.add(
        WebSession(
            id_hash=_digest(raw),
            user_id=user.id,
            account_id=user.account_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_TIMEOUT,
        )
    )
    session.flush()
    return raw


def viewer(session: Session, raw: str) -> Viewer | None:
    """The signed-in viewer behind a cookie value, or None (unknown, idle too long, expired, signed out)."""
    if not raw:
        return None
    found = session.get(WebSession, _digest(raw))
    now = utcnow()
    if found is None:
        return None
    if now >= found.expires_at or now - found.last_seen_at >= IDLE_TIMEOUT:
        session.delete(found)
        return None
    user = session.get(User, found.user_id)
    account = session.get(Account, found.account_id)
    if user is None or account is None:  # pragma: no cover - users and accounts are never deleted
        return None
    if now - found.last_seen_at >= _SEEN_RESOLUTION:
        found.last_seen_at = now
        session.add(found)
    return Viewer(user, account, found)


def end(session: Session, raw: str) -> None:
    """Sign out: the session stops working at once, on every server process."""
    session.exec(delete(WebSession).where(col(WebSession.id_hash) == _digest(raw)))


def end_all(session: Session, user_id: str) -> None:
    """Every session of the user ends (after a password reset: whoever knew the old password is signed out)."""
    session.exec(delete(WebSession).where(col(WebSession.user_id) == user_id))


def switch_environment(session: Session, web_session: WebSession, environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise DomainError("validation_failed", "Choose sandbox or production.")
    web_session.environment = environment
    session.add(web_session)


def purge_expired(session: Session) -> int:
    """Delete every session past its absolute or idle timeout (of any user)."""
    now = utcnow()
    expired = or_(col(WebSession.expires_at) <= now, col(WebSession.last_seen_at) <= now - IDLE_TIMEOUT)
    result = session.exec(delete(WebSession).where(expired))
    return int(result.rowcount or 0)
