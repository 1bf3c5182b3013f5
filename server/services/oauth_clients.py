"""OAuth client registration and redirect-URI matching."""

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from server.db.models.accounts import Account, User
from server.db.models.oauth import OAuthClient, OAuthToken
from server.db.types import utcnow
from server.domain.errors import DomainError, invalid_state, not_found
from server.ids import has_prefix, new_id
from server.principal import Principal
from server.scopes import SCOPES


@dataclass(frozen=True)
class RegisteredClient:
    client: OAuthClient
    secret: str | None  # confidential clients only; shown once


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def register(
    session: Session,
    *,
    account: Account,
    environment: str,
    name: str,
    redirect_uris: list[str],
    public: bool,
    scopes: list[str] | None = None,
) -> RegisteredClient:
    if environment == "production" and not account.production_access:
        raise DomainError("production_access_not_enabled", "This account has no production access yet.")
    if not redirect_uris:
        raise DomainError("validation_failed", "Register at least one redirect URI.")
    for uri in redirect_uris:
        _check_redirect_uri(uri)
    allowed = list(SCOPES) if scopes is None else scopes
    unknown = sorted(set(allowed) - set(SCOPES))
    if unknown:
        raise DomainError("validation_failed", f"Unknown scopes: {', '.join(unknown)}.")
    secret = None if public else "ogcs_" + secrets.token_urlsafe(32)
    client = OAuthClient(
        id=new_id("cli"),
        account_id=account.id,
        environment=environment,
        name=name,
        client_secret_hash=None if secret is None else hash_secret(secret),
        is_public=public,
        redirect_uris=list(redirect_uris),
        allowed_scopes=sorted(set(allowed)),
    )
    session.add(client)
    session.flush()
    return RegisteredClient(client, secret)


def _check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if parts.fragment:
        raise DomainError("validation_failed", f"A redirect URI must not have a fragment: {uri}")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return  # native apps (RFC 8252 §7.3)
    if parts.scheme and parts.scheme not in ("http", "https", "javascript", "data", "file"):
        return  # private-use URI schemes of native apps (RFC 8252 §7.1), e.g. com.example.app:/callback
    raise DomainError("validation_failed", f"Redirect URIs must be https, loopback http or an app scheme: {uri}")


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Exact string match, except that a loopback IP redirect matches on any port (RFC 8252 §7.3)."""
    if hmac.compare_digest(registered, requested):
        return True
    want, got = urlsplit(registered), urlsplit(requested)
    if want.scheme != "http" or got.scheme != "http":
        return False
    if not (_is_loopback(want.hostname) and want.hostname != "localhost"):
        return False
    return (want.hostname, want.path, want.query) == (got.hostname, got.path, got.query) and got.port is not None


def check_secret(client: OAuthClient, secret: str) -> bool:
    if client.client_secret_hash is None:
        return False
    return hmac.compare_digest(client.client_secret_hash, hash_secret(secret))


# The developer's side of their applications (the dashboard): list, rotate the secret, who authorised it.


def list_for(session: Session, principal: Principal) -> list[OAuthClient]:
    statement = select(OAuthClient).where(
        col(OAuthClient.account_id) == principal.account_id,
        col(OAuthClient.environment) == principal.environment,
        col(OAuthClient.revoked_at).is_(None),
    )
    return list(session.exec(statement.order_by(col(OAuthClient.id).desc())).all())


def get_for(session: Session, principal: Principal, client_id: str) -> OAuthClient:
    client = session.get(OAuthClient, client_id) if has_prefix(client_id, "cli") else None
    if (
        client is None
        or client.revoked_at is not None
        or (client.account_id, client.environment) != (principal.account_id, principal.environment)
    ):
        raise not_found("OAuth client", client_id)
    return client


def rotate_secret(session: Session, principal: Principal, client_id: str) -> str:
    """A new client secret (shown once); the old one stops working at once. Public clients have none."""
    client = get_for(session, principal, client_id)
    if client.is_public:
        raise invalid_state("OAuth client", "public", "A public client has no secret: it authenticates with PKCE.")
    secret = "ogcs_" + secrets.token_urlsafe(32)
    client.client_secret_hash = hash_secret(secret)
    client.updated_at = utcnow()
    session.add(client)
    session.flush()
    return secret


@dataclass(frozen=True)
class Authorisation:
    """A person who authorised the application and still holds a live grant."""

    user_id: str
    email: str
    scopes: list[str]
    authorised_at: datetime  # the oldest live token's creation
    last_issued_at: datetime


def authorisations(session: Session, client: OAuthClient) -> list[Authorisation]:
    now = utcnow()
    live = session.exec(
        select(OAuthToken, User)
        .join(User, col(User.id) == col(OAuthToken.user_id))
        .where(
            col(OAuthToken.client_id) == client.id,
            col(OAuthToken.revoked_at).is_(None),
            col(OAuthToken.rotated_at).is_(None),
            or_(
                col(OAuthToken.access_expires_at) > now,
                and_(col(OAuthToken.refresh_expires_at).is_not(None), col(OAuthToken.refresh_expires_at) > now),
            ),
        )
        .order_by(col(OAuthToken.created_at))
    ).all()
    by_user: dict[str, Authorisation] = {}
    for token, user in live:
        seen = by_user.get(user.id)
        scopes = sorted(set(token.scope.split()) | set(seen.scopes if seen else []))
        by_user[user.id] = Authorisation(
            user_id=user.id,
            email=user.email,
            scopes=scopes,
            authorised_at=seen.authorised_at if seen else token.created_at,
            last_issued_at=token.created_at,
        )
    return list(by_user.values())


def revoke_user(session: Session, client: OAuthClient, user_id: str) -> int:
    """Revoke every token the application holds for this person: its access tokens stop working on the next
    request and its refresh tokens can no longer be used. Returns the number of tokens revoked."""
    result = session.exec(
        update(OAuthToken)
        .where(
            col(OAuthToken.client_id) == client.id,
            col(OAuthToken.user_id) == user_id,
            col(OAuthToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)
